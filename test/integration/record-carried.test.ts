// The recorder's encoder on real cgroups whose values the collection
// carries over (src/collect/unchanged.ts): members that are the previous
// sample's objects have their numbers copied (src/record/template-match.ts),
// and the records must be byte for byte those of a walk of every member,
// while workloads run, stop, start and get new limits, key frames and deltas.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../src/collect/collector.js';
import { ColumnEncoder } from '../../src/record/columns.js';
import { membersCopied } from '../../src/record/template-match.js';
import { TestCgroups } from '../helpers/cgroups.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('recording carried values', { timeout: 120_000 }, () => {
  let cg: TestCgroups;
  let collector: Collector;

  beforeAll(async () => {
    cg = new TestCgroups('reccarry');
    for (const n of ['spin', 'idle', 'empty', 'parent', 'parent/child']) cg.mkdir(n, { inner: n === 'parent' });
    await cg.spawn('spin', ['spin']).ready;
    await cg.spawn('idle', ['sleep']).ready;
    await cg.spawn('parent/child', ['sleep']).ready;
    collector = new Collector({ watch: true, root: cg.isolatedRoot() });
  });

  afterAll(async () => {
    collector?.close();
    await cg?.cleanup();
  });

  it('writes the bytes of a walk of every member', async () => {
    const copying = new ColumnEncoder();
    const walking = new ColumnEncoder({ copyCarried: false });
    const carriedBefore = collector.unchanged!.carried;
    const copiedBefore = membersCopied;
    const steps: Record<number, () => Promise<void> | void> = {
      6: async () => void (await cg.spawn('empty', ['sleep']).ready),
      9: () => cg.write('memory', 'idle', cg.v2 ? 'memory.max' : 'memory.limit_in_bytes', '300000000'),
      12: () => cg.cleanupProcesses('parent/child'),
      15: () => cg.cleanupProcesses('spin'),
    };
    let samples = 0;
    for (let t = 0; t < 20; t++) {
      await steps[t]?.();
      await sleep(100);
      const s = collector.collect();
      samples += s.containers.length;
      const key = t % 10 === 0;
      // Both encoders see the sample before anything (the next collection's rates) changes it.
      const copied = copying.encode(s, key);
      expect(copied.equals(walking.encode(s, key)), `sample ${t}`).toBe(true);
    }
    expect(samples).toBeGreaterThan(20 * 5);
    // Not vacuous: the collection carried values over and the encoder copied members.
    expect(collector.unchanged!.carried).toBeGreaterThan(carriedBefore + 50);
    expect(membersCopied - copiedBefore).toBeGreaterThan(100);
  });
});
