// Human-readable units for tables and the dashboard.

import { sanitizeText } from './sanitize.js';

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5KiB"; null → "-". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '-';
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < BINARY.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)}B`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}${BINARY[u]}`;
}

/** Bytes per second: "1.2MiB/s". */
export function formatRate(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : `${formatBytes(n)}/s`;
}

/** 12345 → "12.3k". */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '-';
  const units = ['', 'k', 'M', 'G', 'T'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? String(Math.round(v)) : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)}${units[u]}`;
}

export function formatPercent(n: number | null | undefined, digits = 1): string {
  return n === null || n === undefined || Number.isNaN(n) ? '-' : `${n.toFixed(digits)}%`;
}

/** Escapes control and bidi characters so a cgroup name cannot drive the terminal (src/util/sanitize.ts). */
export function printable(s: string): string {
  return sanitizeText(s);
}

/** Left-aligned table with a header, columns separated by two spaces; numbers right-aligned. */
export function renderTable(header: string[], rows: string[][], rightAligned: boolean[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (rightAligned[i] ? c.padStart(widths[i]) : i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
