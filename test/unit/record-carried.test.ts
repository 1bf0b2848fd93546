// The encoder's copy of carried members (src/record/template-match.ts): a
// member that is the very object of the previous sample has its numbers
// copied, not walked, and the bytes must be the walk's. Snapshots change in
// place only in their rates (applyRates writes them into carried objects):
// those are read again.

import { describe, expect, it } from 'vitest';
import { applyRates } from '../../src/model/rates.js';
import { syntheticSnapshot } from '../../src/model/samples.js';
import type { Snapshot } from '../../src/model/types.js';
import { ColumnEncoder } from '../../src/record/columns.js';
import { membersCopied } from '../../src/record/template-match.js';

/** The next sample as a collection that carries unchanged values makes it: a new object per cgroup, its members the same objects. */
function carriedOver(s: Snapshot, monotonicSeconds: number): Snapshot {
  return {
    ...s,
    timestamp: new Date(monotonicSeconds * 1000).toISOString(),
    monotonicSeconds,
    host: { ...s.host },
    containers: s.containers.map((c) => ({ ...c })),
  };
}

describe('members carried over', () => {
  it('give the bytes of a walk of every member, rates changed in place included', () => {
    const samples: Snapshot[] = [syntheticSnapshot(6, 0)];
    for (let t = 1; t < 10; t++) samples.push(carriedOver(samples[t - 1], 1000 + t));
    // The live rates as they were at each sample (the same objects change in place later).
    const states: string[] = [];
    const copying = new ColumnEncoder();
    const walking = new ColumnEncoder({ copyCarried: false });
    const copiedBefore = membersCopied;
    samples.forEach((s, t) => {
      const c = s.containers[1];
      // A face beside the recorder sampled in between: the carried cpu and io objects get other rates in place.
      if (t === 4 || t === 7) {
        c.cpu!.percent = 12.5 + t;
        c.io!.readBytesPerSecond = t === 4 ? null : 4096 * t;
        c.network![0].rxBytesPerSecond = 1000 * t;
      }
      if (t === 5) applyRates(samples[t - 1], s); // counters the same: every rate 0
      if (t === 6) c.memory = { ...c.memory!, usageBytes: c.memory!.usageBytes! + 4096 }; // a new object
      states.push(JSON.stringify(s));
      const key = t % 8 === 0;
      expect(copying.encode(s, key).equals(walking.encode(s, key)), `sample ${t}`).toBe(true);
    });
    // Not vacuous: members were copied (six cgroups and the host, some ten members each, over eight deltas).
    expect(membersCopied - copiedBefore).toBeGreaterThan(300);
    expect(new Set(states).size).toBe(samples.length);
  });
});
