// The cgroup files tstop reads, declared once by the collectors: which
// hierarchy a file lives in (a v1 controller's, a named one, or the unified
// v2 one) and its name. Each declared file gets a slot number so a cgroup's
// open descriptors live in one Int32Array.

export type HierarchyKey = string; // a v1 controller ("memory"), "name=systemd" or "unified"

/**
 * counter: changes all the time (usage, statistics): read every tick, on a
 * descriptor kept open. setting: changes only when someone changes it
 * (limits, weights, cpusets, device rules): re-read every few seconds, at
 * rescans and when the limiter says so, and served from memory in between.
 */
export type FileKind = 'counter' | 'setting' | 'execution' | 'gate' | 'population' | 'resting' | 'written' | 'held';

/** A number per kind, for the per-read tests in the tree (a byte array by slot, not the spec's string). */
export const FILE_KIND_CODES: Readonly<Record<FileKind, number>> = {
  counter: 0,
  setting: 1,
  execution: 2,
  gate: 3,
  population: 4,
  resting: 5,
  written: 6,
  held: 7,
};

export interface CgroupFileSpec {
  readonly slot: number;
  readonly hierarchy: HierarchyKey;
  readonly name: string;
  readonly kind: FileKind;
  /** A resting file's test that its bytes are at rest (see restingFile). */
  readonly atRest?: (buf: Buffer, start: number, end: number) => boolean;
  /** A held file's rule (see heldFile). */
  readonly held?: HeldRule;
}

/** When a held file's value cannot move (see heldFile). */
export interface HeldRule {
  /** The file whose write (seen by the cgroup directory's inotify watch) may set it moving. */
  readonly by: string;
  /** cgroup: a write in the same cgroup; subtree: in it or in any cgroup above it. */
  readonly scope: 'cgroup' | 'subtree';
  /** Whose bytes tell that it holds: a setting of the same cgroup and hierarchy; by default the file's own. */
  readonly of?: CgroupFileSpec;
  /** The bytes say the value stands still. */
  readonly holds: (buf: Buffer, start: number, end: number) => boolean;
}

const registry: CgroupFileSpec[] = [];

/** Declares a file a collector reads; call at module load. */
export function cgroupFile(
  hierarchy: HierarchyKey,
  name: string,
  kind: FileKind = 'counter',
  atRest?: CgroupFileSpec['atRest'],
  held?: HeldRule,
): CgroupFileSpec {
  const existing = registry.find((f) => f.hierarchy === hierarchy && f.name === name);
  if (existing) return existing;
  const spec: CgroupFileSpec = { slot: registry.length, hierarchy, name, kind, atRest, held };
  registry.push(spec);
  return spec;
}

export function registeredFiles(): readonly CgroupFileSpec[] {
  return registry;
}

export const UNIFIED = 'unified';

/**
 * Declares a counter that moves only when a task of the cgroup (or of one
 * below it) runs: a fork (pids.peak), a charge (memory.max_usage_in_bytes,
 * failcnt, OOM kills), an IO submission (v1 blkio: writeback is not charged
 * to the cgroup there), user/system ticks. While the cgroup's CPU usage
 * (its 'gate' file) has not moved since the last tick, nothing in it ran, so
 * such a file is served from its last bytes instead of being read
 * (src/cgroupfs/tree.ts, beginTick).
 */
export function executionFile(hierarchy: HierarchyKey, name: string): CgroupFileSpec {
  return cgroupFile(hierarchy, name, 'execution');
}

/** Declares a cgroup's CPU usage counter, read first in each tick to tell which cgroups ran (see executionFile). */
export function gateFile(hierarchy: HierarchyKey, name: string): CgroupFileSpec {
  return cgroupFile(hierarchy, name, 'gate');
}

/** Declares a setting file (see FileKind). */
export function settingFile(hierarchy: HierarchyKey, name: string): CgroupFileSpec {
  return cgroupFile(hierarchy, name, 'setting');
}

/**
 * Declares v2's cgroup.events: the tree notes from its "populated" line
 * whether the cgroup had any task in it or below it (see restingFile). The
 * kernel notifies every change of the file (inotify IN_MODIFY), so where it
 * is watched it is served from its last bytes until a notification
 * (src/cgroupfs/tree.ts, readPopulation; docs/architecture.md).
 */
export function populationFile(hierarchy: HierarchyKey, name: string): CgroupFileSpec {
  return cgroupFile(hierarchy, name, 'population');
}

/**
 * Declares a v2 file whose value moves only while a task is in the cgroup
 * or below it, except that it may drift toward a resting value (PSI: no
 * stall without tasks; its averages decay toward 0.00 and then stay). While
 * the cgroup stays empty (cgroup.events said "populated 0" at the last tick
 * and at this one, and inotify saw no change of it in between) and the
 * file's last bytes were at rest (atRest), they are served instead of a read
 * (src/cgroupfs/tree.ts, beginTick).
 */
export function restingFile(
  hierarchy: HierarchyKey,
  name: string,
  atRest: (buf: Buffer, start: number, end: number) => boolean,
): CgroupFileSpec {
  return cgroupFile(hierarchy, name, 'resting', atRest);
}

/**
 * Declares a file whose value changes only when someone writes it (v2's
 * cgroup.freeze: "asked to freeze"). Where inotify watches it (a write
 * queues IN_MODIFY before write() returns), it is served from its last
 * bytes until a write is seen; elsewhere it is read every tick.
 */
export function writtenFile(hierarchy: HierarchyKey, name: string): CgroupFileSpec {
  return cgroupFile(hierarchy, name, 'written');
}

/**
 * Declares a counter or state that cannot move while its rule holds, until
 * a write inotify reports (the cgroup directory's IN_MODIFY, as for the
 * settings: settings.ts). v1 cpu.stat: the throttling counters move only
 * under a CFS quota, set by writing cpu.cfs_quota_us (the write itself
 * settles them: a throttled queue is unthrottled and its time added before
 * write() returns). v1 freezer.state: THAWED turns into anything else only
 * by a write of freezer.state in the cgroup or above it. Where every write
 * that matters is seen (the directories watched, settings by event) and the
 * rule holds on the kept bytes, they are served and the file is left out of
 * the batch; the first write seen makes the next tick read it
 * (src/cgroupfs/held.ts).
 */
export function heldFile(hierarchy: HierarchyKey, name: string, rule: HeldRule): CgroupFileSpec {
  return cgroupFile(hierarchy, name, 'held', undefined, rule);
}
