// The live dashboard with a recorder's store: the detail charts start with
// the recorded last hour (placed by wall time on the live clock) instead of
// one point and "collecting...".

import { afterEach, describe, expect, it } from 'vitest';
import { syntheticSnapshot } from '../../src/model/samples.js';
import type { Snapshot } from '../../src/model/types.js';
import { KEYS, openDashboard, type Harness } from './harness.js';

let h: Harness | null = null;
afterEach(() => {
  h?.close();
  h = null;
});

/** A sample of the three synthetic containers at a wall time. */
function sampleAt(wallMs: number, tick: number): Snapshot {
  const s = syntheticSnapshot(3, tick);
  s.timestamp = new Date(wallMs).toISOString();
  return s;
}

function live(): Snapshot {
  const s = sampleAt(Date.now(), 100);
  s.monotonicSeconds = performance.now() / 1000;
  return s;
}

describe('recorded history in the live dashboard', () => {
  it('starts the charts with the recorded samples, oldest an hour back', () => {
    const nowMs = Date.now();
    // Every minute of the last hour, as the store hands them over.
    const recorded = Array.from({ length: 60 }, (_, i) => sampleAt(nowMs - (60 - i) * 60_000, i));
    h = openDashboard(160, 48, { recordedHistory: recorded });
    h.app.update(live());
    const id = recorded[0].containers[0].id;
    const cpu = h.app.history.get(id)!.series.cpu.points();
    expect(cpu.times).toHaveLength(61);
    // Spaced by their wall times (a minute) and ending at the live sample.
    expect(cpu.times[1] - cpu.times[0]).toBeCloseTo(60, 3);
    expect(cpu.times.at(-1)! - cpu.times[0]).toBeCloseTo(3600, 0);
    expect(cpu.values.slice(0, 60)).toEqual(recorded.map((s) => Math.fround(s.containers[0].cpu!.percent!)));
  });

  it("draws the recorded hour in the detail view: the charts' time axis starts an hour back", async () => {
    const nowMs = Date.now();
    const recorded = Array.from({ length: 60 }, (_, i) => sampleAt(nowMs - (60 - i) * 60_000, i));
    h = openDashboard(160, 48, { recordedHistory: recorded });
    h.app.update(live());
    await h.press(KEYS.enter);
    const clock = (ms: number): string => {
      const d = new Date(ms);
      const p = (x: number): string => String(x).padStart(2, '0');
      return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    };
    const axis = h.lines().find((l) => l.includes(clock(Date.parse(recorded[0].timestamp))));
    expect(axis, h.text()).toBeDefined();
  });

  it('without a store, the charts start from the first live sample', () => {
    h = openDashboard(160, 48);
    const s = live();
    h.app.update(s);
    expect(h.app.history.get(s.containers[0].id)!.series.cpu.points().times).toHaveLength(1);
  });
});
