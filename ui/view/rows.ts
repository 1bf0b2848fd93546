// Rows of the table: one per container (flat view) or per cgroup in the
// hierarchy (tree view), and how each row's cells read at a given width,
// with the colour thresholds.

import { instanceOf, type ContainerSnapshot } from '../../src/model/types.js';
import { formatBytes, formatCount } from '../../src/util/format.js';
import { GAP, type FittedColumn } from './columns.js';
import { comparator, sortsDescending, type SortKey } from './sort.js';
import { bar, fit, safeText, type Glyphs, type Level, type Span } from './text.js';
import { displayName, memPercent, rowValues, runtimeLabel, type RowValues } from './values.js';

export interface Row {
  /** The cgroup path: the row's identity across ticks. */
  id: string;
  /** Display name, already safe to print. */
  name: string;
  runtime: string;
  /** Image name, already safe to print; '' without one. */
  image: string;
  values: RowValues;
  /** null for a tree node that is not in the snapshot (an intermediate cgroup). */
  container: ContainerSnapshot | null;
  /** Tree only: guides drawn before the name ("│ ├─"), and the node's state. */
  guide: string;
  hasChildren: boolean;
  expanded: boolean;
  /** An OOM kill happened in this cgroup recently. */
  oomRecent: boolean;
}

export interface RowContext {
  glyphs: Glyphs;
  hostCpus: number;
  /** Ids with an OOM kill within the recent window. */
  oomRecent?: ReadonlySet<string>;
  /** The fleet view: rows carry an instance (host) column. */
  instances?: boolean;
}

export function rowFromContainer(c: ContainerSnapshot, ctx: RowContext): Row {
  return {
    id: c.id,
    name: safeText(displayName(c), ctx.glyphs.unicode),
    runtime: runtimeLabel(c.runtime),
    image: safeText(c.image ?? '', ctx.glyphs.unicode),
    values: rowValues(c),
    container: c,
    guide: '',
    hasChildren: false,
    expanded: false,
    oomRecent: ctx.oomRecent?.has(c.id) ?? false,
  };
}

/** The flat view: the given containers (already selected and filtered) as rows, sorted. */
export function flatRows(containers: ContainerSnapshot[], ctx: RowContext, sort: SortKey, reverse: boolean): Row[] {
  const rows = containers.map((c) => rowFromContainer(c, ctx));
  rows.sort(comparator(sort, reverse));
  return rows;
}

// Colour thresholds (percent). Exported so the help screen and tests agree with the table.
export const THRESHOLDS = {
  /** CPU against the quota, or against all host CPUs without one. */
  cpu: { warn: 75, crit: 90 },
  throttled: { warn: 1, crit: 25 },
  mem: { warn: 75, crit: 90 },
  pids: { warn: 75, crit: 90 },
  psi: { warn: 10, crit: 40 },
} as const;

function level(value: number | null, t: { warn: number; crit: number }): Level {
  if (value === null) return 'normal';
  return value >= t.crit ? 'crit' : value >= t.warn ? 'warn' : 'normal';
}

function pct(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '-';
  return v >= 999.95 ? v.toFixed(0) : v.toFixed(1);
}

/** CPU use as a fraction of what it may use: the quota, else every host CPU. */
export function cpuFraction(v: RowValues, hostCpus: number): number | null {
  if (v.cpuPercent === null) return null;
  const cores = v.quotaCores ?? hostCpus;
  return cores > 0 ? v.cpuPercent / (cores * 100) : null;
}

function memCell(v: RowValues, width: number): string {
  if (v.memLimitBytes === null) return formatBytes(v.memBytes);
  const full = `${formatBytes(v.memBytes)}/${formatBytes(v.memLimitBytes)}`;
  return full.length <= width ? full : formatBytes(v.memBytes);
}

function pidsCell(v: RowValues, width: number): string {
  if (v.pids === null) return '-';
  if (v.pidsLimit === null) return String(v.pids);
  const full = `${v.pids}/${v.pidsLimit}`;
  return full.length <= width ? full : `${formatCount(v.pids)}/${formatCount(v.pidsLimit)}`;
}

/** The text and colour of one cell, before fitting. */
export function cell(row: Row, col: FittedColumn, ctx: RowContext): Span {
  const v = row.values;
  switch (col.id) {
    case 'name': {
      const marker = row.hasChildren ? (row.expanded ? ctx.glyphs.expanded : ctx.glyphs.collapsed) + ' ' : '';
      const frozen = v.frozen ? ' [frozen]' : '';
      // docker restart would undo what this cgroup has now (src/model/drift.ts).
      // ASCII on every terminal: blessed draws '≠' as a line-drawing glyph on some.
      const drift = v.runtimeDrift ? ' [!=docker]' : '';
      const lvl: Level = row.oomRecent ? 'crit' : v.frozen ? 'accent' : v.runtimeDrift ? 'warn' : 'normal';
      return { text: row.guide + marker + row.name + frozen + drift, level: lvl };
    }
    case 'instance':
      return {
        text: safeText(row.container ? (instanceOf(row.container) ?? '') : '', ctx.glyphs.unicode),
        level: 'normal',
      };
    case 'runtime':
      return { text: row.runtime, level: 'normal' };
    case 'image':
      return { text: row.image, level: 'normal' };
    case 'cpu': {
      const f = cpuFraction(v, ctx.hostCpus);
      return { text: pct(v.cpuPercent), level: level(f === null ? null : f * 100, THRESHOLDS.cpu) };
    }
    case 'cpuBar': {
      const f = cpuFraction(v, ctx.hostCpus);
      const inner = Math.max(0, col.cellWidth - 2);
      return { text: `[${bar(f, inner, ctx.glyphs.bar)}]`, level: level(f === null ? null : f * 100, THRESHOLDS.cpu) };
    }
    case 'quota':
      return { text: pct(v.quotaPercent), level: level(v.quotaPercent, THRESHOLDS.cpu) };
    case 'throttled':
      return { text: pct(v.throttledPercent), level: level(v.throttledPercent, THRESHOLDS.throttled) };
    case 'mem': {
      const m = memPercent(v);
      const overHigh = v.memHighBytes !== null && v.memBytes !== null && v.memBytes >= v.memHighBytes;
      const lvl = row.oomRecent ? 'crit' : level(m, THRESHOLDS.mem);
      return { text: memCell(v, col.cellWidth), level: lvl === 'normal' && overHigh ? 'warn' : lvl };
    }
    case 'memPct': {
      const m = memPercent(v);
      return { text: pct(m), level: row.oomRecent ? 'crit' : level(m, THRESHOLDS.mem) };
    }
    case 'ioRead':
      return { text: formatBytes(v.ioReadBps), level: 'normal' };
    case 'ioWrite':
      return { text: formatBytes(v.ioWriteBps), level: 'normal' };
    case 'netRx':
      return { text: formatBytes(v.netRxBps), level: 'normal' };
    case 'netTx':
      return { text: formatBytes(v.netTxBps), level: 'normal' };
    case 'pids': {
      const ratio = v.pids !== null && v.pidsLimit ? (v.pids / v.pidsLimit) * 100 : null;
      return { text: pidsCell(v, col.cellWidth), level: level(ratio, THRESHOLDS.pids) };
    }
    case 'psi':
      return { text: pct(v.psiMemSome10), level: level(v.psiMemSome10, THRESHOLDS.psi) };
  }
}

/** One table line as coloured spans, each cell fitted to its column. */
export function rowSpans(row: Row, columns: FittedColumn[], ctx: RowContext): Span[] {
  const spans: Span[] = [];
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i];
    const s = cell(row, col, ctx);
    const keepEnd = col.id === 'name' && row.guide === '' && row.name.startsWith('/') && !row.hasChildren;
    spans.push({ text: fit(s.text, col.cellWidth, col.align, ctx.glyphs.ellipsis, keepEnd), level: s.level });
    if (i < columns.length - 1) spans.push({ text: ' '.repeat(GAP), level: 'normal' });
  }
  return spans;
}

/** The header line: titles, with the sort column marked by its direction. */
export function headerSpans(columns: FittedColumn[], sort: SortKey, reverse: boolean, glyphs: Glyphs): Span[] {
  const spans: Span[] = [];
  const arrow = sortsDescending(sort, reverse) ? glyphs.descending : glyphs.ascending;
  // The column that shows the sort key (CPU% rather than its bar; NAME for path).
  const shown = columns.find((c) => c.sort === sort && c.id !== 'cpuBar') ?? (sort === 'path' ? columns[0] : null);
  const memTotal =
    sort === 'io'
      ? columns.find((c) => c.id === 'ioRead')
      : sort === 'net'
        ? columns.find((c) => c.id === 'netRx')
        : null;
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i];
    const marked = col === shown || col === memTotal;
    const title = marked ? (col.align === 'right' ? arrow + col.title : col.title + arrow) : col.title;
    spans.push({ text: fit(title, col.cellWidth, col.align), level: marked ? 'accent' : 'normal' });
    if (i < columns.length - 1) spans.push({ text: ' '.repeat(GAP), level: 'normal' });
  }
  return spans;
}
