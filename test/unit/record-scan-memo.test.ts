// The template scan keeps each top-level member's scan for the next template
// (template-scan.ts, MemberMemo): a member whose text is the last one's at
// the same place is not scanned again. Whatever the order of templates, each
// must still be what the compile makes of it, and the selection's places
// must be the compile's paths.

import { describe, expect, it } from 'vitest';
import { syntheticSnapshot } from '../../src/model/samples.js';
import { compileTemplate, scannedTemplate, skeletonOf, type Template } from '../../src/record/templates.js';

function fieldsOf(t: Template): Record<string, unknown> {
  return {
    leaves: t.leaves,
    rate: t.rate,
    rateLeaves: t.rateLeaves,
    parts: t.parts,
    rateParts: t.rateParts,
    rateIdx: t.rateIdx,
    listPart: t.listPart,
    listCut: t.listCut,
  };
}

describe('a member scanned in the template before', () => {
  it('gives the compiled template, in any order, for members that repeat, change, move or end early', () => {
    const s = syntheticSnapshot(6, 2);
    const c = s.containers[0];
    const variants: unknown[] = [
      c,
      s.containers[1],
      { ...c, id: '/other', name: 'other' }, // the same members after other strings
      { ...c, cpu: { ...c.cpu!, extra: 0 } }, // cpu's text longer: starts like the kept one, is not it
      { ...c, cpu: null }, // cpu not an object
      { id: c.id, memory: c.memory, cpu: c.cpu, io: c.io }, // the members at other places
      { id: c.id, cpu: c.cpu, memory: { ...c.memory!, workingSetBytes: null } }, // the sort number not a number
      { ...c, io: { ...c.io!, devices: [] } },
      { ...c, network: [{ interface: 'eth0', rxBytes: 1, txBytes: 2, rxBytesPerSecond: 3, txBytesPerSecond: 4 }] },
      { ...c, network: [{ interface: 'eth1', rxBytes: 1, txBytes: 2, rxBytesPerSecond: 3, txBytesPerSecond: 4 }] },
      { ...c, labels: { cpu: '{"usageSeconds":0}' } },
      s.host,
      c,
    ];
    const texts = variants.map((v) => skeletonOf(v, [], [], true));
    for (const order of [texts, [...texts].reverse(), [...texts, ...texts]]) {
      for (const text of order) {
        const scanned = scannedTemplate(text)!;
        const compiled = compileTemplate(text);
        expect(fieldsOf(scanned), text).toEqual(fieldsOf(compiled));
        expect([...scanned.select!.leaves], text).toEqual([
          compiled.paths.indexOf('cpu.percent'),
          compiled.paths.indexOf('memory.workingSetBytes'),
        ]);
      }
    }
  });
});
