// The exporter's collect-ahead: freshness rules of SharedCollection with a
// fake clock and hand-fired timers (no timings asserted, only ages).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aheadLeadMs,
  aheadMaxAgeMs,
  p95,
  reuseWindowMs,
  scrapeCadenceMs,
  SharedCollection,
} from '../../src/exporter/collection.js';
import { sampleSnapshot, v2Container } from '../../src/model/samples.js';
import type { Snapshot } from '../../src/model/types.js';

/** A SharedCollection on a fake clock whose ahead timer the test fires. */
function harness(minIntervalMs: number, containers: () => string[] = () => ['/a'], extra?: () => Promise<string>) {
  const clock = { now: 0 };
  const timer: { fn: (() => void) | null; at: number } = { fn: null, at: 0 };
  const reads: number[] = []; // clock at each collection
  const source = {
    collect: (): Snapshot => {
      reads.push(clock.now);
      return sampleSnapshot(containers().map((id) => ({ ...v2Container(), id })));
    },
  };
  const shared = new SharedCollection({
    source,
    minIntervalMs,
    select: () => true,
    now: () => clock.now,
    extra,
    collectAhead: true,
    setTimer: (fn, ms) => {
      timer.fn = fn;
      timer.at = clock.now + ms;
      return () => {
        timer.fn = null;
      };
    },
  });
  /** Advances the clock to t, firing the ahead timer first when it is due by then. */
  const advance = async (t: number): Promise<void> => {
    if (timer.fn && timer.at <= t) {
      clock.now = timer.at;
      const fn = timer.fn;
      timer.fn = null;
      fn();
      await new Promise((r) => setImmediate(r));
    }
    clock.now = t;
  };
  return { clock, timer, reads, shared, advance };
}

describe('scrape cadence', () => {
  it('is the median of the last three intervals when they agree within 10 %, else none', () => {
    expect(scrapeCadenceMs([0, 1000, 2003, 2998])).toBe(1000);
    expect(scrapeCadenceMs([0, 1000, 2000])).toBeNull(); // too few
    expect(scrapeCadenceMs([0, 1000, 1300, 2300])).toBeNull(); // two Prometheus servers, offset
    expect(scrapeCadenceMs([0, 100, 200, 300])).toBeNull(); // too fast to gain anything
    expect(aheadMaxAgeMs(15_000)).toBe(7_500);
    expect(aheadLeadMs(1000, 60)).toBe(120);
    expect(aheadLeadMs(1000, 5)).toBe(20);
    expect(aheadLeadMs(1000, 400)).toBe(350); // at most 0.35 of the interval
    expect(p95([10, 12, 11, 300, 9, 10, 10, 11, 12, 10, 9, 10, 11, 10, 12, 10])).toBe(12);
    expect(p95([10, 300, 280])).toBe(280);
  });
});

describe('collect ahead', () => {
  it('serves a steady scraper a collection made just before it, read since its previous scrape', async () => {
    const h = harness(1000);
    for (let i = 0; i < 4; i++) {
      await h.advance(i * 1000);
      await h.shared.get();
    }
    expect(h.reads).toEqual([0, 1000, 2000, 3000]);
    // Steady now: the next collection is due ahead of the scrape at 4000.
    expect(h.timer.fn).not.toBeNull();
    expect(h.timer.at).toBeLessThan(4000);
    expect(h.timer.at).toBeGreaterThanOrEqual(4000 - aheadMaxAgeMs(1000));
    await h.advance(4002);
    const e = await h.shared.get();
    expect(h.reads.length).toBe(5); // the scrape did not collect: it took the ahead one
    expect(e.startedAtMonoMs).toBe(h.reads[4]);
    expect(h.reads[4]).toBeGreaterThan(3000);
    expect(4002 - e.startedAtMonoMs).toBeLessThanOrEqual(aheadMaxAgeMs(1000));
    expect(h.shared.aheadServed).toBe(1);
  });

  it('collects for a scrape that comes later than half an interval after the ahead collection', async () => {
    const h = harness(0);
    for (let i = 0; i < 4; i++) {
      await h.advance(i * 1000);
      await h.shared.get();
    }
    const aheadAt = h.timer.at;
    await h.advance(aheadAt + 600); // the scraper stalled
    const e = await h.shared.get();
    expect(e.startedAtMonoMs).toBe(aheadAt + 600);
    expect(h.shared.aheadServed).toBe(0);
  });

  it('never serves an ahead collection twice, and never one older than promised (any arrival pattern)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 2500 }), { minLength: 5, maxLength: 40 }),
        fc.constantFrom(0, 1000),
        async (gaps, minIntervalMs) => {
          const h = harness(minIntervalMs);
          let t = 0;
          const served = new Set<number>();
          for (const gap of gaps) {
            t += gap;
            await h.advance(t);
            const arrivals = [...(h.shared as unknown as { arrivals: number[] }).arrivals];
            const e = await h.shared.get();
            const age = t - e.startedAtMonoMs;
            const cadence = scrapeCadenceMs([...arrivals, t]);
            const promised = Math.max(reuseWindowMs(minIntervalMs), cadence === null ? 0 : aheadMaxAgeMs(cadence));
            expect(age).toBeLessThanOrEqual(Math.max(promised, 0));
            if (age > reuseWindowMs(minIntervalMs)) {
              // only an ahead collection may be this old, and only once
              expect(served.has(e.startedAtMonoMs)).toBe(false);
            }
            served.add(e.startedAtMonoMs);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a cgroup created after an ahead collection appears at the next scrape after the one it missed', async () => {
    let ids = ['/a'];
    const h = harness(1000, () => ids);
    for (let i = 0; i < 4; i++) {
      await h.advance(i * 1000);
      await h.shared.get();
    }
    await h.advance(h.timer.at); // the ahead collection runs
    ids = ['/a', '/new']; // created just after it
    await h.advance(4000);
    const missed = await h.shared.get();
    expect(missed.body.toString()).not.toContain('id="/new"');
    await h.advance(5000);
    const next = await h.shared.get();
    expect(next.body.toString()).toContain('id="/new"');
  });

  it('a limit change (invalidate) makes the next scrape collect instead of taking the ahead collection', async () => {
    const h = harness(1000);
    for (let i = 0; i < 4; i++) {
      await h.advance(i * 1000);
      await h.shared.get();
    }
    await h.advance(h.timer.at);
    const made = h.reads.length;
    h.shared.invalidate();
    await h.advance(4000);
    const e = await h.shared.get();
    expect(h.reads.length).toBe(made + 1);
    expect(e.startedAtMonoMs).toBe(4000);
  });

  it('keeps --min-interval: no ahead collection sooner than the reuse window after the last one', async () => {
    const h = harness(1000);
    for (let i = 0; i < 4; i++) {
      await h.advance(i * 1000);
      await h.shared.get();
    }
    expect(h.timer.at).toBeGreaterThanOrEqual(3000 + reuseWindowMs(1000));
    // Scrapes 300 ms apart under a 1 s minimum interval: nothing to collect ahead.
    const fast = harness(1000);
    for (let i = 0; i < 8; i++) {
      await fast.advance(i * 300);
      await fast.shared.get();
    }
    expect(fast.timer.fn).toBeNull();
    expect(fast.shared.aheadCollections).toBe(0);
  });

  it('a scrape arriving while the ahead collection still runs takes it, and the next one is made ahead too', async () => {
    let release: (() => void) | null = null;
    let slow = false;
    const extra = (): Promise<string> =>
      slow ? new Promise<string>((r) => (release = () => r(''))) : Promise.resolve('');
    const h = harness(1000, undefined, extra);
    for (let i = 0; i < 4; i++) {
      await h.advance(i * 1000);
      await h.shared.get();
    }
    slow = true;
    const at = h.timer.at;
    await h.advance(at); // the ahead collection starts and has not finished by the scrape
    slow = false;
    await h.advance(4000);
    const late = h.shared.get();
    release!();
    const e = await late;
    expect(e.startedAtMonoMs).toBe(at);
    expect(h.shared.aheadServed).toBe(1);
    expect(h.reads).toHaveLength(5); // no collection of its own
    // The next ahead collection is scheduled, so the scrape after is served ahead as well.
    expect(h.timer.fn).not.toBeNull();
    await h.advance(h.timer.at);
    await h.advance(5000);
    const next = await h.shared.get();
    expect(next.startedAtMonoMs).toBeGreaterThanOrEqual(5000 - aheadMaxAgeMs(1000));
    expect(next.startedAtMonoMs).toBeLessThan(5000);
    expect(h.shared.aheadServed).toBe(2);
    expect(h.reads).toHaveLength(6);
  });

  it('stops scheduling once closed', async () => {
    const h = harness(1000);
    for (let i = 0; i < 4; i++) {
      await h.advance(i * 1000);
      await h.shared.get();
    }
    expect(h.timer.fn).not.toBeNull();
    h.shared.close();
    expect(h.timer.fn).toBeNull();
  });
});
