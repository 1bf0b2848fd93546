// Pressure stall information (PSI): some/full avg10/avg60/avg300/total for
// cpu, memory and io, per cgroup (v2 *.pressure, also on hybrid hosts from
// the unified tree) and host-wide from /proc/pressure.

import fs from 'node:fs';
import path from 'node:path';
import { restingFile, UNIFIED } from '../src/cgroupfs/files.js';
import { equalsAscii, fields, indexOf, parseNumber } from '../src/cgroupfs/parse.js';
import type { CgroupSource } from '../src/cgroupfs/source.js';
import type { Pressure, PressureLine, PressureResource } from '../src/model/types.js';
import type { CgroupCollector } from './api.js';

/**
 * Pure: every average of a PSI file reads 0.00. Without tasks no stall time
 * accrues and the averages only decay (the kernel truncates them to two
 * places), so such a file of an empty cgroup cannot change (restingFile).
 */
export function pressureAtRest(buf: Uint8Array, start: number, end: number): boolean {
  let averages = 0;
  for (let i = start; i + 3 < end; i++) {
    // "avg10=", "avg60=", "avg300=": the value runs from after "=" to the next space.
    if (buf[i] !== 0x61 || buf[i + 1] !== 0x76 || buf[i + 2] !== 0x67) continue;
    const eq = indexOf(buf, 0x3d, i, end);
    const valueEnd = indexOf(buf, 0x20, eq, end);
    if (!equalsAscii(buf, eq + 1, valueEnd, '0.00')) return false;
    averages++;
    i = valueEnd;
  }
  return averages > 0;
}

const FILES = {
  cpu: restingFile(UNIFIED, 'cpu.pressure', pressureAtRest),
  memory: restingFile(UNIFIED, 'memory.pressure', pressureAtRest),
  io: restingFile(UNIFIED, 'io.pressure', pressureAtRest),
};

const scratch: number[] = new Array(16).fill(0);

/** Pure: one PSI line's fields after its first word, or null if one is missing. */
function parsePressureLine(buf: Uint8Array, s: number, e: number): PressureLine | null {
  const n = fields(buf, s, e, scratch);
  let avg10 = NaN;
  let avg60 = NaN;
  let avg300 = NaN;
  let total = NaN;
  for (let i = 1; i < n; i++) {
    const fs0 = scratch[i * 2];
    const fe = scratch[i * 2 + 1];
    const eq = indexOf(buf, 0x3d, fs0, fe);
    const v = parseNumber(buf, eq + 1, fe);
    // avg10 / avg60 / avg300 / total: the byte after "avg" tells them apart.
    if (eq - fs0 === 5 && buf[fs0] === 0x74)
      total = v; // "total"
    else if (buf[fs0 + 3] === 0x31)
      avg10 = v; // "avg1"
    else if (buf[fs0 + 3] === 0x36)
      avg60 = v; // "avg6"
    else if (buf[fs0 + 3] === 0x33) avg300 = v; // "avg3"
  }
  if (Number.isNaN(avg10) || Number.isNaN(avg60) || Number.isNaN(avg300) || Number.isNaN(total)) return null;
  return { avg10, avg60, avg300, totalSeconds: total / 1e6 };
}

/** Pure: a PSI file ("some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and optionally "full ..."). */
export function parsePressure(buf: Uint8Array, len: number, start = 0): PressureResource | null {
  let some: PressureLine | null = null;
  let full: PressureLine | null = null;
  let s = start;
  while (s < len) {
    const e = indexOf(buf, 0x0a, s, len);
    if (equalsAscii(buf, s, s + 4, 'some')) some = parsePressureLine(buf, s, e);
    else if (equalsAscii(buf, s, s + 4, 'full')) full = parsePressureLine(buf, s, e);
    s = e + 1;
  }
  return some === null && full === null ? null : { some, full };
}

function sameLine(a: PressureLine | null, b: PressureLine | null): boolean {
  if (a === null || b === null) return a === b;
  return a.avg10 === b.avg10 && a.avg60 === b.avg60 && a.avg300 === b.avg300 && a.totalSeconds === b.totalSeconds;
}

/** The previous value when nothing changed, so an idle cgroup's PSI is not a new object each tick. */
function unchangedOr<T extends PressureResource | null>(now: T, before: T | undefined): T {
  if (before === undefined || now === null || before === null) return now;
  return sameLine(now.some, before.some) && sameLine(now.full, before.full) ? before : now;
}

/**
 * PSI of the bound cgroup. Unchanged figures return the previous objects
 * (snapshots are read-only), which keeps the long-lived heap from growing by
 * one copy per idle cgroup per tick.
 */
function readResource(
  src: CgroupSource,
  file: typeof FILES.cpu,
  before: PressureResource | null | undefined,
): PressureResource | null {
  const n = src.read(file);
  // The bytes the previous value was parsed from (an empty cgroup's file at rest): no parse.
  if (n >= 0 && src.kept && before) return before;
  return unchangedOr(n < 0 ? null : parsePressure(src.buf, src.end, src.start), before);
}

export function collectPressure(src: CgroupSource, previous: Pressure | null): Pressure | null {
  const cpu = readResource(src, FILES.cpu, previous?.cpu);
  const memory = readResource(src, FILES.memory, previous?.memory);
  const io = readResource(src, FILES.io, previous?.io);
  if (cpu === null && memory === null && io === null) return null;
  if (previous && cpu === previous.cpu && memory === previous.memory && io === previous.io) return previous;
  return { cpu, memory, io };
}

/** Host-wide PSI from <root>/proc/pressure; null when the kernel has none. */
export function collectHostPressure(root: string): Pressure | null {
  const read = (name: string): PressureResource | null => {
    try {
      const b = fs.readFileSync(path.join(root, 'proc/pressure', name));
      return parsePressure(b, b.length);
    } catch {
      return null;
    }
  };
  const p: Pressure = { cpu: read('cpu'), memory: read('memory'), io: read('io') };
  return p.cpu === null && p.memory === null && p.io === null ? null : p;
}

export const pressureCollector: CgroupCollector = {
  name: 'pressure',
  fields: ['pressure'],
  collect(src, context, out) {
    out.pressure = collectPressure(src, context.previous?.pressure ?? null);
  },
};
