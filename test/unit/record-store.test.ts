import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffJson, patchJson, storedJson } from '../../src/record/codec.js';
import { scanSegment } from '../../src/record/format.js';
import { StoreLockedError } from '../../src/record/lock.js';
import { StoreError, StoreReader } from '../../src/record/reader.js';
import { StoreWriter } from '../../src/record/store.js';
import { syntheticSnapshot } from '../../src/model/samples.js';
import type { Snapshot } from '../../src/model/types.js';

const DAY_MS = 86_400_000;
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-store-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** syntheticSnapshot ticks one second apart; `stepMs` spaces them out. */
function sample(n: number, tick: number, stepMs = 1000): Snapshot {
  const s = syntheticSnapshot(n, tick);
  s.timestamp = new Date(1_767_000_000_000 + tick * stepMs).toISOString();
  return s;
}

function writer(options: Partial<Parameters<typeof StoreWriter.open>[1]> = {}): StoreWriter {
  return StoreWriter.open(dir, { intervalMs: 1000, retainMs: 7 * DAY_MS, maxBytes: 2 ** 31, sync: false, ...options });
}

function segmentFiles(): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.tsr'));
}

describe('diff and patch', () => {
  it('round-trips nested changes, replacements and deletions without touching the base', () => {
    const a = { x: 1, y: { z: [1, 2], w: 'a' }, gone: true, same: { k: null } };
    const b = { x: 2, y: { z: [1, 3], w: 'a' }, same: { k: null }, added: { q: 1 } };
    const d = diffJson(a, b)!;
    expect(d).toEqual({ x: 1, y: { z: { '#': { 1: 1 } } }, added: [{ q: 1 }], gone: [] });
    expect(patchJson(a, d)).toEqual(b);
    expect(a.x).toBe(1);
    expect(diffJson(b, structuredClone(b))).toBeUndefined();
    // Arrays of another length are replaced; elements of the same length patched.
    const nets = [
      { i: 'eth0', rx: 10 },
      { i: 'lo', rx: 1 },
    ];
    const later = [
      { i: 'eth0', rx: 15 },
      { i: 'lo', rx: 1 },
    ];
    expect(patchJson(nets, diffJson(nets, later)!)).toEqual(later);
    expect(patchJson(nets, diffJson(nets, later.slice(0, 1))!)).toEqual(later.slice(0, 1));
  });
});

describe('store', () => {
  it('replays every sample exactly, key frames and deltas alike', () => {
    const w = writer({ keyframeEvery: 4 });
    const written = Array.from({ length: 12 }, (_, t) => sample(20, t));
    for (const s of written) w.append(s);
    w.close();
    const r = StoreReader.open(dir);
    // Fractions are kept to 10 significant digits, 6 decimals: storedJson is the sample as stored.
    for (const s of written) expect(r.at(Date.parse(s.timestamp))).toEqual(storedJson(s));
    expect([...r.between(Date.parse(written[3].timestamp), Date.parse(written[6].timestamp))]).toEqual(
      written.slice(3, 7).map(storedJson),
    );
    // "at or just before": half a second after sample 5 is sample 5.
    expect(r.at(Date.parse(written[5].timestamp) + 500).timestamp).toBe(written[5].timestamp);
  });

  it('handles cgroups that appear and disappear between key frames', () => {
    const w = writer({ keyframeEvery: 100 });
    const first = sample(5, 0);
    const second = sample(5, 1);
    second.containers.splice(1, 1); // one gone
    second.containers.push(sample(7, 1).containers[6]); // one new
    w.append(first);
    w.append(second);
    w.close();
    const got = StoreReader.open(dir).at(Date.parse(second.timestamp));
    expect(got).toEqual(storedJson(second));
  });

  it('names the range it holds for a time outside it', () => {
    const w = writer();
    for (let t = 0; t < 3; t++) w.append(sample(2, t));
    w.close();
    const r = StoreReader.open(dir);
    expect(() => r.at(1_767_000_000_000 - 60_000)).toThrow(
      /no sample at 2025-12-29T09:19:00Z: the store .* holds 2025-12-29T09:20:00Z to 2025-12-29T09:20:02Z/,
    );
    expect(() => r.at(1_767_000_000_000 + 3_600_000)).toThrow(StoreError);
    expect(() => StoreReader.open(path.join(dir, 'nope'))).toThrow(/no store at/);
  });

  it('refuses a second writer on the same store, naming the first', () => {
    const w = writer();
    expect(() => writer()).toThrow(StoreLockedError);
    expect(() => writer()).toThrow(new RegExp(`already being recorded by pid ${process.pid}`));
    w.close();
    writer().close(); // free again once closed
  });

  it('drops a torn last record at open, keeps everything before it', () => {
    const w = writer();
    for (let t = 0; t < 5; t++) w.append(sample(3, t));
    w.close();
    const file = path.join(dir, segmentFiles()[0]);
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 7); // the last record cut short
    const warnings: string[] = [];
    const r = StoreReader.open(dir, (m) => warnings.push(m));
    expect([...r.between(0, Infinity)].length).toBe(4);
    expect(warnings).toEqual([]); // a tail in flight is not damage
    const repaired: string[] = [];
    const w2 = writer({ warn: (m) => repaired.push(m) });
    w2.append(sample(3, 10));
    w2.close();
    expect(repaired).toHaveLength(1);
    expect(repaired[0]).toMatch(/dropped an incomplete last record/);
    expect(StoreReader.open(dir).times()).toHaveLength(5);
  });

  it('skips overwritten bytes mid-file with one warning and reads the rest', () => {
    // Key frames at records 0, 11, 22 and 33: a delta is relative to the record before it, so damage
    // to record 20 costs it and the rest of its block (21), nothing else.
    const w = writer({ keyframeEvery: 10 });
    for (let t = 0; t < 40; t++) w.append(sample(10, t));
    w.close();
    const file = path.join(dir, segmentFiles()[0]);
    const buf = fs.readFileSync(file);
    const records = scanSegment(buf).records;
    const victim = records[20];
    buf.fill(0x5a, victim.offset + 30, victim.offset + 60);
    fs.writeFileSync(file, buf);
    const warnings: string[] = [];
    const got = [...StoreReader.open(dir, (m) => warnings.push(m)).between(0, Infinity)];
    expect(got.map((s) => s.timestamp)).toEqual(
      Array.from({ length: 40 }, (_, t) => sample(1, t).timestamp).filter((_, t) => t !== 20 && t !== 21),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped damaged data: .*checksum mismatch/);
  });

  it('keeps the size cap after every append, dropping the oldest first', () => {
    const maxBytes = 400 * 1024;
    const w = writer({ maxBytes, keyframeEvery: 10 });
    let peak = 0;
    for (let t = 0; t < 600; t++) {
      w.append(sample(30, t));
      peak = Math.max(
        peak,
        segmentFiles().reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0),
      );
    }
    w.close();
    expect(peak).toBeLessThanOrEqual(maxBytes * 1.05);
    const times = StoreReader.open(dir).times();
    expect(times.at(-1)).toBe(Date.parse(sample(1, 599).timestamp));
    expect(times[0]).toBeGreaterThan(Date.parse(sample(1, 0).timestamp)); // the oldest went
    // What is left is contiguous: nothing dropped from the middle.
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(1000);
  });

  it('drops samples past retention as it goes', () => {
    // One sample a minute for three days, retained one day.
    const w = writer({ intervalMs: 60_000, retainMs: DAY_MS });
    for (let t = 0; t < 3 * 24 * 60; t++) w.append(sample(2, t, 60_000));
    w.close();
    const times = StoreReader.open(dir).times();
    const newest = times.at(-1)!;
    expect(newest - times[0]).toBeLessThanOrEqual(DAY_MS * 1.05);
    expect(newest - times[0]).toBeGreaterThanOrEqual(DAY_MS * 0.95);
  });

  it('lets a reader read while the writer appends', () => {
    const w = writer();
    const r = StoreReader.open(dir);
    for (let t = 0; t < 10; t++) {
      w.append(sample(5, t));
      expect(r.at(Date.parse(sample(1, t).timestamp)).containers[3]).toEqual(storedJson(sample(5, t).containers[3]));
    }
    w.close();
  });
});
