// The table's columns: what each shows, how wide it is, and which to drop
// first when the terminal is narrow. fitColumns keeps the most important
// columns that fit, in their display order, and gives the rest of the width
// to the name.

import type { SortKey } from './sort.js';

export const COLUMN_IDS = [
  'name',
  'instance',
  'runtime',
  'image',
  'cpu',
  'cpuBar',
  'quota',
  'throttled',
  'mem',
  'memPct',
  'ioRead',
  'ioWrite',
  'netRx',
  'netTx',
  'pids',
  'psi',
] as const;
export type ColumnId = (typeof COLUMN_IDS)[number];

export interface Column {
  id: ColumnId;
  title: string;
  /** Cells (the name's minimum; it takes what is left). */
  width: number;
  align: 'left' | 'right';
  sort: SortKey;
  /** What the help screen says the column shows. */
  description: string;
}

export const COLUMNS: Record<ColumnId, Column> = {
  name: {
    id: 'name',
    title: 'NAME',
    width: 24,
    align: 'left',
    sort: 'name',
    description: 'container name, short id or cgroup path',
  },
  instance: {
    id: 'instance',
    title: 'INSTANCE',
    width: 21,
    align: 'left',
    sort: 'path',
    description: 'fleet view: the host (Prometheus instance label)',
  },
  runtime: {
    id: 'runtime',
    title: 'RUNTIME',
    width: 10,
    align: 'left',
    sort: 'runtime',
    description: 'docker, podman, containerd, kubernetes, lxc, systemd, ...',
  },
  image: {
    id: 'image',
    title: 'IMAGE',
    width: 20,
    align: 'left',
    sort: 'image',
    description: 'the image the container was created from (docker ps IMAGE)',
  },
  cpu: { id: 'cpu', title: 'CPU%', width: 6, align: 'right', sort: 'cpu', description: 'CPU use, 100 = one core' },
  cpuBar: {
    id: 'cpuBar',
    title: '',
    width: 10,
    align: 'left',
    sort: 'cpu',
    description: 'CPU use as a bar (full = all cores, or the quota)',
  },
  quota: {
    id: 'quota',
    title: 'QUOTA%',
    width: 6,
    align: 'right',
    sort: 'quota',
    description: 'CPU use in percent of the CPU quota',
  },
  throttled: {
    id: 'throttled',
    title: 'THROT%',
    width: 6,
    align: 'right',
    sort: 'throttled',
    description: 'share of CFS periods that were throttled',
  },
  mem: {
    id: 'mem',
    title: 'MEM/LIMIT',
    width: 15,
    align: 'right',
    sort: 'mem',
    description: 'memory working set / limit',
  },
  memPct: {
    id: 'memPct',
    title: 'MEM%',
    width: 5,
    align: 'right',
    sort: 'memPct',
    description: 'working set in percent of the limit',
  },
  ioRead: {
    id: 'ioRead',
    title: 'IO-R/s',
    width: 7,
    align: 'right',
    sort: 'ioRead',
    description: 'block io read per second',
  },
  ioWrite: {
    id: 'ioWrite',
    title: 'IO-W/s',
    width: 7,
    align: 'right',
    sort: 'ioWrite',
    description: 'block io written per second',
  },
  netRx: {
    id: 'netRx',
    title: 'NET-RX',
    width: 7,
    align: 'right',
    sort: 'netRx',
    description: 'network received per second (own namespace)',
  },
  netTx: {
    id: 'netTx',
    title: 'NET-TX',
    width: 7,
    align: 'right',
    sort: 'netTx',
    description: 'network sent per second (own namespace)',
  },
  pids: { id: 'pids', title: 'PIDS', width: 11, align: 'right', sort: 'pids', description: 'tasks / pids limit' },
  psi: {
    id: 'psi',
    title: 'PSI-M',
    width: 5,
    align: 'right',
    sort: 'psi',
    description: 'memory pressure: some avg10 in percent',
  },
};

/** Most important first: fitting drops from the end of this list. */
export const IMPORTANCE: ColumnId[] = [
  'name',
  'instance',
  'cpu',
  'mem',
  'memPct',
  'ioRead',
  'ioWrite',
  'throttled',
  'quota',
  'pids',
  'runtime',
  'netRx',
  'netTx',
  'psi',
  'cpuBar',
  'image',
];

export const GAP = 1;

export interface FittedColumn extends Column {
  /** First cell of the column on the line. */
  x: number;
  /** Cells actually given. */
  cellWidth: number;
}

/** The columns that fit in `width` cells, dropping the least important first; the name takes the slack. */
export function fitColumns(width: number, options: { instance?: boolean; image?: boolean } = {}): FittedColumn[] {
  // The instance column is the fleet view's only; the image column only when a row has an image.
  const kept = new Set<ColumnId>(
    IMPORTANCE.filter((id) => (id !== 'instance' || options.instance) && (id !== 'image' || options.image)),
  );
  const order = [...kept];
  const total = (): number => {
    let sum = 0;
    for (const id of kept) sum += COLUMNS[id].width;
    return sum + GAP * (kept.size - 1);
  };
  for (let i = order.length - 1; i > 0 && total() > width; i--) kept.delete(order[i]);
  const slack = Math.max(0, width - total());
  const out: FittedColumn[] = [];
  let x = 0;
  for (const id of COLUMN_IDS) {
    if (!kept.has(id)) continue;
    const col = COLUMNS[id];
    const cellWidth = id === 'name' ? Math.max(1, Math.min(col.width + slack, width)) : col.width;
    out.push({ ...col, x, cellWidth });
    x += cellWidth + GAP;
  }
  return out;
}

/** The column under screen column x of the table line, if any. */
export function columnAt(columns: FittedColumn[], x: number): FittedColumn | null {
  for (const c of columns) if (x >= c.x && x < c.x + c.cellWidth + GAP) return c;
  return null;
}
