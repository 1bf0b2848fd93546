// The seek path (`snapshot --at`): what a reader makes of a key frame and of
// the records after it is the same as before, only cheaper to make.

import { describe, expect, it } from 'vitest';
import { syntheticSnapshot } from '../../src/model/samples.js';
import { skeletonOf, compileTemplate, scannedTemplate, type Template } from '../../src/record/templates.js';

/** A template's fields, its tree and paths included (a scanned one compiles those when asked). */
function fieldsOf(t: Template): Record<string, unknown> {
  return {
    skeleton: t.skeleton,
    root: t.root,
    paths: t.paths,
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

function skeleton(v: unknown): string {
  return skeletonOf(v, [], [], true);
}

describe('templates read by a scan of the skeleton', () => {
  it('are the compiled templates, for every entity of a sample and for odd keys and strings', () => {
    const s = syntheticSnapshot(12, 3);
    const odd = {
      ...s.containers[0],
      id: '/odd/"quoted"\\back\\slash/0,1:2]}{[',
      name: 'caf\u00e9 \u2028 \ud800 \u0000 0',
      labels: { 'a.b': 'x:0,', '2': 'two', '10': 'ten', 'c"d': '', '': 0 },
      processes: [{ pid: 1, comm: 'sh' }],
      extra: { empty: {}, none: [], nested: [[0, [0, { percent: 0 }]], []], t: true, f: false, n: null },
      cpu: { ...s.containers[0].cpu!, percent: 12.5 },
      network: [
        { interface: 'eth0', rxBytes: 1, txBytes: 2, rxBytesPerSecond: 3, txBytesPerSecond: null },
        { interface: 'eth1', rxBytes: 1, txBytes: 2, rxBytesPerSecond: 3, txBytesPerSecond: 4 },
      ],
    };
    const entities: unknown[] = [
      s.host,
      ...s.containers,
      odd,
      { processes: null, cpuPercent: 0 },
      { processes: [] },
      {},
    ];
    for (const e of entities) {
      const text = skeleton(e);
      const scanned = scannedTemplate(text);
      expect(scanned, text).not.toBeNull();
      expect(fieldsOf(scanned!)).toEqual(fieldsOf(compileTemplate(text)));
    }
    // The odd entity has rates at the leaves the compile finds (an array index in the path, a nested "percent" that is not one).
    expect(scannedTemplate(skeleton(odd))!.rateLeaves.map((r) => r.keys.join('.'))).toEqual(
      compileTemplate(skeleton(odd)).rateLeaves.map((r) => r.keys.join('.')),
    );
  });

  it('decline what skeletonOf does not write, which is then compiled', () => {
    for (const text of [
      '{"a":1}',
      '{"a": 0}',
      '[0]',
      '{"a":0',
      '{"a":"x}',
      '{"a":tru}',
      '{"processes":[0]}',
      '{"a":-0}',
    ])
      expect(scannedTemplate(text), text).toBeNull();
  });
});
