// The native batch's comparison (native/read/readbatch.c tstop_read_batch_same,
// src/cgroupfs/batch.ts sameAsKept): a file is known to give the bytes the
// tree keeps only when it gave the previous batch's bytes, through the same
// descriptor, and the tree took that batch's bytes and kept nothing since.
// On regular files (pread from 0 as on cgroup files), rewritten between batches.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchReads } from '../../src/cgroupfs/batch.js';
import { sysAddon } from '../../src/util/sys-addon.js';

describe('the batch tells which files gave the kept bytes again', () => {
  let dir: string;
  const fds: number[] = [];
  const file = (name: string, text: string): number => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    const fd = fs.openSync(p, 'r');
    fds.push(fd);
    return fd;
  };
  const write = (name: string, text: string): void => fs.writeFileSync(path.join(dir, name), text);

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-batch-same-'));
  });
  afterAll(() => {
    for (const fd of fds) fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the addon compares each file with its bytes of the previous call', () => {
    const same = sysAddon()?.readBatchSame;
    if (!same) throw new Error('native/build/tstop-sys.node without readBatchSame: run `node native/build.mjs`');
    const a = file('a', 'usage 12345\n');
    const b = file('b', 'x'.repeat(3000));
    const bufs = [Buffer.alloc(16384), Buffer.alloc(16384)];
    const offs = [new Int32Array(3), new Int32Array(3)];
    const lens = [new Int32Array(3).fill(-1), new Int32Array(3).fill(-1)];
    const flags = new Uint8Array(3);
    const call = (t: number, list: number[]): number[] => {
      const [cur, prev] = [t % 2, (t + 1) % 2];
      const done = same(
        Int32Array.from(list),
        3,
        bufs[cur],
        16384,
        4096,
        offs[cur],
        lens[cur],
        bufs[prev],
        offs[prev],
        lens[prev],
        flags,
      );
      expect(done).toBe(3);
      return [...flags];
    };
    expect(call(0, [a, b, -1])).toEqual([0, 0, 0]); // nothing before
    expect(call(1, [a, b, -1])).toEqual([1, 1, 0]);
    write('a', 'usage 12346\n'); // same length, other bytes
    expect(call(2, [a, b, -1])).toEqual([0, 1, 0]);
    expect(call(3, [-1, b, a])).toEqual([0, 1, 0]); // a skipped; a in another place
    expect(call(4, [a, b, a])).toEqual([0, 1, 1]); // a back after a skip: not compared with older bytes
    write('b', 'x'.repeat(5000)); // past maxFile (4096): maybe truncated, never "same"
    call(5, [a, b, a]);
    expect(call(6, [a, b, a])).toEqual([1, 0, 1]);
  });

  it('says "same as kept" only after the tree took the previous batch\'s bytes and kept nothing since', () => {
    const batch = BatchReads.open();
    if (!batch || !sysAddon()?.readBatchSame) throw new Error('no native batch here');
    const c = file('c', '42\n');
    const pos = batch.add(c);
    const tick = (consume: number | null): void => {
      batch.readAll();
      if (consume !== null) batch.consumed(pos, consume);
      batch.endTick();
    };
    tick(7); // assigned before this batch? no: assigned in the tick before it, read now, taken as version 7
    batch.readAll();
    expect(batch.sameAsKept(pos, 7)).toBe(true);
    expect(batch.sameAsKept(pos, 8)).toBe(false); // kept anew since (another version)
    batch.consumed(pos, 7);
    batch.endTick();
    expect(batch.sameAsKept(pos, 7)).toBe(false); // between ticks: no batch result at all

    tick(null); // read, not taken: the kept bytes may be older than that batch's
    batch.readAll();
    expect(batch.sameAsKept(pos, 7)).toBe(false);
    batch.consumed(pos, 7);
    batch.endTick();

    write('c', '43\n');
    batch.readAll();
    expect(batch.sameAsKept(pos, 7)).toBe(false); // changed
    batch.consumed(pos, 8);
    batch.endTick();
    batch.readAll();
    expect(batch.sameAsKept(pos, 8)).toBe(true);
    batch.consumed(pos, 8);
    batch.endTick();

    batch.skip(pos); // left out of a batch: not compared across it
    tick(null);
    batch.readAll();
    expect(batch.sameAsKept(pos, 8)).toBe(false);
    batch.consumed(pos, 8);
    batch.endTick();

    // The position given to another descriptor with the same bytes: its kept bytes are its own.
    batch.remove(pos);
    const d = file('d', '43\n');
    expect(batch.add(d)).toBe(pos);
    batch.readAll();
    expect(batch.sameAsKept(pos, 8)).toBe(false);
    batch.consumed(pos, 1);
    batch.endTick();
    batch.readAll();
    expect(batch.sameAsKept(pos, 1)).toBe(true);
    batch.endTick();
  });
});
