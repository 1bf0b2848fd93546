// Chart data for the detail view: the history's series scaled to a readable
// unit, with time labels, for blessed-contrib's line chart, and a plain-text
// chart for terminals without braille glyphs (TERM=linux, non-UTF-8).

import type { ContainerHistory, SeriesName } from './history.js';
import type { Level, Span } from './text.js';

export type ChartKind = 'cpu' | 'memory' | 'io' | 'network';

export interface ChartLine {
  title: string;
  /** Values in the chart's unit; unknown points carry the previous value (0 at first). */
  y: number[];
  /** blessed colour name. */
  color: string;
  level: Level;
  glyph: string;
}

export interface ChartData {
  kind: ChartKind;
  /** The box label, e.g. "Memory MiB (limit 512MiB)". */
  label: string;
  unit: string;
  x: string[];
  lines: ChartLine[];
  /** Top of the y axis (at least a little above the data; never 0). */
  maxY: number;
}

const KIND_SERIES: Record<
  ChartKind,
  { name: SeriesName; title: string; color: string; level: Level; glyph: string }[]
> = {
  cpu: [{ name: 'cpu', title: 'cpu', color: 'green', level: 'good', glyph: '*' }],
  memory: [
    { name: 'mem', title: 'working set', color: 'cyan', level: 'accent', glyph: '*' },
    { name: 'memLimit', title: 'limit', color: 'red', level: 'crit', glyph: '-' },
  ],
  io: [
    { name: 'ioRead', title: 'read', color: 'green', level: 'good', glyph: 'r' },
    { name: 'ioWrite', title: 'write', color: 'yellow', level: 'warn', glyph: 'w' },
  ],
  network: [
    { name: 'netRx', title: 'rx', color: 'green', level: 'good', glyph: 'r' },
    { name: 'netTx', title: 'tx', color: 'yellow', level: 'warn', glyph: 't' },
  ],
};

const BYTE_UNITS: [string, number][] = [
  ['GiB', 1024 ** 3],
  ['MiB', 1024 ** 2],
  ['KiB', 1024],
  ['B', 1],
];

function byteUnit(max: number): [string, number] {
  for (const u of BYTE_UNITS) if (max >= u[1]) return u;
  return ['B', 1];
}

function carryForward(values: (number | null)[]): number[] {
  let last = 0;
  return values.map((v) => (v === null ? last : (last = v)));
}

function clockLabel(wallSeconds: number): string {
  const d = new Date(wallSeconds * 1000);
  const p = (x: number): string => String(x).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * The chart of one kind from a container's history. `wallNow` and `monoNow`
 * map the history's monotonic times to clock labels.
 */
export function chartData(
  kind: ChartKind,
  h: ContainerHistory | undefined,
  wallNow: number,
  monoNow: number,
): ChartData {
  const specs = KIND_SERIES[kind];
  const raw = specs.map((s) => h?.series[s.name].points() ?? { times: [], values: [] });
  const times = raw[0].times;
  const x = times.map((t) => clockLabel(wallNow - (monoNow - t)));
  let max = 0;
  for (const r of raw) for (const v of r.values) if (v !== null && v > max) max = v;
  let unit = '%';
  let divisor = 1;
  let label: string;
  if (kind === 'cpu') {
    label = 'CPU %';
  } else {
    [unit, divisor] = byteUnit(max);
    label = kind === 'memory' ? `Memory ${unit}` : kind === 'io' ? `IO ${unit}/s` : `Network ${unit}/s`;
  }
  const lines: ChartLine[] = [];
  specs.forEach((s, i) => {
    const values = raw[i].values;
    if (s.name === 'memLimit') {
      const last = values[values.length - 1] ?? null;
      if (last === null) {
        label += ' (no limit)';
        return;
      }
    }
    lines.push({
      title: s.title,
      y: carryForward(values).map((v) => v / divisor),
      color: s.color,
      level: s.level,
      glyph: s.glyph,
    });
  });
  if (h?.source) label += ` ${h.source}`;
  const scaledMax = max / divisor;
  const maxY = scaledMax > 0 ? scaledMax * 1.15 : kind === 'cpu' ? 100 : 1;
  return { kind, label, unit, x, lines, maxY };
}

/** A text chart: one column per (resampled) point, the highest series last so it stays on top. */
export function asciiChart(data: ChartData, width: number, height: number): Span[][] {
  const axisWidth = 7;
  const w = Math.max(1, width - axisWidth - 1);
  const h = Math.max(1, height - 1);
  const grid: (ChartLine | null)[][] = Array.from({ length: h }, () => new Array<ChartLine | null>(w).fill(null));
  for (const line of data.lines) {
    const n = line.y.length;
    if (n === 0) continue;
    for (let col = 0; col < w; col++) {
      // The points under this column: the series stretched (or squeezed) over the width, newest at the right.
      const start = Math.floor((col * n) / w);
      const end = Math.max(start + 1, Math.floor(((col + 1) * n) / w));
      let v = 0;
      for (let k = start; k < end; k++) v += line.y[k];
      v /= end - start;
      const row = h - 1 - Math.min(h - 1, Math.max(0, Math.round((v / data.maxY) * (h - 1))));
      grid[row][col] = line;
    }
  }
  const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const out: Span[][] = [];
  for (let r = 0; r < h; r++) {
    const axis = r === 0 ? fmt(data.maxY) : r === h - 1 ? '0' : '';
    const spans: Span[] = [{ text: axis.padStart(axisWidth) + '|', level: 'dim' }];
    for (let col = 0; col < w; col++) {
      const l = grid[r][col];
      spans.push(l ? { text: l.glyph, level: l.level } : { text: ' ', level: 'normal' });
    }
    out.push(spans);
  }
  const legend = data.lines.map((l) => `${l.glyph} ${l.title}`).join('  ');
  out.push([{ text: ' '.repeat(axisWidth) + '+' + legend.slice(0, w), level: 'dim' }]);
  return out;
}
