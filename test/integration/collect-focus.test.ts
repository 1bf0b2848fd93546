// A focused collection (the dashboard's): the cgroups in focus are read whole
// every tick, the others' dear figures (memory, io, PSI, hugetlb, device
// rules) are carried over for at most slowRefreshMs and said to be stale,
// and a new cgroup is read whole on its first tick.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../src/collect/collector.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { TestCgroups } from '../helpers/cgroups.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function byId(s: Snapshot, id: string): ContainerSnapshot {
  const c = s.containers.find((x) => x.id === id);
  if (!c) throw new Error(`${id} not in the snapshot`);
  return c;
}

describe('focused collection', { timeout: 300_000 }, () => {
  let cg: TestCgroups;
  let collector: Collector;
  let a: string;
  let b: string;

  beforeAll(() => {
    cg = new TestCgroups('focus');
    a = cg.mkdir('a');
    b = cg.mkdir('b');
    collector = new Collector({ watch: true });
  });

  afterAll(async () => {
    collector?.close();
    await cg?.cleanup();
  });

  it('reads the focused cgroup whole and carries over the slow figures of the others', () => {
    collector.focus({ ids: new Set([a]), fresh: [], slowRefreshMs: 3_600_000 });
    const first = collector.collect(); // every cgroup is new: read whole
    expect(collector.staleFields(b)).toEqual([]);
    const second = collector.collect();
    const [a1, a2, b1, b2] = [byId(first, a), byId(second, a), byId(first, b), byId(second, b)];
    expect(a2.memory).not.toBe(a1.memory);
    expect(a2.memory).not.toBeNull();
    expect(collector.staleFields(a)).toEqual([]);
    // b: memory, io, PSI... carried over (the same objects), CPU and pids read now
    expect(b2.memory).toBe(b1.memory);
    expect(b2.io).toBe(b1.io);
    expect(b2.pressure).toBe(b1.pressure);
    expect(b2.cpu).not.toBe(b1.cpu);
    expect(b2.pids).not.toBe(b1.pids);
    expect(collector.staleFields(b)).toEqual(expect.arrayContaining(['memory', 'io', 'pressure']));
  });

  it('reads what the reader sorts by for every cgroup', () => {
    collector.focus({ ids: new Set([a]), fresh: ['memory'], slowRefreshMs: 3_600_000 });
    const first = collector.collect();
    const second = collector.collect();
    expect(byId(second, b).memory).not.toBe(byId(first, b).memory);
    expect(collector.staleFields(b)).not.toContain('memory');
    expect(collector.staleFields(b)).toContain('pressure');
  });

  it('a new cgroup appears on the next tick, read whole', () => {
    collector.focus({ ids: new Set([a]), fresh: [], slowRefreshMs: 3_600_000 });
    collector.collect();
    const c = cg.mkdir('c');
    const s = collector.collect();
    const fresh = byId(s, c);
    expect(fresh.memory).not.toBeNull();
    expect(fresh.cpu).not.toBeNull();
    expect(collector.staleFields(c)).toEqual([]);
  });

  it('never carries a figure over for longer than slowRefreshMs', async () => {
    const slowRefreshMs = 300;
    collector.focus({ ids: new Set([a]), fresh: [], slowRefreshMs });
    let last = collector.collect();
    // The tick that read b's memory, on the snapshots' own clock (the promise is in ticks' time).
    let readAtMs = last.monotonicSeconds * 1000;
    let reads = 0;
    for (let tick = 0; tick < 12; tick++) {
      await sleep(50);
      const s = collector.collect();
      const nowMs = s.monotonicSeconds * 1000;
      if (byId(s, b).memory !== byId(last, b).memory) {
        reads++;
        readAtMs = nowMs;
      } else {
        // carried over: never for longer than promised
        expect(nowMs - readAtMs).toBeLessThan(slowRefreshMs);
        expect(collector.staleFields(b)).toContain('memory');
      }
      last = s;
    }
    expect(reads).toBeGreaterThanOrEqual(1); // 12 ticks 50 ms apart or more: at least 600 ms
  });

  it('a limit change (invalidateSettings) makes the next tick read that cgroup whole', () => {
    collector.focus({ ids: new Set([a]), fresh: [], slowRefreshMs: 3_600_000 });
    collector.collect();
    collector.collect();
    expect(collector.staleFields(b)).toContain('memory');
    collector.invalidateSettings(b);
    collector.collect();
    expect(collector.staleFields(b)).toEqual([]);
  });

  it('off screen, pids.current says whether a cgroup holds processes every tick; its list waits', async () => {
    const p = cg.mkdir('p');
    collector.focus({ ids: new Set([a]), fresh: [], slowRefreshMs: 3_600_000 });
    collector.collect(); // p is new: read whole
    let s = collector.collect();
    expect(byId(s, p).populated).toBe(false);
    expect(byId(s, p).processes).toEqual([]);
    // A process arrives while p is off screen: shown by default from the next tick on.
    const w = cg.spawn('p', ['sleep']);
    await w.ready;
    s = collector.collect();
    expect(byId(s, p).pids?.current).toBeGreaterThan(0);
    expect(byId(s, p).populated).toBe(true);
    expect(byId(s, p).processes).toEqual([]); // the list itself is carried over, and said so
    expect(collector.staleFields(p)).toContain('processes');
    expect(collector.staleFields(p)).not.toContain('populated');
    // On screen: the list is read at the next tick.
    collector.focus({ ids: new Set([a, p]), fresh: [], slowRefreshMs: 3_600_000 });
    s = collector.collect();
    expect(byId(s, p).processes).toEqual(cg.pids('p'));
    expect(collector.staleFields(p)).toEqual([]);
    // Off screen again, it empties: no process and not populated at the next tick, nothing carried.
    collector.focus({ ids: new Set([a]), fresh: [], slowRefreshMs: 3_600_000 });
    collector.collect();
    await cg.cleanupProcesses('p');
    s = collector.collect();
    expect(byId(s, p).populated).toBe(false);
    expect(byId(s, p).processes).toEqual([]);
    expect(collector.staleFields(p)).not.toContain('processes');
    expect(collector.staleFields(p)).not.toContain('populated');
  });

  it('a cgroup brought on screen is read whole at the next tick', () => {
    collector.focus({ ids: new Set([a]), fresh: [], slowRefreshMs: 3_600_000 });
    collector.collect();
    const before = collector.collect();
    expect(collector.staleFields(b)).toEqual(expect.arrayContaining(['memory', 'pressure', 'freezer']));
    expect(collector.staleFields(b)).not.toContain('processes'); // b is empty: pids.current 0 says so
    collector.focus({ ids: new Set([a, b]), fresh: [], slowRefreshMs: 3_600_000 });
    const after = collector.collect();
    expect(collector.staleFields(b)).toEqual([]);
    expect(byId(after, b).memory).not.toBe(byId(before, b).memory);
  });

  it('limits: in focus at most settingsRefreshMs old, off screen at most 6x that, each cgroup at its own time', async () => {
    const settingsRefreshMs = 200;
    const own = new Collector({ watch: true, watchSettings: false, settingsRefreshMs, fdBudget: 256 }); // the timed path (no write events), beside the shared collector's descriptors
    try {
      own.focus({ ids: new Set([a]), fresh: [], slowRefreshMs: 3_600_000 });
      const t0 = own.collect().monotonicSeconds * 1000; // every cgroup new: limits read
      cg.write('pids', 'a', 'pids.max', '111');
      cg.write('pids', 'b', 'pids.max', '222');
      const seenAt: Record<string, number> = {};
      for (let tick = 0; tick < 100 && Object.keys(seenAt).length < 2; tick++) {
        await sleep(25);
        const s = own.collect();
        const ageMs = s.monotonicSeconds * 1000 - t0;
        for (const [id, limit] of [
          [a, 111],
          [b, 222],
        ] as const) {
          if (seenAt[id] !== undefined) continue;
          if (byId(s, id).pids?.limit === limit) seenAt[id] = ageMs;
          // still the old limit: never older than promised
          else expect(ageMs).toBeLessThan(id === a ? settingsRefreshMs : 6 * settingsRefreshMs);
        }
      }
      expect(seenAt[a]).toBeGreaterThanOrEqual(settingsRefreshMs);
      // off screen: not before half of the longer period (turns spread over it)
      expect(seenAt[b]).toBeGreaterThanOrEqual(3 * settingsRefreshMs);
    } finally {
      own.close();
      cg.write('pids', 'a', 'pids.max', 'max');
      cg.write('pids', 'b', 'pids.max', 'max');
    }
  });

  it('limits: a cgroup brought on screen, or every cgroup when sorting by a limit, at most settingsRefreshMs old', async () => {
    const settingsRefreshMs = 200;
    const own = new Collector({ watch: true, watchSettings: false, settingsRefreshMs, fdBudget: 256 }); // the timed path (no write events), beside the shared collector's descriptors
    try {
      own.focus({ ids: new Set([a]), fresh: [], slowRefreshMs: 3_600_000 });
      own.collect();
      cg.write('pids', 'b', 'pids.max', '333');
      await sleep(settingsRefreshMs + 10);
      own.focus({ ids: new Set([a, b]), fresh: [], slowRefreshMs: 3_600_000 });
      expect(byId(own.collect(), b).pids?.limit).toBe(333);
      // Sorting by a limit: off screen too, at settingsRefreshMs.
      own.focus({ ids: new Set([a]), fresh: ['memory'], slowRefreshMs: 3_600_000, settingsFresh: true });
      const t0 = own.collect().monotonicSeconds * 1000;
      cg.write('pids', 'b', 'pids.max', '444');
      for (let tick = 0; tick < 40; tick++) {
        await sleep(25);
        const s = own.collect();
        if (byId(s, b).pids?.limit === 444) break;
        expect(s.monotonicSeconds * 1000 - t0).toBeLessThan(settingsRefreshMs);
      }
      expect(byId(own.collect(), b).pids?.limit).toBe(444);
    } finally {
      own.close();
      cg.write('pids', 'b', 'pids.max', 'max');
    }
  });

  it('with a focus, a periodic rescan does not re-read every limit nor every cgroup whole', async () => {
    const own = new Collector({
      watch: true,
      watchSettings: false, // the timed path: with write events the limit is seen at once (collect-watch.test.ts)
      rescanIntervalMs: 50,
      settingsRefreshMs: 60_000,
      fdBudget: 256,
    });
    try {
      own.focus({ ids: new Set([a]), fresh: [], slowRefreshMs: 3_600_000 });
      own.collect();
      own.collect();
      cg.write('pids', 'b', 'pids.max', '555');
      await sleep(100); // the next tick rescans
      const s = own.collect();
      expect(byId(s, b).pids?.limit).not.toBe(555); // off screen: its limits wait for their turn
      expect(own.staleFields(b)).toContain('memory'); // and it was not read whole
      // The same collector without a focus re-reads every limit at a rescan, as before.
      own.focus(null);
      await sleep(100);
      expect(byId(own.collect(), b).pids?.limit).toBe(555);
    } finally {
      own.close();
      cg.write('pids', 'b', 'pids.max', 'max');
    }
  });

  it('a cgroup no row shows (hidden) keeps its slow figures while hidden, then they are due as for any other', async () => {
    // slowRefreshMs 0: every cgroup off screen would be re-read whole every tick, b is not while hidden.
    collector.focus({ ids: new Set([a]), fresh: [], slowRefreshMs: 0, hidden: new Set([b]) });
    const first = collector.collect();
    await sleep(20);
    const second = collector.collect();
    expect(byId(second, b).memory).toBe(byId(first, b).memory);
    expect(byId(second, b).pressure).toBe(byId(first, b).pressure);
    expect(byId(second, b).cpu).not.toBe(byId(first, b).cpu); // CPU and pids: every tick, hidden or not
    expect(byId(second, b).pids).not.toBe(byId(first, b).pids);
    expect(collector.staleFields(b)).toEqual(expect.arrayContaining(['memory', 'io', 'pressure', 'freezer']));
    // Shown again (off screen), the same focus otherwise: older than slowRefreshMs, read whole at the next tick.
    collector.focus({ ids: new Set([a]), fresh: [], slowRefreshMs: 0, hidden: new Set() });
    const third = collector.collect();
    expect(byId(third, b).memory).not.toBe(byId(second, b).memory);
    expect(collector.staleFields(b)).toEqual([]);
  });

  it('the sort column is read every tick for the cgroups shown, not for those no row shows', () => {
    collector.focus({ ids: new Set([a]), fresh: ['memory'], slowRefreshMs: 3_600_000, hidden: new Set([b]) });
    const first = collector.collect();
    const second = collector.collect();
    expect(byId(second, b).memory).toBe(byId(first, b).memory);
    expect(collector.staleFields(b)).toContain('memory');
    collector.focus({ ids: new Set([a]), fresh: ['memory'], slowRefreshMs: 3_600_000, hidden: new Set() });
    const third = collector.collect();
    expect(byId(third, b).memory).not.toBe(byId(second, b).memory);
    expect(collector.staleFields(b)).not.toContain('memory');
  });

  it('without a focus every cgroup is read whole every tick (the exporter and snapshot)', () => {
    collector.focus(null);
    const first = collector.collect();
    const second = collector.collect();
    expect(byId(second, b).memory).not.toBe(byId(first, b).memory);
    expect(collector.staleFields(b)).toEqual([]);
  });
});
