// What a focused collection (the dashboard's CollectFocus) carries over from
// an older tick for the cgroups out of its focus, by collector, and how
// pids.current read now settles part of it (src/collect/collector.ts reads).

import { CGROUP_COLLECTORS } from '../../collectors/registry.js';
import type { ContainerSnapshot } from '../model/types.js';

/**
 * Fields a focused collection may carry over for cgroups off the reader's
 * screen, for at most slowRefreshMs (for cgroups no row shows, as long as
 * they stay hidden): all but pids and CPU, which are read every tick. CPU is the default sort and every sort's tie-break; pids.current
 * counts every task below the cgroup, so it says whether the cgroup holds
 * processes (what the table shows by default) without its process list
 * (see settleFromPids). The dear files are memory.stat, per-device io, the
 * three PSI files, hugetlb per page size, cgroup.procs (an open per read on
 * v1) and the freezer's one to three files.
 */
export const SLOW_FIELDS: ReadonlySet<keyof ContainerSnapshot> = new Set([
  'processes',
  'memory',
  'io',
  'pressure',
  'hugetlb',
  'devices',
  'freezer',
  'populated',
]);
export const NOTHING_STALE: readonly (keyof ContainerSnapshot)[] = [];
/** Shared by every cgroup pids.current says is empty (snapshots are read-only). */
export const NO_PROCESSES: number[] = [];

/**
 * A cgroup off screen whose process list and "populated" were carried over:
 * its pids.current, read now, settles the list when it is 0 (no process at
 * all) and "populated" always. Without pids the list itself was read (see
 * collectNode), and "populated" follows it. Returns the fields still carried.
 */
export function settleFromPids(
  out: ContainerSnapshot,
  carried: (keyof ContainerSnapshot)[],
): (keyof ContainerSnapshot)[] {
  const tasks = out.pids?.current ?? null;
  const listCarried = carried.includes('processes');
  let left = carried;
  if (tasks === 0 && listCarried) {
    out.processes = NO_PROCESSES;
    left = left.filter((f) => f !== 'processes');
  }
  if (carried.includes('populated') && (tasks !== null || !listCarried)) {
    // Descendants' processes are added by markPopulated (pids.current already counts them).
    out.populated = tasks === null ? out.processes.length > 0 : tasks > 0;
    left = left.filter((f) => f !== 'populated');
  }
  return left;
}

/** How a cgroup is read this tick: 0 whole; out of focus, off screen or hidden (no row shows it). */
export const CARRIED = { offScreen: 1, hidden: 2 } as const;

/** Per CARRIED kind, per collector (CGROUP_COLLECTORS order): 1 where its fields are carried over. */
export function carriedTables(): Uint8Array[] {
  return [0, CARRIED.offScreen, CARRIED.hidden].map(() => new Uint8Array(CGROUP_COLLECTORS.length));
}

/**
 * Fills the tables for a tick: off screen, the collectors whose fields are
 * all slow and none of them `fresh` (what the reader sorts by); hidden, every
 * slow one (no row to order). Returns per kind the kept-open file slots
 * (slotOwner: slot to collector) those collectors read, left out of the batch.
 */
export function markCarried(
  tables: Uint8Array[],
  fresh: readonly (keyof ContainerSnapshot)[],
  slotOwner: ArrayLike<number>,
): number[][] {
  CGROUP_COLLECTORS.forEach((c, i) => {
    const slow = c.fields.every((f) => SLOW_FIELDS.has(f));
    tables[CARRIED.hidden][i] = slow ? 1 : 0;
    tables[CARRIED.offScreen][i] = slow && !c.fields.some((f) => fresh.includes(f)) ? 1 : 0;
  });
  const slots: number[][] = [[], [], []];
  for (let slot = 0; slot < slotOwner.length; slot++) {
    const owner = slotOwner[slot];
    if (owner < 0) continue;
    if (tables[CARRIED.offScreen][owner]) slots[CARRIED.offScreen].push(slot);
    if (tables[CARRIED.hidden][owner]) slots[CARRIED.hidden].push(slot);
  }
  return slots;
}
