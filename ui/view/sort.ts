// Sort orders of the table: each key reads one number (or text) from a row;
// numbers sort highest first and text A-Z unless reversed; unknown values
// (null) always go last; ties fall back to CPU, memory, then the id, so
// the order is stable from tick to tick.

import { ioTotal, memPercent, netTotal, type RowValues } from './values.js';

export const SORT_KEYS = [
  'cpu',
  'mem',
  'memPct',
  'io',
  'ioRead',
  'ioWrite',
  'net',
  'netRx',
  'netTx',
  'pids',
  'quota',
  'throttled',
  'psi',
  'name',
  'path',
  'runtime',
  'image',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export const SORT_LABELS: Record<SortKey, string> = {
  cpu: 'CPU %',
  mem: 'memory (working set)',
  memPct: 'memory % of limit',
  io: 'io read + write',
  ioRead: 'io read',
  ioWrite: 'io write',
  net: 'network rx + tx',
  netRx: 'network rx',
  netTx: 'network tx',
  pids: 'pids',
  quota: 'CPU % of quota',
  throttled: 'throttled %',
  psi: 'PSI memory some avg10',
  name: 'name',
  path: 'cgroup path',
  runtime: 'runtime',
  image: 'image',
};

/** What --sort accepts besides the key names. */
const ALIASES: Record<string, SortKey> = {
  memory: 'mem',
  'mem%': 'memPct',
  mempct: 'memPct',
  'io-read': 'ioRead',
  'io-write': 'ioWrite',
  network: 'net',
  'net-rx': 'netRx',
  'net-tx': 'netTx',
  tasks: 'pids',
  id: 'path',
};

export function parseSortKey(text: string): SortKey | null {
  const t = text.trim();
  const exact = SORT_KEYS.find((k) => k === t);
  if (exact) return exact;
  const lower = t.toLowerCase();
  return SORT_KEYS.find((k) => k.toLowerCase() === lower) ?? ALIASES[lower] ?? null;
}

export interface Sortable {
  id: string;
  name: string;
  runtime: string;
  /** The container's image; '' for cgroups without one. */
  image: string;
  values: RowValues;
}

function numberOf(key: SortKey, v: RowValues): number | null {
  switch (key) {
    case 'cpu':
      return v.cpuPercent;
    case 'mem':
      return v.memBytes;
    case 'memPct':
      return memPercent(v);
    case 'io':
      return ioTotal(v);
    case 'ioRead':
      return v.ioReadBps;
    case 'ioWrite':
      return v.ioWriteBps;
    case 'net':
      return netTotal(v);
    case 'netRx':
      return v.netRxBps;
    case 'netTx':
      return v.netTxBps;
    case 'pids':
      return v.pids;
    case 'quota':
      return v.quotaPercent;
    case 'throttled':
      return v.throttledPercent;
    case 'psi':
      return v.psiMemSome10;
    default:
      return null;
  }
}

function textOf(key: SortKey, r: Sortable): string | null {
  switch (key) {
    case 'name':
      return r.name;
    case 'path':
      return r.id;
    case 'runtime':
      return r.runtime;
    case 'image':
      return r.image;
    default:
      return null;
  }
}

export function isTextKey(key: SortKey): boolean {
  return key === 'name' || key === 'path' || key === 'runtime' || key === 'image';
}

function compareNullable(a: number | null, b: number | null, descending: boolean): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return descending ? b - a : a - b;
}

function compareIds(a: Sortable, b: Sortable): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Whether the rows run from the largest down: numbers unless reversed, text (A-Z) only when reversed. */
export function sortsDescending(key: SortKey, reverse: boolean): boolean {
  return isTextKey(key) ? reverse : !reverse;
}

/**
 * A comparator for the key. Unknown values (null) go last; ties fall back to
 * CPU, memory, then the id; `reverse` turns the whole order around except
 * that unknown values stay last.
 */
export function comparator(key: SortKey, reverse = false): (a: Sortable, b: Sortable) => number {
  const sign = reverse ? -1 : 1;
  const ties = (a: Sortable, b: Sortable): number =>
    compareNullable(a.values.cpuPercent, b.values.cpuPercent, true) ||
    compareNullable(a.values.memBytes, b.values.memBytes, true) ||
    compareIds(a, b);
  if (isTextKey(key)) {
    return (a, b) => {
      const x = textOf(key, a) ?? '';
      const y = textOf(key, b) ?? '';
      return sign * ((x < y ? -1 : x > y ? 1 : 0) || compareIds(a, b));
    };
  }
  return (a, b) => {
    const x = numberOf(key, a.values);
    const y = numberOf(key, b.values);
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1;
      return sign * ties(a, b);
    }
    return sign * (y - x || ties(a, b));
  };
}
