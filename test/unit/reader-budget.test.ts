// The descriptor budget: a reader's own, and the process's, which two
// readers share; a file read open-read-close past the budget is kept open
// once descriptors are given back.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { FD_TRANSIENT, FD_UNOPENED, FileReader } from '../../src/cgroupfs/reader.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-reader-'));
const files = [0, 1, 2, 3, 4].map((i) => {
  const f = path.join(dir, `f${i}`);
  fs.writeFileSync(f, `value ${i}\n`);
  return f;
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function slots(n: number): { fds: Int32Array; positions: Int32Array } {
  return { fds: new Int32Array(n).fill(FD_UNOPENED), positions: new Int32Array(n).fill(-1) };
}

function readText(reader: FileReader, s: ReturnType<typeof slots>, slot: number): string {
  const n = reader.read(s.fds, s.positions, slot, path.dirname(files[slot]), path.basename(files[slot]));
  return reader.data.toString('latin1', reader.start, reader.start + n);
}

describe('descriptor budget', () => {
  it('is shared by the readers of one process, and retried once descriptors are given back', () => {
    const processBudget = FileReader.processFdBudget;
    FileReader.processFdBudget = 3;
    onTestFinished(() => {
      FileReader.processFdBudget = processBudget;
    });
    const a = new FileReader({ fdBudget: 10, batch: false });
    const b = new FileReader({ fdBudget: 10, batch: false });
    const sa = slots(5);
    const sb = slots(5);
    for (const i of [0, 1, 2]) expect(readText(a, sa, i)).toBe(`value ${i}\n`);
    expect(a.openDescriptors).toBe(3);
    // b's own count is 0, but the process's budget is spent: open, read, close.
    expect(readText(b, sb, 3)).toBe('value 3\n');
    expect(sb.fds[3]).toBe(FD_TRANSIENT);
    expect(b.openDescriptors).toBe(0);
    a.close(sa.fds, 0, sa.positions);
    // A descriptor was given back: the past-budget file is kept open from now on.
    expect(readText(b, sb, 3)).toBe('value 3\n');
    expect(sb.fds[3]).toBeGreaterThanOrEqual(0);
    expect(b.openDescriptors).toBe(1);
    a.closeAll(sa.fds, sa.positions);
    b.closeAll(sb.fds, sb.positions);
    expect(a.openDescriptors + b.openDescriptors).toBe(0);
  });

  it('keeps a reader within its own budget too', () => {
    const r = new FileReader({ fdBudget: 2, batch: false });
    const s = slots(5);
    for (const i of [0, 1, 2]) expect(readText(r, s, i)).toBe(`value ${i}\n`);
    expect(r.openDescriptors).toBe(2);
    expect(s.fds[2]).toBe(FD_TRANSIENT);
    r.closeAll(s.fds, s.positions);
  });
});
