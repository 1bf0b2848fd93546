// The store's v2 format: column payloads against the previous sample, the
// per-segment index, and v1 stores still read.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyRates } from '../../src/model/rates.js';
import { syntheticSnapshot } from '../../src/model/samples.js';
import type { Snapshot } from '../../src/model/types.js';
import { deltaAgainst, encodePayload, KeyFrame, storedJson } from '../../src/record/codec.js';
import { ColumnEncoder, materialize } from '../../src/record/columns.js';
import { copyState, decodeColumns, type FlatState } from '../../src/record/column-decode.js';
import { Templates } from '../../src/record/templates.js';
import { encodeRecord, KIND_DELTA, KIND_KEYFRAME, segmentHeader, segmentName } from '../../src/record/format.js';
import { INDEX_ENTRY_BYTES, INDEX_MAGIC, indexName } from '../../src/record/index-file.js';
import { StoreReader } from '../../src/record/reader.js';
import { ReplayTimeline } from '../../src/record/replay.js';
import { StoreWriter } from '../../src/record/store.js';

const T0 = 1_767_000_000_000;
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-format-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function sample(n: number, tick: number, stepMs = 1000): Snapshot {
  const s = syntheticSnapshot(n, tick);
  s.timestamp = new Date(T0 + tick * stepMs).toISOString();
  return s;
}

/** Samples whose rates come from their counters (as the collector's do), with changes of every kind between them. */
function livelySamples(count: number): Snapshot[] {
  const out: Snapshot[] = [];
  let prev: Snapshot | null = null;
  for (let t = 0; t < count; t++) {
    const s = sample(6, t);
    for (const [i, c] of s.containers.entries()) {
      c.cpu!.usageSeconds = 100 + t * (0.25 + i / 10) + (t % 3) * 0.000123;
      c.memory!.usageBytes = 4096 * (1000 + ((t * 37 + i) % 50));
      c.io!.devices = [
        {
          major: 8,
          minor: 0,
          device: 'sda',
          readBytes: 4096 * t * (i + 1),
          writeBytes: 512 * t * t,
          readOps: t,
          writeOps: 2 * t,
          readBytesPerSecond: null,
          writeBytesPerSecond: null,
          readOpsPerSecond: null,
          writeOpsPerSecond: null,
        },
      ];
      c.network![0].rxBytes = 1000 * t * (i + 1);
      c.network![0].txBytes = 300 * t;
    }
    if (t % 4 === 1) s.containers[1].processes.push(99_000 + t); // a process starts
    if (t === 5) s.containers[2].name = 'renamed'; // a template change
    if (t >= 7) s.containers.splice(3, 1); // a cgroup goes
    if (t >= 9) s.containers.push(sample(9, t).containers[8]); // a cgroup comes
    if (t === 10) s.containers.reverse(); // another order
    if (t === 6) s.notes = ['no PSI here'];
    s.host.cpuUsageSeconds = 5000 + t * 1.37;
    applyRates(prev, s);
    out.push(s);
    prev = s;
  }
  return out;
}

/** The sample as stored, rates left out: those are recomputed on replay (within 0.001). */
function withoutRates(s: Snapshot): unknown {
  return JSON.parse(
    JSON.stringify(storedJson(s), (k, v: unknown) => (/PerSecond$|[pP]ercent$/.test(k) ? undefined : v)),
  );
}

describe('column payloads', () => {
  it('give back every number exactly and recompute the rates within 0.001, through every kind of change', () => {
    const samples = livelySamples(14);
    const encoder = new ColumnEncoder();
    const templates = new Templates(true);
    let prev: FlatState | null = null;
    samples.forEach((s, t) => {
      // A record that changes no cgroup or template is decoded onto the state before it: a copy keeps that one.
      const before = t % 8 === 0 || !prev ? null : copyState(prev);
      const state = decodeColumns(t % 8 === 0 ? null : prev, encoder.encode(s, t % 8 === 0), templates);
      const got = materialize(before, state);
      expect(withoutRates(got)).toEqual(withoutRates(s));
      got.containers.forEach((c, i) => {
        const live = s.containers[i];
        if (live.cpu!.percent === null) expect(c.cpu!.percent).toBeNull();
        else expect(Math.abs(c.cpu!.percent! - live.cpu!.percent)).toBeLessThanOrEqual(1e-3);
        expect(Math.abs((c.io!.readBytesPerSecond ?? 0) - (live.io!.readBytesPerSecond ?? 0))).toBeLessThanOrEqual(
          1e-3,
        );
      });
      prev = state;
    });
  });

  it('store rates that do not follow from the counters exactly as they were', () => {
    // syntheticSnapshot's rates are made up, not derived: they must be stored, and come back exact.
    const w = StoreWriter.open(dir, { intervalMs: 1000, retainMs: 86_400_000, maxBytes: 2 ** 30, sync: false });
    const written = Array.from({ length: 8 }, (_, t) => sample(10, t));
    for (const s of written) w.append(s);
    w.close();
    const r = StoreReader.open(dir);
    for (const s of written) expect(r.at(Date.parse(s.timestamp))).toEqual(storedJson(s));
  });

  it('cost a busy cgroup far less than the v1 JSON diffs did', () => {
    const samples = livelySamples(30).map((s) => ({ ...s, containers: s.containers.slice(0, 5) }));
    const encoder = new ColumnEncoder();
    const key = new KeyFrame(storedJson(samples[0]));
    let v2 = 0;
    let v1 = 0;
    samples.forEach((s, t) => {
      v2 += encoder.encode(s, t === 0).length;
      v1 += t === 0 ? encodePayload(storedJson(s)).length : encodePayload(deltaAgainst(key, s)).length;
    });
    expect(v2).toBeLessThan(v1 * 0.8);
  });
});

describe('the v2 store', () => {
  it('finds the sample at or before any time, across blocks and segments', () => {
    // A segment rolls every 30 s (retain 10 min / 20): 4 segments, blocks of 5.
    const w = StoreWriter.open(dir, {
      intervalMs: 1000,
      retainMs: 600_000,
      maxBytes: 2 ** 30,
      keyframeEvery: 4,
      sync: false,
    });
    const written = livelySamples(14).map((s, t) => ({ ...s, timestamp: new Date(T0 + t * 9000).toISOString() }));
    for (const s of written) w.append(s);
    w.close();
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tsi')).length).toBe(
      fs.readdirSync(dir).filter((f) => f.endsWith('.tsr')).length,
    );
    for (let k = 0; k < 40; k++) {
      const at = T0 + Math.floor(Math.random() * (13 * 9000 + 2000)); // up to 2 s past the last sample
      const want = written.filter((s) => Date.parse(s.timestamp) <= at).at(-1)!;
      const got = StoreReader.open(dir).at(at);
      expect(got.timestamp).toBe(want.timestamp);
      expect(withoutRates(got)).toEqual(withoutRates(want));
    }
  });

  it('reads a damaged index by scanning the segment, with one warning; a missing one silently', () => {
    const w = StoreWriter.open(dir, { intervalMs: 1000, retainMs: 86_400_000, maxBytes: 2 ** 30, sync: false });
    const written = Array.from({ length: 12 }, (_, t) => sample(4, t));
    for (const s of written) w.append(s);
    w.close();
    const index = path.join(
      dir,
      fs.readdirSync(dir).find((f) => f.endsWith('.tsi'))!,
    );
    const buf = fs.readFileSync(index);
    expect(buf.length).toBe(INDEX_MAGIC.length + 12 * INDEX_ENTRY_BYTES);
    buf[INDEX_MAGIC.length + 5 * INDEX_ENTRY_BYTES + 9] ^= 0xff; // entry 5's offset
    fs.writeFileSync(index, buf);
    const warnings: string[] = [];
    const r = StoreReader.open(dir, (m) => warnings.push(m));
    expect([...r.between(0, Infinity)]).toEqual(written.map(storedJson));
    expect(r.at(Date.parse(written[7].timestamp))).toEqual(storedJson(written[7]));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/\.tsi: index entry at offset \d+ fails its checksum; scanned the segment instead/);
    fs.unlinkSync(index);
    const quiet: string[] = [];
    expect([...StoreReader.open(dir, (m) => quiet.push(m)).between(0, Infinity)]).toHaveLength(12);
    expect(quiet).toEqual([]);
  });

  it('reads and checks only the block a seek needs', () => {
    const w = StoreWriter.open(dir, {
      intervalMs: 1000,
      retainMs: 86_400_000,
      maxBytes: 2 ** 30,
      keyframeEvery: 4,
      sync: false,
    });
    const written = Array.from({ length: 15 }, (_, t) => sample(4, t));
    for (const s of written) w.append(s);
    w.close();
    // Damage record 2 (in the first block, records 0-4): a seek into the third block (10-14) does not see it.
    const seg = path.join(
      dir,
      fs.readdirSync(dir).find((f) => f.endsWith('.tsr'))!,
    );
    const idx = fs.readFileSync(path.join(dir, indexName(path.basename(seg))));
    const offset = idx.readUInt32LE(INDEX_MAGIC.length + 2 * INDEX_ENTRY_BYTES + 8);
    const buf = fs.readFileSync(seg);
    buf.fill(0x33, offset + 30, offset + 40);
    fs.writeFileSync(seg, buf);
    const warnings: string[] = [];
    const r = StoreReader.open(dir, (m) => warnings.push(m));
    expect(r.at(Date.parse(written[12].timestamp))).toEqual(storedJson(written[12]));
    expect(warnings).toEqual([]);
    // Reading the damaged block: one warning, the record and the rest of its block skipped.
    const got = [...r.between(0, Infinity)].map((s) => s.timestamp);
    expect(got).toEqual(written.filter((_, t) => t < 2 || t > 4).map((s) => s.timestamp));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped damaged data: .*checksum mismatch/);
  });
});

describe('replay stepping', () => {
  it('keeps the chart samples of the last step: a step builds only the samples new in the window', () => {
    const w = StoreWriter.open(dir, { intervalMs: 1000, retainMs: 86_400_000, maxBytes: 2 ** 30, sync: false });
    for (let t = 0; t < 200; t++) w.append(sample(3, t));
    w.close();
    const timeline = new ReplayTimeline(StoreReader.open(dir), T0 + 150_000);
    const before = timeline.chartSamples(3_600_000, 50);
    expect(before).toHaveLength(50);
    expect(before.at(-1)!.timestamp).toBe(new Date(T0 + 150_000).toISOString());
    expect(timeline.step(1)).toBeNull();
    const after = timeline.chartSamples(3_600_000, 50);
    expect(after.at(-1)!.timestamp).toBe(new Date(T0 + 151_000).toISOString());
    // Every third second on the clock, the current one last: all but the newest one or two are the same objects.
    const kept = after.filter((s) => before.includes(s));
    expect(kept.length).toBeGreaterThanOrEqual(after.length - 2);
    expect(after.map((s) => s.timestamp)).toEqual(
      [...new Set([...before.slice(0, -1), ...after].map((s) => s.timestamp))].slice(-after.length),
    );
  });
});

describe('v1 stores', () => {
  /** A v1 segment as the previous writer made it: JSON diffs against the key frame, no index. */
  function writeV1Segment(samples: Snapshot[]): void {
    const parts = [segmentHeader(1000, 1)];
    let bytes = parts[0].length;
    const key = new KeyFrame(storedJson(samples[0]));
    samples.forEach((s, t) => {
      const ms = Date.parse(s.timestamp);
      const record =
        t === 0
          ? encodeRecord(ms, KIND_KEYFRAME, bytes, encodePayload(storedJson(s)))
          : encodeRecord(ms, KIND_DELTA, parts[0].length, encodePayload(deltaAgainst(key, s)));
      parts.push(record);
      bytes += record.length;
    });
    fs.writeFileSync(path.join(dir, segmentName(Date.parse(samples[0].timestamp))), Buffer.concat(parts));
  }

  it('are still read, and a v2 writer appends after them', () => {
    const old = Array.from({ length: 6 }, (_, t) => sample(5, t));
    writeV1Segment(old);
    const r1 = StoreReader.open(dir);
    for (const s of old) expect(r1.at(Date.parse(s.timestamp))).toEqual(storedJson(s));
    const w = StoreWriter.open(dir, { intervalMs: 1000, retainMs: 86_400_000, maxBytes: 2 ** 30, sync: false });
    const later = Array.from({ length: 6 }, (_, t) => sample(5, t + 10));
    for (const s of later) w.append(s);
    w.close();
    const warnings: string[] = [];
    const all = [...StoreReader.open(dir, (m) => warnings.push(m)).between(0, Infinity)];
    expect(all).toEqual([...old, ...later].map(storedJson));
    expect(warnings).toEqual([]);
    expect(
      fs
        .readFileSync(path.join(dir, fs.readdirSync(dir).sort()[1]))
        .subarray(0, 8)
        .toString(),
    ).toBe('TSTOPSG1');
  });
});
