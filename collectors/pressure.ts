// Pressure stall information (PSI): some/full avg10/avg60/avg300/total for
// cpu, memory and io, per cgroup (v2 *.pressure, also on hybrid hosts from
// the unified tree) and host-wide from /proc/pressure.

import fs from 'node:fs';
import path from 'node:path';
import { cgroupFile, UNIFIED } from '../src/cgroupfs/files.js';
import { equalsAscii, fields, forEachLine, indexOf, parseNumber } from '../src/cgroupfs/parse.js';
import type { CgroupSource } from '../src/cgroupfs/source.js';
import type { Pressure, PressureLine, PressureResource } from '../src/model/types.js';

const FILES = {
  cpu: cgroupFile(UNIFIED, 'cpu.pressure'),
  memory: cgroupFile(UNIFIED, 'memory.pressure'),
  io: cgroupFile(UNIFIED, 'io.pressure'),
};

const scratch: number[] = new Array(16).fill(0);

/** Pure: a PSI file ("some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and optionally "full ..."). */
export function parsePressure(buf: Uint8Array, len: number): PressureResource | null {
  const res: PressureResource = { some: null, full: null };
  forEachLine(buf, len, (s, e) => {
    const n = fields(buf, s, e, scratch);
    if (n < 5) return;
    const line: PressureLine = { avg10: NaN, avg60: NaN, avg300: NaN, totalSeconds: NaN };
    for (let i = 1; i < n; i++) {
      const fs0 = scratch[i * 2];
      const fe = scratch[i * 2 + 1];
      const eq = indexOf(buf, 0x3d, fs0, fe);
      const v = parseNumber(buf, eq + 1, fe);
      if (equalsAscii(buf, fs0, eq, 'avg10')) line.avg10 = v;
      else if (equalsAscii(buf, fs0, eq, 'avg60')) line.avg60 = v;
      else if (equalsAscii(buf, fs0, eq, 'avg300')) line.avg300 = v;
      else if (equalsAscii(buf, fs0, eq, 'total')) line.totalSeconds = v / 1e6;
    }
    if ([line.avg10, line.avg60, line.avg300, line.totalSeconds].some(Number.isNaN)) return;
    if (equalsAscii(buf, scratch[0], scratch[1], 'some')) res.some = line;
    else if (equalsAscii(buf, scratch[0], scratch[1], 'full')) res.full = line;
  });
  return res.some === null && res.full === null ? null : res;
}

export function collectPressure(src: CgroupSource): Pressure | null {
  const read = (file: typeof FILES.cpu): PressureResource | null => {
    const n = src.read(file);
    return n < 0 ? null : parsePressure(src.buf, n);
  };
  const p: Pressure = { cpu: read(FILES.cpu), memory: read(FILES.memory), io: read(FILES.io) };
  return p.cpu === null && p.memory === null && p.io === null ? null : p;
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
