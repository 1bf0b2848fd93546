// The writer's templates built in one walk of the live object
// (src/record/template-build.ts) against the reference way: skeletonOf, then
// compileTemplate of its text.

import { describe, expect, it } from 'vitest';
import { syntheticSnapshot } from '../../src/model/samples.js';
import { buildTemplate } from '../../src/record/template-build.js';
import { compileTemplate, skeletonOf, type Template } from '../../src/record/templates.js';

/** Every field of a template, the ones a built template reads off its skeleton when asked included. */
const FIELDS = [
  'skeleton',
  'root',
  'paths',
  'leaves',
  'rate',
  'rateLeaves',
  'parts',
  'rateParts',
  'rateIdx',
  'listPart',
  'listCut',
] as const;
const fieldsOf = (t: Template): Record<string, unknown> => Object.fromEntries(FIELDS.map((k) => [k, t[k]]));

describe('templates built from the live object', () => {
  it('are the compiled templates of skeletonOf, with the same numbers and process lists', () => {
    const s = syntheticSnapshot(8, 2);
    const c = s.containers[3];
    const unusual = {
      ...c,
      id: '/x/"q"\\s/0,1:2]}{[',
      name: 'caf\u00e9 \u2028 0',
      labels: { '7': 'seven', 'a.b': 'x', '': 0 },
      processes: [{ pid: 7, comm: 'sleep' }],
      skipped: undefined,
      cpu: { ...c.cpu!, percent: null, quotaPercent: null, throttledPercent: 3.25 },
      io: {
        ...c.io!,
        readBytesPerSecond: null,
        devices: [
          {
            major: 8,
            minor: 0,
            device: 'sda',
            readBytes: 1,
            writeBytes: 2,
            readOps: 3,
            writeOps: 4,
            readBytesPerSecond: null,
            writeBytesPerSecond: 5.5,
            readOpsPerSecond: null,
            writeOpsPerSecond: 0,
          },
        ],
      },
      extra: { percent: null, nested: [[0, { rxBytesPerSecond: null }]], t: true, n: null, empty: {}, none: [] },
      network: [{ interface: 'eth0', rxBytes: 1, txBytes: 2, rxBytesPerSecond: null, txBytesPerSecond: 4 }],
    };
    for (const e of [s.host, { ...s.host, cpuPercent: null }, ...s.containers, unusual, {}, { processes: [] }]) {
      const [vals, lists, builtVals, builtLists] = [[], [], [], []] as [number[], unknown[][], number[], unknown[][]];
      const skeleton = skeletonOf(e, vals, lists, true);
      const built = buildTemplate(e, builtVals, builtLists, () => undefined);
      expect(fieldsOf(built)).toEqual(fieldsOf(compileTemplate(skeleton)));
      expect(builtVals).toEqual(vals); // NaN (a null rate) where skeletonOf has it
      expect(builtLists).toEqual(lists);
    }
    // A null rate is a number slot; a null elsewhere (or under a key named like a rate, off its path) is not.
    const t = buildTemplate(unusual, [], [], () => undefined);
    expect(t.skeleton).toContain('"percent":0,"quotaPercent":0');
    expect(t.skeleton).toContain('"extra":{"percent":null,"nested":[[0,{"rxBytesPerSecond":null}]]');
    expect(t.rateLeaves.map((r) => r.keys.join('.'))).toContain('io.devices.0.readOpsPerSecond');
  });

  it('gives back the template already held for the same skeleton, and shares alike subtrees', () => {
    const [a, b] = syntheticSnapshot(2, 0).containers;
    const first = buildTemplate(a, [], [], () => undefined);
    expect(buildTemplate(a, [], [], (skeleton) => (skeleton === first.skeleton ? first : undefined))).toBe(first);
    const other = buildTemplate({ ...b, cpu: structuredClone(a.cpu) }, [], [], () => undefined);
    const kid = (t: Template, key: string): unknown =>
      t.root.k === 'o' ? t.root.kids[t.root.keys.indexOf(key)] : undefined;
    expect(other.root).not.toBe(first.root);
    expect(kid(other, 'cpu')).toBe(kid(first, 'cpu'));
  });
});
