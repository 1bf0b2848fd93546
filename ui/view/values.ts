// The numbers one table row shows, taken from a ContainerSnapshot (or summed
// for a tree node that has no cgroup of its own). Columns, sorting, colour
// thresholds and the tree all work on these, never on the snapshot directly.

import { runtimeDrift } from '../../src/model/drift.js';
import type { ContainerSnapshot, Runtime } from '../../src/model/types.js';

export interface RowValues {
  cpuPercent: number | null;
  quotaPercent: number | null;
  quotaCores: number | null;
  throttledPercent: number | null;
  /** Working set (usage minus inactive file), else usage. */
  memBytes: number | null;
  memLimitBytes: number | null;
  memHighBytes: number | null;
  ioReadBps: number | null;
  ioWriteBps: number | null;
  netRxBps: number | null;
  netTxBps: number | null;
  pids: number | null;
  pidsLimit: number | null;
  psiMemSome10: number | null;
  frozen: boolean;
  /** The cgroup differs from the runtime's own record (a tstop limit or freeze docker restart would undo). */
  runtimeDrift: boolean;
}

export const EMPTY_VALUES: RowValues = {
  cpuPercent: null,
  quotaPercent: null,
  quotaCores: null,
  throttledPercent: null,
  memBytes: null,
  memLimitBytes: null,
  memHighBytes: null,
  ioReadBps: null,
  ioWriteBps: null,
  netRxBps: null,
  netTxBps: null,
  pids: null,
  pidsLimit: null,
  psiMemSome10: null,
  frozen: false,
  runtimeDrift: false,
};

/** Network bytes per second over the container's interfaces but lo (a row's, and a chart's, NET figures). */
export function sumNetwork(c: ContainerSnapshot, key: 'rxBytesPerSecond' | 'txBytesPerSecond'): number | null {
  if (!c.network) return null;
  let total: number | null = null;
  for (const i of c.network) {
    if (i.interface === 'lo') continue;
    const v = i[key];
    if (v !== null) total = (total ?? 0) + v;
  }
  return total;
}

// Snapshots are not changed once made: the history, the rows and the detail
// view of one tick share one RowValues per container.
const cache = new WeakMap<ContainerSnapshot, RowValues>();

/** The row's numbers of a container (computed once per container object; treat as read-only). */
export function rowValues(c: ContainerSnapshot): RowValues {
  let v = cache.get(c);
  if (!v) {
    v = computeRowValues(c);
    cache.set(c, v);
  }
  return v;
}

function computeRowValues(c: ContainerSnapshot): RowValues {
  return {
    cpuPercent: c.cpu?.percent ?? null,
    quotaPercent: c.cpu?.quotaPercent ?? null,
    quotaCores: c.cpu?.quotaCores ?? null,
    throttledPercent: c.cpu?.throttledPercent ?? null,
    memBytes: memBytesOf(c),
    memLimitBytes: c.memory?.limitBytes ?? null,
    memHighBytes: c.memory?.highBytes ?? null,
    ioReadBps: c.io?.readBytesPerSecond ?? null,
    ioWriteBps: c.io?.writeBytesPerSecond ?? null,
    netRxBps: sumNetwork(c, 'rxBytesPerSecond'),
    netTxBps: sumNetwork(c, 'txBytesPerSecond'),
    pids: c.pids?.current ?? (c.processes.length > 0 || c.pids ? c.processes.length : null),
    pidsLimit: c.pids?.limit ?? null,
    psiMemSome10: c.pressure?.memory?.some?.avg10 ?? null,
    frozen: c.freezer === 'frozen',
    runtimeDrift: runtimeDrift(c).length > 0,
  };
}

/** The memory a row shows: the working set (usage minus inactive file), else usage. */
export function memBytesOf(c: ContainerSnapshot): number | null {
  return c.memory?.workingSetBytes ?? c.memory?.usageBytes ?? null;
}

/** Memory use against the limit in percent; null without a limit. */
export function memPercent(v: RowValues): number | null {
  return v.memBytes === null || v.memLimitBytes === null || v.memLimitBytes <= 0
    ? null
    : (v.memBytes / v.memLimitBytes) * 100;
}

/** Total io bytes per second (read + write). */
export function ioTotal(v: RowValues): number | null {
  return v.ioReadBps === null && v.ioWriteBps === null ? null : (v.ioReadBps ?? 0) + (v.ioWriteBps ?? 0);
}

export function netTotal(v: RowValues): number | null {
  return v.netRxBps === null && v.netTxBps === null ? null : (v.netRxBps ?? 0) + (v.netTxBps ?? 0);
}

/**
 * The name a row shows: the container's name, a 64-hex id shortened to 12
 * like docker ps, and the cgroup path for plain cgroups.
 */
export function displayName(c: Pick<ContainerSnapshot, 'name' | 'id' | 'containerId'>): string {
  if (/^[0-9a-f]{64}$/.test(c.name)) return c.name.slice(0, 12);
  return c.name || c.id;
}

export function runtimeLabel(r: Runtime): string {
  return r === 'cgroup' ? '-' : r;
}
