// The seek path (`snapshot --at`): what a reader makes of a key frame and of
// the records after it is the same as before, only cheaper to make.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { busySamples } from '../../bench/record-busy.js';
import { applyRates } from '../../src/model/rates.js';
import { syntheticSnapshot } from '../../src/model/samples.js';
import type { Snapshot } from '../../src/model/types.js';
import { storedJson } from '../../src/record/codec.js';
import { encodeRecord, scanSegment } from '../../src/record/format.js';
import { encodeIndex, indexName } from '../../src/record/index-file.js';
import { StoreReader } from '../../src/record/reader.js';
import { StoreWriter } from '../../src/record/store.js';
import { skeletonOf, compileTemplate, scannedTemplate, type Template } from '../../src/record/templates.js';
import { textOf } from '../../src/record/columns.js';
import { scannedRateText, scannedRateTexts } from '../../src/record/template-text.js';

const T0 = 1_767_000_000_000;
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-seek-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

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

/** The scanned template of `text`, checked against the compiled one: its fields, and the numbers its selection reads. */
function scannedAsCompiled(text: string): Template {
  const scanned = scannedTemplate(text)!;
  const compiled = compileTemplate(text);
  expect(fieldsOf(scanned), text).toEqual(fieldsOf(compiled));
  expect([...scanned.select!.leaves], text).toEqual([
    compiled.paths.indexOf('cpu.percent'),
    compiled.paths.indexOf('memory.workingSetBytes'),
  ]);
  return scanned;
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

  // The scan keeps each top-level member's scan for the next template (template-scan.ts, MemberMemo).
  it('are the compiled templates when members are taken from the template before (repeated, changed, moved, a prefix)', () => {
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
    const texts = variants.map(skeleton);
    for (const order of [texts, [...texts].reverse(), [...texts, ...texts]]) {
      for (const text of order) scannedAsCompiled(text);
    }
  });
  // A skeleton that differs from one scanned in full only in its value strings is that scan moved (skeleton-strings.ts).
  it('are the compiled templates when taken from a skeleton that differs only in value strings', () => {
    const s = syntheticSnapshot(6, 2);
    const c = { ...s.containers[0], processes: [{ pid: 3, comm: 'sh' }] };
    const variants: unknown[] = [
      c,
      { ...c, id: '/a', name: 'a' }, // shorter strings before every number
      { ...c, id: '/a/much/longer/path/than/the/others', name: 'x'.repeat(300) },
      { ...c, id: '/q"uo\\ted\\"', name: '","name":0,"cpu":{' }, // escapes; a string that reads like structure
      { ...c, id: '', name: '' },
      { ...c, labels: { app: 'web' } },
      { ...c, labels: { app: 'a much longer label value, 0:0' } }, // a string after strings and numbers
      { ...c, labels: { other: 'web' } }, // another key: scanned in full
      { ...c, id: null }, // not a string: scanned in full
      { ...c, cpu: { ...c.cpu!, cpus: '0-15', mems: '' } }, // strings between numbers
      s.host,
      { ...s.host, hostname: 'another-host-name' },
      c,
    ];
    const texts = variants.map(skeleton);
    for (const order of [texts, [...texts].reverse(), [...texts, ...texts]]) {
      for (const text of order) {
        const scanned = scannedAsCompiled(text);
        // The members read whole are where the skeleton has them.
        const whole = JSON.parse(text) as Record<string, unknown>;
        const spans = scanned.select!.spans;
        const members: string[] = [];
        for (let x = 0; x < spans.length; x += 2) members.push(text.slice(spans[x], spans[x + 1]));
        expect(members).toEqual(
          Object.keys(whole)
            .filter((k) => ['id', 'name', 'runtime', 'populated', 'containerId', 'image', 'instance'].includes(k))
            .map((k) => `${JSON.stringify(k)}:${JSON.stringify(whole[k])}`),
        );
      }
    }
    // Taken, not scanned again: what counts numbers is the first one's.
    const first = scannedTemplate(skeleton({ ...c, id: '/first' }))!;
    const alike = scannedTemplate(skeleton({ ...c, id: '/second/longer', name: 'n' }))!;
    expect(alike.rate).toBe(first.rate);
    expect(alike.rateLeaves).toBe(first.rateLeaves);
  });

  // The scan keeps its members and numbers in arrays it reuses and grows (template-scan.ts: 64 members, 1,024 numbers at first).
  it('are the compiled templates past the first sizes of the scan arrays, and after a template that grew them', () => {
    const s = syntheticSnapshot(4, 2);
    const c = s.containers[0];
    const wide: Record<string, unknown> = { ...c };
    for (let m = 0; m < 150; m++)
      wide[`m${m}`] = { percent: m, used: m, list: Array.from({ length: 12 }, (_, i) => ({ readBytes: i, x: 'y' })) };
    const texts = [c, wide, { ...wide, id: '/wide-2' }, c, s.containers[1]].map(skeleton);
    for (const text of texts) {
      const scanned = scannedTemplate(text)!;
      const compiled = compileTemplate(text);
      expect(
        scanned.leaves > 1024 || text.length < 20_000,
        'the wide one has more numbers than the first array holds',
      ).toBe(true);
      expect(fieldsOf(scanned), text.slice(0, 80)).toEqual(fieldsOf(compiled));
      expect([...scanned.select!.leaves]).toEqual([
        compiled.paths.indexOf('cpu.percent'),
        compiled.paths.indexOf('memory.workingSetBytes'),
      ]);
    }
  });

  // A number that is 0 (or -0) is left in the skeleton's text, not cut out (template-text.ts, scannedText).
  it('print the numbers as the compiled templates do: zeros, negative zeros, non-finite numbers and rates', () => {
    const s = syntheticSnapshot(4, 2);
    const c = { ...s.containers[0], processes: [{ pid: 7, comm: 'x' }] };
    for (const text of [skeleton(c), skeleton(s.host)]) {
      const scanned = scannedTemplate(text)!;
      const compiled = compileTemplate(text);
      const n = compiled.leaves;
      const pick = [0, -0, 0, 1.5, Number.NaN, -0, Infinity, -3, 1e21, 0, 0, 0.1];
      const valueSets = [
        new Float64Array(n),
        new Float64Array(n).fill(-0),
        Float64Array.from({ length: n }, (_, j) => pick[j % pick.length]),
        Float64Array.from({ length: n }, (_, j) => pick[(j * 7 + 3) % pick.length]),
      ];
      const rateText = (vals: Float64Array): string => {
        let out = compiled.rateParts[0];
        for (let x = 0; x < compiled.rateIdx.length; x++) {
          const j = compiled.rateIdx[x];
          out += compiled.rate[j] || !Number.isFinite(vals[j]) ? 'null' : String(vals[j]);
          out += compiled.rateParts[x + 1];
        }
        return out;
      };
      for (const vals of valueSets) {
        const list = text.includes('"processes"') ? c.processes : null;
        const expected = textOf({ id: 'x', t: compiled, vals, list });
        expect(textOf({ id: 'x', t: scanned, vals, list })).toBe(expected);
        expect(JSON.parse(expected)).toBeTypeOf('object');
        expect(scannedRateText(text, scanned.scanned!, vals)).toBe(rateText(vals));
        for (const before of valueSets) {
          const pieces = ['['];
          const piecesBefore = ['['];
          scannedRateTexts(text, scanned.scanned!, vals, before, pieces, piecesBefore);
          expect([pieces.join(''), piecesBefore.join('')]).toEqual([`[${rateText(vals)}`, `[${rateText(before)}`]);
        }
      }
    }
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

/**
 * Busy cgroups (every counter moving, rates from the counters) with a
 * template change, a cgroup gone, one new and process lists changing
 * inside blocks: records decoded in place and records that change the layout.
 */
function recordedSamples(count: number): Snapshot[] {
  const out: Snapshot[] = [];
  let prev: Snapshot | null = null;
  for (const [t, busy] of busySamples(8, count, 1000, T0).entries()) {
    const s = structuredClone(busy);
    if (t >= 13) s.containers[2].name = 'renamed';
    if (t >= 25) s.containers.splice(4, 1);
    if (t >= 31) s.containers.push({ ...syntheticSnapshot(9, t).containers[8], id: '/late/comer' });
    if (t % 7 === 3) s.containers[1].processes = [...s.containers[1].processes, 90_000 + t];
    applyRates(prev, s);
    out.push(s);
    prev = s;
  }
  return out;
}

function writeStore(samples: readonly Snapshot[]): void {
  // A segment rolls every 30 s (retain 10 min / 20); a block is a key frame and 6 deltas.
  const w = StoreWriter.open(dir, {
    intervalMs: 1000,
    retainMs: 600_000,
    maxBytes: 2 ** 30,
    keyframeEvery: 6,
    sync: false,
  });
  for (const s of samples) w.append(s);
  w.close();
}

/** The sample as stored, rates left out (replay recomputes those, within 0.001). */
function withoutRates(s: Snapshot): unknown {
  return JSON.parse(
    JSON.stringify(storedJson(s), (k, v: unknown) => (/PerSecond$|[pP]ercent$/.test(k) ? undefined : v)),
  );
}

function expectRecorded(got: Snapshot, want: Snapshot): void {
  expect(got.timestamp).toBe(want.timestamp);
  expect(withoutRates(got)).toEqual(withoutRates(want));
  got.containers.forEach((c, i) => {
    const live = want.containers[i];
    if (live.cpu!.percent === null) expect(c.cpu!.percent).toBeNull();
    else expect(Math.abs(c.cpu!.percent! - live.cpu!.percent)).toBeLessThanOrEqual(1e-3);
    expect(Math.abs((c.io!.writeBytesPerSecond ?? 0) - (live.io!.writeBytesPerSecond ?? 0))).toBeLessThanOrEqual(1e-3);
  });
}

describe('seek', () => {
  it('returns the exact recorded sample at every time: fresh readers, one reading on, one reading back', () => {
    const written = recordedSamples(60);
    writeStore(written);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tsr')).length).toBeGreaterThan(1);
    const times = written.map((s) => Date.parse(s.timestamp));
    written.forEach((s, t) => expectRecorded(StoreReader.open(dir).at(times[t] + 500), s));
    const forward = StoreReader.open(dir);
    written.forEach((s, t) => expectRecorded(forward.at(times[t]), s));
    const back = StoreReader.open(dir);
    for (let t = written.length - 1; t >= 0; t--) expectRecorded(back.at(times[t]), written[t]);
    const all = [...StoreReader.open(dir).between(0, Infinity)];
    expect(all).toHaveLength(written.length);
    all.forEach((s, t) => expectRecorded(s, written[t]));
  });

  // A key frame is inflated in one chunk of 64 times its compressed size (column-decode.ts); one that inflates more
  // (cgroups alike but for their ids) is read in several.
  it('reads a key frame that inflates to more than its first output chunk', () => {
    const written: Snapshot[] = [];
    let prev: Snapshot | null = null;
    for (let t = 0; t < 3; t++) {
      const s = syntheticSnapshot(1, t);
      s.timestamp = new Date(T0 + t * 1000).toISOString();
      s.monotonicSeconds = 100 + t;
      s.containers = Array.from({ length: 3000 }, (_, i) => ({
        ...s.containers[0],
        id: `/alike/${i}`,
        name: `/alike/${i}`,
      }));
      if (prev) applyRates(prev, s);
      written.push(s);
      prev = s;
    }
    writeStore(written);
    const segment = fs.readdirSync(dir).find((f) => f.endsWith('.tsr'))!;
    const key = scanSegment(fs.readFileSync(path.join(dir, segment))).records[0];
    expect(zlib.inflateRawSync(key.payload).length).toBeGreaterThan(key.payload.length * 64);
    written.forEach((s, t) => expectRecorded(StoreReader.open(dir).at(T0 + t * 1000), s));
  });

  it('skips a record that checks but does not decode, and what follows it in its block; the samples before it stay exact', () => {
    const written = recordedSamples(45);
    writeStore(written);
    // Record 10 (the fourth delta of the second block) rewritten with its last bytes cut: it checks, and decoding it
    // fails once its numbers are applied. In the first segment, whose decoded state a reader keeps (the newest
    // segment is read afresh at each seek).
    const segments = fs.readdirSync(dir).filter((f) => f.endsWith('.tsr'));
    expect(segments.length).toBe(2);
    const seg = path.join(dir, segments.sort()[0]);
    const scan = scanSegment(fs.readFileSync(seg));
    const damaged = 10;
    const parts: Buffer[] = [fs.readFileSync(seg).subarray(0, scan.records[0].offset)];
    // The records after it move: their key offsets follow.
    const moved = new Map<number, number>();
    let at = scan.records[0].offset;
    for (const [k, r] of scan.records.entries()) {
      let payload = r.payload;
      if (k === damaged) {
        const raw = zlib.inflateRawSync(payload);
        payload = zlib.deflateRawSync(raw.subarray(0, raw.length - 3));
      }
      moved.set(r.offset, at);
      const record = encodeRecord(r.timestampMs, r.kind, moved.get(r.keyOffset)!, payload);
      parts.push(record);
      at += record.length;
    }
    const buf = Buffer.concat(parts);
    fs.writeFileSync(seg, buf);
    fs.writeFileSync(path.join(dir, indexName(path.basename(seg))), encodeIndex(scanSegment(buf).records));
    const times = written.map((s) => Date.parse(s.timestamp));
    const warnings: string[] = [];
    const r = StoreReader.open(dir, (m) => warnings.push(m));
    // Read up to just before it (decoded in place), then at it: the sample before it, exact.
    expectRecorded(r.at(times[damaged - 2]), written[damaged - 2]);
    expectRecorded(r.at(times[damaged]), written[damaged - 1]);
    expectRecorded(r.at(times[damaged + 1]), written[damaged - 1]);
    expectRecorded(r.at(times[damaged - 1]), written[damaged - 1]);
    // The next block reads as recorded.
    expectRecorded(r.at(times[14]), written[14]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/samples after a damaged record .* are skipped/);
    const got = [...StoreReader.open(dir).between(0, Infinity)].map((s) => s.timestamp);
    expect(got).toEqual(written.filter((_, t) => t < damaged || t >= 14).map((s) => s.timestamp));
  });
});
