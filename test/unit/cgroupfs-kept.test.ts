// A cgroup node's kept bytes (src/cgroupfs/kept.ts): every file slot's bytes
// in one buffer per node. Against a plain map of slot -> bytes, over random
// keeps, same-length overwrites and drops: the same bytes come back, the
// version changes exactly when a slot's bytes do, and the buffer stays
// within 1.25 times the most bytes ever live in it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CgroupNode } from '../../src/cgroupfs/node.js';
import { drop, keep, keepAbsent, KEPT_ABSENT, KEPT_NONE, keptEquals } from '../../src/cgroupfs/kept.js';

const SLOTS = 12;

type Op = { kind: 'keep'; slot: number; bytes: number[] } | { kind: 'drop' | 'absent'; slot: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('keep' as const),
    slot: fc.nat(SLOTS - 1),
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 90 }),
  }),
  fc.record({ kind: fc.constantFrom('drop' as const, 'absent' as const), slot: fc.nat(SLOTS - 1) }),
);

function keptOf(node: CgroupNode, slot: number): number[] | 'absent' | null {
  const n = node.keptLength[slot];
  if (n === KEPT_NONE) return null;
  if (n === KEPT_ABSENT) return 'absent';
  return [...node.keptBytes.subarray(node.keptOffset[slot], node.keptOffset[slot] + n)];
}

describe('kept bytes in one buffer per node', () => {
  it('gives back what was kept, changes the version with the bytes, and stays compact', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const node = new CgroupNode('/c', 2, SLOTS);
        const model = new Map<number, number[] | 'absent'>();
        let mostLive = 0;
        for (const o of ops) {
          const before = node.keptVersion[o.slot];
          const had = model.get(o.slot) ?? null;
          if (o.kind === 'keep') {
            // As the tree does: a copy only when the bytes differ.
            const src = Buffer.from([7, ...o.bytes]);
            if (!keptEquals(node, o.slot, src, 1, o.bytes.length)) keep(node, o.slot, src, 1, o.bytes.length);
            model.set(o.slot, o.bytes);
            const same = Array.isArray(had) && had.length === o.bytes.length && had.every((b, i) => b === o.bytes[i]);
            expect(node.keptVersion[o.slot] === before).toBe(same);
          } else if (o.kind === 'drop') {
            drop(node, o.slot);
            model.delete(o.slot);
            expect(node.keptVersion[o.slot] === before).toBe(had === null);
          } else {
            keepAbsent(node, o.slot);
            model.set(o.slot, 'absent');
          }
          let live = 0;
          for (let slot = 0; slot < SLOTS; slot++) {
            const want = model.get(slot) ?? null;
            expect(keptOf(node, slot)).toEqual(want);
            if (Array.isArray(want)) live += want.length;
          }
          expect(node.keptUsed - node.keptWaste).toBe(live);
          // Compacted when full, to 1.25 times what is live then: never more than that of the most ever live.
          mostLive = Math.max(mostLive, live);
          expect(node.keptUsed).toBeLessThanOrEqual(node.keptBytes.length);
          expect(node.keptBytes.length).toBeLessThanOrEqual(Math.max(64, Math.ceil(mostLive * 1.25)));
        }
      }),
      { numRuns: 300 },
    );
  });
});
