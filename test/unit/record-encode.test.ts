// The recorder's encoder (src/record/columns.ts, rate-views.ts): what it
// leaves to replay, sample after sample, and that replay gives it back.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { applyRates } from '../../src/model/rates.js';
import { syntheticSnapshot } from '../../src/model/samples.js';
import type { Snapshot } from '../../src/model/types.js';
import { ColumnEncoder, materialize, type ColumnState, type Header } from '../../src/record/columns.js';
import { copyState, decodeColumns, type FlatState } from '../../src/record/column-decode.js';
import { StoreReader } from '../../src/record/reader.js';
import { Templates } from '../../src/record/templates.js';

const T0 = 1_767_000_000_000;

/** Samples whose rates follow from their counters (as the collector's do); cgroups come and go. */
function derivedSamples(count: number, cgroups = 5): Snapshot[] {
  const out: Snapshot[] = [];
  let prev: Snapshot | null = null;
  for (let t = 0; t < count; t++) {
    const s = syntheticSnapshot(cgroups + 1, t);
    s.timestamp = new Date(T0 + t * 1000).toISOString();
    s.monotonicSeconds = 1000 + t * 1.5;
    s.containers = s.containers.filter((_, i) => i < cgroups || t >= 6); // the last one comes at t = 6
    for (const [i, c] of s.containers.entries()) {
      // As the collector makes them: no rate until applyRates derives one.
      Object.assign(c.cpu!, { percent: null, quotaPercent: null, throttledPercent: null });
      Object.assign(c.io!, { readBytesPerSecond: null, writeBytesPerSecond: null });
      for (const dev of c.io!.devices)
        Object.assign(dev, {
          readBytesPerSecond: null,
          writeBytesPerSecond: null,
          readOpsPerSecond: null,
          writeOpsPerSecond: null,
        });
      for (const n of c.network ?? []) Object.assign(n, { rxBytesPerSecond: null, txBytesPerSecond: null });
      c.cpu!.usageSeconds = 100 + t * (0.25 + i / 10) + ((t * 7) % 5) * 0.000123;
      c.cpu!.periods = 10 * t;
      c.cpu!.throttledPeriods = t;
      for (const [d, dev] of c.io!.devices.entries()) {
        dev.readBytes = 4096 * t * (i + d + 1);
        dev.writeBytes = 512 * t * t;
        dev.readOps = t;
        dev.writeOps = 2 * t;
      }
      for (const n of c.network ?? []) {
        n.rxBytes = 1000 * t * (i + 1);
        n.txBytes = 300 * t;
      }
    }
    s.host.cpuUsageSeconds = 5000 + t * 1.37;
    s.host.cpuPercent = null;
    for (const n of s.host.network ?? []) Object.assign(n, { rxBytesPerSecond: null, txBytesPerSecond: null });
    applyRates(prev, s);
    out.push(s);
    prev = s;
  }
  return out;
}

/** Rate positions of a decoded state: NaN where the record left the rate to replay. */
function rateValues(state: ColumnState): number[] {
  return state.entities.flatMap((e) => e.t.rateLeaves.map(({ j }) => e.vals[j]));
}

describe('the column encoder', () => {
  it('leaves every rate that follows from the counters to replay, sample after sample', () => {
    const samples = derivedSamples(20);
    const encoder = new ColumnEncoder();
    const templates = new Templates(true);
    let prev: FlatState | null = null;
    samples.forEach((s, t) => {
      const key = t % 8 === 0;
      // A record decoded onto the state before it in place: a copy keeps that one (the rates' base).
      const before = key || !prev ? null : copyState(prev);
      const state = decodeColumns(key ? null : prev, encoder.encode(s, key), templates);
      const rates = rateValues(state);
      if (t > 0) expect(rates.length).toBeGreaterThan(0);
      // Key frames store their rates; a delta stores none (every rate of these samples follows from the counters).
      if (key) expect(rates.filter(Number.isNaN)).toEqual([]);
      else expect(rates.filter((v) => !Number.isNaN(v))).toEqual([]);
      const got = materialize(before, state);
      got.containers.forEach((c, i) => {
        const live = s.containers[i];
        expect(c.id).toBe(live.id);
        if (live.cpu!.percent === null) expect(c.cpu!.percent).toBeNull();
        else expect(Math.abs(c.cpu!.percent! - live.cpu!.percent)).toBeLessThanOrEqual(1e-3);
      });
      prev = state;
    });
  });

  it('stores a rate that does not follow from the counters, in any sample of a run of derived ones', () => {
    const samples = derivedSamples(12);
    // Another face collected in between (tstop export --record): that sample's CPU % covers another interval.
    for (const t of [3, 4, 9]) samples[t].containers[1].cpu!.percent = 77.5 + t;
    const encoder = new ColumnEncoder();
    const templates = new Templates(true);
    let prev: FlatState | null = null;
    samples.forEach((s, t) => {
      const before = t === 0 || !prev ? null : copyState(prev);
      const state = decodeColumns(t === 0 ? null : prev, encoder.encode(s, t === 0), templates);
      const got = materialize(before, state);
      if ([3, 4, 9].includes(t)) expect(got.containers[1].cpu!.percent).toBe(77.5 + t);
      else if (t > 0)
        expect(Math.abs(got.containers[1].cpu!.percent! - s.containers[1].cpu!.percent!)).toBeLessThanOrEqual(1e-3);
      prev = state;
    });
  });
});

/** The JSON header of a record's payload (columns.ts). */
function headerOf(payload: Buffer): Header {
  const raw = zlib.inflateRawSync(payload);
  return JSON.parse(raw.subarray(4, 4 + raw.readUInt32LE(0)).toString()) as Header;
}

describe('rates as number slots (TSTOPSG3)', () => {
  it("keeps a cgroup's template from its first sample (no rates yet) to the next: the second record carries none", () => {
    const samples = derivedSamples(4);
    const encoder = new ColumnEncoder();
    const templates = new Templates(true);
    const first = encoder.encode(samples[0], true);
    expect(samples[0].containers[0].cpu!.percent).toBeNull();
    expect(samples[1].containers[0].cpu!.percent).not.toBeNull();
    const second = encoder.encode(samples[1], false);
    expect(headerOf(second).s).toBeUndefined();
    // The key frame's null rates are stored (one null literal) and replay as null, with no sample before them.
    expect(headerOf(first).l).toEqual([null]);
    const key = decodeColumns(null, first, templates);
    const got = materialize(null, key);
    expect(got.containers[0].cpu!.percent).toBeNull();
    expect(got.host.cpuPercent).toBeNull();
    expect(got.containers[0].io!.readBytesPerSecond).toBeNull();
    const before = copyState(key);
    const next = materialize(before, decodeColumns(key, second, templates));
    expect(Math.abs(next.containers[0].cpu!.percent! - samples[1].containers[0].cpu!.percent!)).toBeLessThan(1e-3);
  });

  it('gives a rate that stays null (no quota) back as null in key frames and deltas, storing nothing for it in deltas', () => {
    const samples = derivedSamples(6);
    for (const s of samples) s.containers[2].cpu!.quotaCores = null;
    let prev: Snapshot | null = null;
    for (const s of samples) {
      for (const c of s.containers) c.cpu!.quotaPercent = null;
      applyRates(prev, s);
      prev = s;
    }
    expect(samples[3].containers[2].cpu!.quotaPercent).toBeNull();
    const encoder = new ColumnEncoder();
    const templates = new Templates(true);
    let state: FlatState | null = null;
    samples.forEach((s, t) => {
      const key = t === 0 || t === 4;
      const payload = encoder.encode(s, key);
      // A delta changes no template, and stores no literal: a null that replay gives back as null is left to it.
      if (!key) expect(headerOf(payload)).not.toHaveProperty('s');
      if (!key) expect(headerOf(payload)).not.toHaveProperty('l');
      const before = key || !state ? null : copyState(state);
      state = decodeColumns(key ? null : state, payload, templates);
      const got = materialize(before, state);
      expect(got.containers[2].cpu!.quotaPercent).toBeNull();
      expect(got.containers[2].cpu!.percent === null).toBe(s.containers[2].cpu!.percent === null);
    });
  });

  it('reads a store written before (TSTOPSG2: null rates in the templates) as that build read it', () => {
    const dir = fileURLToPath(new URL('../fixtures/record/v2-store', import.meta.url));
    const expected = JSON.parse(
      fs.readFileSync(fileURLToPath(new URL('../fixtures/record/v2-expected.json', import.meta.url)), 'utf8'),
    ) as Snapshot[];
    expect(fs.readFileSync(path.join(dir, 'seg-1767000000000.tsr')).subarray(0, 8).toString()).toBe('TSTOPSG2');
    const reader = StoreReader.open(dir);
    expect([...reader.between(0, 1_767_000_010_000)]).toEqual(expected);
    expect(reader.at(1_767_000_004_500)).toEqual(expected[4]);
    expect(expected[4].containers[2].cpu!.percent).toBe(12.5); // a stored rate
    expect(expected[4].containers[1].cpu!.quotaPercent).toBeNull(); // null in the key frame's template
  });
});

describe('templates', () => {
  it('share the nodes of alike subtrees across cgroups, and keep apart the ones that differ', () => {
    const templates = new Templates();
    const [a, b] = syntheticSnapshot(2, 0).containers;
    const skeleton = (c: unknown): string => JSON.stringify(c, (_k, v: unknown) => (typeof v === 'number' ? 0 : v));
    const device = (name: string): NonNullable<typeof a.io>['devices'][number] => ({
      major: 8,
      minor: 0,
      device: name,
      readBytes: 1,
      writeBytes: 2,
      readOps: 3,
      writeOps: 4,
      readBytesPerSecond: null,
      writeBytesPerSecond: null,
      readOpsPerSecond: null,
      writeOpsPerSecond: null,
    });
    a.io!.devices = [device('sda')];
    b.cpu = structuredClone(a.cpu);
    b.io = { ...structuredClone(a.io!), devices: [device('other')] };
    const ta = templates.get(skeleton(a));
    const tb = templates.get(skeleton(b));
    const kid = (t: typeof ta, key: string): unknown =>
      t.root.k === 'o' ? t.root.kids[t.root.keys.indexOf(key)] : undefined;
    expect(ta.root).not.toBe(tb.root); // their ids differ
    expect(kid(ta, 'cpu')).toBe(kid(tb, 'cpu'));
    expect(kid(ta, 'io')).not.toBe(kid(tb, 'io'));
    expect(tb.parts.join('')).toContain('"other"');
    expect(ta.parts.join('')).not.toContain('"other"');
  });
});
