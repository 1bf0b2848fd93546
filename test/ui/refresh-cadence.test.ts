// The refresh interval is the time from one tick's start to the next's (the
// header's "every 1s"), not a pause after each tick: a collection that takes
// 300 ms still gives a frame every second.

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SnapshotSource } from '../../src/model/types.js';
import { fourContainers } from './fixture.js';
import { openDashboard, type Harness } from './harness.js';

let h: Harness | null = null;
afterEach(() => {
  h?.close();
  h = null;
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/**
 * A source whose collection takes `costMs`, recording when each one started.
 * The fake clock cannot move inside a timer's callback without firing the
 * next one, so the dashboard's performance.now() is the fake Date plus the
 * time collections took.
 */
function slowSource(costMs: number): { source: SnapshotSource; starts: number[] } {
  const starts: number[] = [];
  let spentMs = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => Date.now() + spentMs);
  const source: SnapshotSource = {
    collect: () => {
      starts.push(performance.now());
      spentMs += costMs;
      return fourContainers(100 + starts.length);
    },
  };
  return { source, starts };
}

describe('refresh cadence', () => {
  it('starts ticks one interval apart whatever a tick takes', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { source, starts } = slowSource(300);
    h = openDashboard(160, 30, { source, state: { intervalMs: 1000 } });
    void h.app.start(); // a tick now, the second 500 ms after (the first has no rates)
    vi.advanceTimersByTime(10_000);
    const gaps = starts.slice(2).map((t, i) => t - starts[i + 1]);
    expect(gaps.length).toBeGreaterThanOrEqual(7);
    for (const gap of gaps) expect(gap).toBe(1000);
  });

  it('a tick longer than the interval leaves a quarter interval before the next', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { source, starts } = slowSource(1500);
    h = openDashboard(160, 30, { source, state: { intervalMs: 1000 } });
    void h.app.start();
    vi.advanceTimersByTime(20_000);
    const gaps = starts.slice(2).map((t, i) => t - starts[i + 1]);
    for (const gap of gaps) expect(gap).toBe(1750);
  });
});
