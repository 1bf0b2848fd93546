// The recorder's encoder (src/record/columns.ts, rate-views.ts): what it
// leaves to replay, sample after sample, and that replay gives it back.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyRates } from '../../src/model/rates.js';
import { syntheticSnapshot } from '../../src/model/samples.js';
import type { Snapshot } from '../../src/model/types.js';
import { ColumnEncoder, materialize, type ColumnState } from '../../src/record/columns.js';
import { copyState, decodeColumns, type FlatState } from '../../src/record/column-decode.js';
import { StoreReader } from '../../src/record/reader.js';
import { runRecorder } from '../../src/record/recorder.js';
import { StoreWriter } from '../../src/record/store.js';
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

describe('the recorder loop', () => {
  it('records its first sample with rates: one collection before it gives them a base', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-encode-'));
    try {
      const samples = derivedSamples(40);
      let collections = 0;
      const source = {
        collect(): Snapshot {
          const s = structuredClone(samples[collections++]);
          s.timestamp = new Date().toISOString();
          return s;
        },
      };
      const writer = StoreWriter.open(dir, { intervalMs: 100, retainMs: 86_400_000, maxBytes: 2 ** 30, sync: false });
      const loop = runRecorder(source, writer, 100);
      const reader = (): StoreReader => StoreReader.open(dir);
      const deadline = Date.now() + 20_000;
      while (reader().times().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      loop.stop();
      await loop.done;
      const r = reader();
      const times = r.times();
      expect(times.length).toBeGreaterThanOrEqual(3);
      expect(collections).toBe(times.length + 1);
      const first = r.at(times[0])!;
      expect(first.host.cpuPercent).not.toBeNull();
      expect(first.containers[0].cpu!.percent).toBeCloseTo(samples[1].containers[0].cpu!.percent!, 3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
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
