// The replay timeline (src/record/replay.ts) and what the dashboard draws
// from it (ui/replay.ts): stepping by samples and durations on a generated
// store with a gap, the range message outside it, the audit log's limit
// changes between two samples, and the chart history read from the store.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeRecord } from '../../src/limiter/api.js';
import { syntheticSnapshot } from '../../src/model/samples.js';
import type { Snapshot } from '../../src/model/types.js';
import { StoreReader } from '../../src/record/reader.js';
import { ReplayTimeline } from '../../src/record/replay.js';
import { StoreWriter } from '../../src/record/store.js';
import { recordInto, ReplayView } from '../../ui/replay.js';
import { recordedLastHour } from '../../src/cli/replay.js';
import { applyRates } from '../../src/model/rates.js';
import { ownRates } from '../../src/record/recorder.js';
import { headerLines } from '../../ui/view/header.js';
import { History } from '../../ui/view/history.js';
import { initialState } from '../../ui/view/view-state.js';
import { openDashboard } from '../ui/harness.js';
import { ASCII_GLYPHS, spansText } from '../../ui/view/text.js';

const T0 = 1_767_000_000_000;
const STEP_MS = 5000;
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-replay-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function sampleAt(ms: number, tick: number): Snapshot {
  const s = syntheticSnapshot(3, tick);
  s.timestamp = new Date(ms).toISOString();
  return s;
}

/** Samples every 5 s for 10 minutes, a 20-minute gap (the recorder was down), then 10 minutes more. */
function writeStore(): number[] {
  const w = StoreWriter.open(dir, { intervalMs: STEP_MS, retainMs: 86_400_000, maxBytes: 2 ** 30, sync: false });
  const times: number[] = [];
  for (let i = 0; i < 120; i++) times.push(T0 + i * STEP_MS);
  for (let i = 0; i < 120; i++) times.push(T0 + 30 * 60_000 + i * STEP_MS);
  times.forEach((t, i) => w.append(sampleAt(t, i)));
  w.close();
  return times;
}

function change(
  id: string,
  timeMs: number,
  containerId: string,
  result: ChangeRecord['result'] = 'applied',
): ChangeRecord {
  return {
    type: 'change',
    v: 1,
    id,
    time: new Date(timeMs).toISOString(),
    host: 'h',
    uid: 0,
    user: 'root',
    sudoUser: null,
    pid: 1,
    pidStart: null,
    via: 'cli',
    remoteAddress: null,
    action: 'limit',
    undoes: null,
    container: { id: containerId, name: 'svc' },
    writes: [{ path: `/sys/fs/cgroup/memory${containerId}/memory.limit_in_bytes`, oldValue: '1', newValue: '2' }],
    signal: null,
    pids: null,
    result,
    error: null,
    notes: [],
  };
}

describe('the replay timeline', () => {
  it('steps one sample, across the gap, and stops at both ends with the range', () => {
    const times = writeStore();
    const t = new ReplayTimeline(StoreReader.open(dir), times[5] + 1234);
    expect(t.current().timeMs).toBe(times[5]);
    expect(t.current().previousMs).toBe(times[4]);
    expect(t.step(1)).toBeNull();
    expect(t.current().timeMs).toBe(times[6]);
    expect(t.step(-1)).toBeNull();
    expect(t.current().timeMs).toBe(times[5]);
    // The last sample before the gap steps to the first after it.
    expect(t.seek(times[119])).toBeNull();
    expect(t.step(1)).toBeNull();
    expect(t.current().timeMs).toBe(times[120]);
    expect(t.seek(times[0])).toBeNull();
    expect(t.step(-1)).toMatch(/^this is the first sample: the store .* holds 2025-12-29T09:20:00Z to /);
    expect(t.current().timeMs).toBe(times[0]);
    expect(t.seek(times.at(-1)!)).toBeNull();
    expect(t.step(1)).toMatch(/^this is the last sample/);
  });

  it('moves by a minute and an hour; a time outside the store leaves it where it was, naming the range', () => {
    const times = writeStore();
    const t = new ReplayTimeline(StoreReader.open(dir), times[10]);
    expect(t.shift(60_000)).toBeNull();
    expect(t.current().timeMs).toBe(times[22]);
    expect(t.shift(-60_000)).toBeNull();
    expect(t.current().timeMs).toBe(times[10]);
    // An hour back is before the store: refused, the cursor stays.
    expect(t.shift(-3_600_000)).toMatch(
      /^no sample at .*: the store .* holds 2025-12-29T09:20:00Z to 2025-12-29T09:59:55Z$/,
    );
    expect(t.current().timeMs).toBe(times[10]);
    // Into the gap: the last sample before it.
    expect(t.seek(T0 + 15 * 60_000)).toBeNull();
    expect(t.current().timeMs).toBe(times[119]);
    expect(() => new ReplayTimeline(StoreReader.open(dir), T0 - 1)).toThrow(/holds 2025-12-29T09:20:00Z to/);
  });

  it('marks the applied limit changes made between the previous sample and this one', () => {
    const times = writeStore();
    const id = syntheticSnapshot(3, 0).containers[1].id;
    const changes = [
      change('aaaaaaaaaaaa', times[7] + 2000, id),
      change('bbbbbbbbbbbb', times[7] + 2500, id, 'rolled-back'),
      change('cccccccccccc', times[20] + 100, '/other'),
    ];
    const t = new ReplayTimeline(StoreReader.open(dir), times[7], changes);
    const view = new ReplayView(t);
    expect(t.current().changes).toEqual([]);
    expect(view.header()).toEqual({ timeMs: times[7], limitChanges: 0 });
    t.step(1);
    expect(t.current().changes.map((c) => c.id)).toEqual(['aaaaaaaaaaaa']);
    expect(view.header().limitChanges).toBe(1);
    expect(view.changeMessage()).toMatch(
      /^limit change at .*: limit svc: memory\.limit_in_bytes 1 -> 2 \(by root via cli, change aaaaaaaaaaaa\)$/,
    );
    const header = headerLines({
      snapshot: view.snapshot,
      state: initialState(),
      shown: 3,
      width: 200,
      now: new Date(),
      glyphs: ASCII_GLYPHS,
      replay: view.header(),
    });
    expect(spansText(header[0])).toMatch(/LIMIT CHANGE {2}REPLAY {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d\s*$/);
    const notes = view.limitNotes(id);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({
      sinceLastSample: true,
      writes: [{ file: 'memory.limit_in_bytes', oldValue: '1', newValue: '2' }],
    });
    // One sample later the change is history: still in the detail view, no longer marked.
    t.step(1);
    expect(view.header().limitChanges).toBe(0);
    expect(view.limitNotes(id)[0].sinceLastSample).toBe(false);
    expect(view.limitNotes('/other')).toEqual([]);
  });

  it('reads the charts from the store: the hour up to the sample, at most 240 points, the sample last', () => {
    const times = writeStore();
    const t = new ReplayTimeline(StoreReader.open(dir), times[200]);
    const samples = t.chartSamples();
    expect(samples.length).toBe(201);
    expect(Date.parse(samples.at(-1)!.timestamp)).toBe(times[200]);
    expect(t.chartSamples(3_600_000, 50).length).toBe(50);
    expect(Date.parse(t.chartSamples(3_600_000, 50).at(-1)!.timestamp)).toBe(times[200]);
    const id = samples[0].containers[0].id;
    const history = new ReplayView(t).history(id);
    const points = history.get(id)!.series.mem.points();
    expect(points.times.length).toBe(201);
    // Only the detail view's cgroup is built for its charts; the same values as the whole samples give.
    const other = samples[0].containers.find((c) => c.id !== id)!.id;
    expect(history.get(other)).toBeUndefined();
    const whole = new History();
    recordInto(whole, samples, t.current().timeMs, t.current().snapshot.monotonicSeconds);
    expect(points).toEqual(whole.get(id)!.series.mem.points());
    expect(t.chartSamples(undefined, undefined, id).every((s) => s.containers.length === 1)).toBe(true);
    // Placed on the current sample's clock: the last point is the sample itself, the first 200 samples earlier in wall time.
    const now = t.current().snapshot.monotonicSeconds;
    expect(points.times.at(-1)).toBeCloseTo(now, 6);
    expect(points.times[0]).toBeCloseTo(now - (times[200] - times[0]) / 1000, 6);
  });
});

describe('the replay dashboard', () => {
  it("keeps every cgroup's history for the table after the detail view (which reads one) closes", () => {
    const times = writeStore();
    const timeline = new ReplayTimeline(StoreReader.open(dir), times[200]);
    const ids = timeline.current().snapshot.containers.map((c) => c.id);
    const h = openDashboard(160, 48, { replay: timeline });
    const held = (): string[] => ids.filter((id) => h.app.history.get(id) !== undefined);
    void h.app.start(); // shows the replay's frame (resolves at quit)
    try {
      expect(ids.length).toBeGreaterThan(1);
      expect(held()).toEqual(ids);
      h.app.openDetail();
      expect(held()).toHaveLength(1);
      h.app.closeDetail();
      expect(held()).toEqual(ids);
    } finally {
      h.close();
    }
  });
});

describe('recorded history in the live dashboard', () => {
  it('places recorded samples on the live clock by their wall time', () => {
    const h = new History();
    const samples = [sampleAt(T0, 0), sampleAt(T0 + 5000, 1)];
    recordInto(h, samples, T0 + 65_000, 1000);
    const id = samples[0].containers[0].id;
    expect(h.get(id)!.series.cpu.points().times).toEqual([935, 940]);
  });

  it("reads the store's last hour for the live dashboard; a named store that is not there says so", () => {
    const times = writeStore();
    const nowMs = times.at(-1)! + 1000;
    const { samples, problem } = recordedLastHour({ store: dir }, nowMs);
    expect(problem).toBeNull();
    // The hour before now: the 10 minutes after the gap and the end of the 10 before it.
    expect(samples.map((s) => Date.parse(s.timestamp))).toEqual(times.filter((t) => t >= nowMs - 3_600_000));
    expect(recordedLastHour({ store: path.join(dir, 'missing') }, nowMs)).toEqual({
      samples: [],
      problem: `no recorded history: cannot read the store ${path.join(dir, 'missing')}`,
    });
  });
});

describe('the recorder beside the exporter (export --record)', () => {
  it('derives its rates over its own interval, whatever was collected in between', () => {
    // A collector whose cgroup used 0.1 * tick^2 CPU seconds by each tick: rates relative to the previous call.
    let tick = 0;
    let previous: Snapshot | null = null;
    const shared = {
      collect(): Snapshot {
        const s = syntheticSnapshot(1, tick);
        s.containers[0].cpu!.usageSeconds = 0.1 * tick * tick;
        applyRates(previous, s);
        previous = s;
        tick++;
        return s;
      },
    };
    const recorder = ownRates(shared);
    recorder.collect(); // tick 0
    expect(shared.collect().containers[0].cpu!.percent).toBeCloseTo(10, 6); // a scrape at tick 1: 0.1 s in 1 s
    // tick 2: the collector's own rate is over the last second (30 %); the recorder's over its two (20 %).
    expect(recorder.collect().containers[0].cpu!.percent).toBeCloseTo(20, 6);
  });
});
