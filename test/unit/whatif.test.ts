// What-if and recommend on synthetic sample series: exact first-exceed
// times, overshoot, CPU share over the quota, the throttled-time lower bound
// and the p95, each computed by hand from the series.
import { describe, expect, it } from 'vitest';
import { recommend } from '../../src/limiter/recommend.js';
import {
  cpuWhatIf,
  memoryWhatIf,
  percentile,
  pidsWhatIf,
  usageSampleOf,
  whatIf,
  type UsageSample,
} from '../../src/limiter/whatif.js';
import { recommendText, reportClock, whatIfText } from '../../src/limiter/whatif-text.js';
import { sampleContainer } from '../../src/model/samples.js';

const MiB = 1024 * 1024;
const T0 = Date.UTC(2026, 11, 6, 3, 0, 0);

function sample(i: number, fields: Partial<UsageSample> = {}, intervalMs = 1000): UsageSample {
  return {
    timeMs: T0 + i * intervalMs,
    monotonicSeconds: 1000 + (i * intervalMs) / 1000,
    cgroupKey: '/web#1',
    memoryUsageBytes: null,
    workingSetBytes: null,
    memoryLimitBytes: null,
    memoryLimitHits: null,
    oomKills: null,
    cpuUsageSeconds: null,
    cpuQuotaCores: null,
    cpuThrottledSeconds: null,
    pidsCurrent: null,
    pidsLimit: null,
    memoryPressureSomeSeconds: null,
    memoryPressureSomeAvg10: null,
    cpuPressureSomeSeconds: null,
    cpuPressureSomeAvg10: null,
    ...fields,
  };
}

/** 64 MiB for samples 0-9, then 128 MiB working set (130 MiB usage: 2 MiB of page cache). */
function stepSeries(): UsageSample[] {
  return Array.from({ length: 20 }, (_, i) =>
    sample(i, {
      workingSetBytes: (i < 10 ? 64 : 128) * MiB,
      memoryUsageBytes: (i < 10 ? 64 : 130) * MiB,
    }),
  );
}

/** Cumulative CPU seconds from per-second cores. */
function cpuSeries(coresPerSecond: number[]): UsageSample[] {
  let used = 5;
  const out = [sample(0, { cpuUsageSeconds: used })];
  coresPerSecond.forEach((c, i) => {
    used += c;
    out.push(sample(i + 1, { cpuUsageSeconds: used }));
  });
  return out;
}

describe('memory what-if', () => {
  it('finds the first sample over the limit, the samples over it and the peak overshoot', () => {
    const m = memoryWhatIf(stepSeries(), 100 * MiB)!;
    expect(m.outcome).toBe('oom');
    expect(m.atMs).toBe(T0 + 10_000);
    expect(m.workingSet.first).toEqual({ timeMs: T0 + 10_000, previousMs: T0 + 9000 });
    expect(m.workingSet.samples).toBe(10);
    expect(m.workingSet.peakOvershootBytes).toBe(28 * MiB);
    expect(m.usage.peakOvershootBytes).toBe(30 * MiB);
    expect(m.usage.peakAtMs).toBe(T0 + 10_000);
    expect(m.samples).toBe(20);
  });

  it('usage over the limit with the working set within is reclaim, not an OOM kill', () => {
    const m = memoryWhatIf(stepSeries(), 129 * MiB)!;
    expect(m.outcome).toBe('reclaim');
    expect(m.atMs).toBe(T0 + 10_000);
    expect(m.workingSet.samples).toBe(0);
    expect(m.workingSet.peakOvershootBytes).toBe(0);
    expect(m.usage.samples).toBe(10);
    expect(m.usage.peakOvershootBytes).toBe(1 * MiB);
  });

  it('a limit equal to the peak fits (the kernel charges up to the limit)', () => {
    const m = memoryWhatIf(stepSeries(), 130 * MiB)!;
    expect(m.outcome).toBe('fits');
    expect(m.atMs).toBeNull();
    expect(m.usage.first).toBeNull();
  });

  it('no memory readings: null', () => {
    expect(memoryWhatIf([sample(0), sample(1)], 100 * MiB)).toBeNull();
  });
});

describe('CPU what-if', () => {
  it('a burner at one core half the time against 0.5: half the window over, throttled at least a quarter', () => {
    // 10 s at 1 core, 10 s at 0.2 cores
    const c = cpuWhatIf(cpuSeries([...Array(10).fill(1), ...Array(10).fill(0.2)]), 0.5)!;
    expect(c.intervals).toBe(20);
    expect(c.overQuotaIntervals).toBe(10);
    expect(c.coveredSeconds).toBeCloseTo(20, 9);
    expect(c.overQuotaShare).toBeCloseTo(0.5, 9);
    expect(c.first).toEqual({ timeMs: T0 + 1000, previousMs: T0 });
    // each second at 1 core under a 0.5 quota: throttled (1 - 0.5/1) = 0.5 s
    expect(c.throttledSecondsAtLeast).toBeCloseTo(5, 9);
    expect(c.peakCores).toBeCloseTo(1, 9);
  });

  it('two cores against 0.5: throttled three quarters of each interval', () => {
    const c = cpuWhatIf(cpuSeries([2, 2, 0.4, 0.4]), 0.5)!;
    expect(c.overQuotaIntervals).toBe(2);
    expect(c.overQuotaShare).toBeCloseTo(0.5, 9);
    expect(c.throttledSecondsAtLeast).toBeCloseTo(1.5, 9);
  });

  it('usage exactly at the quota is not over it', () => {
    const c = cpuWhatIf(cpuSeries([0.5, 0.5]), 0.5)!;
    expect(c.overQuotaIntervals).toBe(0);
    expect(c.first).toBeNull();
    expect(c.throttledSecondsAtLeast).toBe(0);
  });

  it('no interval across a recreated cgroup or a counter that went backwards', () => {
    const s = cpuSeries([1, 1, 1, 1]);
    s[2] = { ...s[2], cgroupKey: '/web#2' }; // recreated at sample 2: intervals 1-2 and 2-3 cross it
    s[4] = { ...s[4], cgroupKey: '/web#2', cpuUsageSeconds: 0.5 }; // and reset after: 3-4 goes backwards
    const c = cpuWhatIf(s, 0.5)!;
    expect(c.intervals).toBe(1); // 0-1
    expect(c.skippedIntervals).toBe(3);
  });

  it('uses the monotonic clock for interval lengths when it agrees with the wall clock', () => {
    const s = [
      sample(0, { cpuUsageSeconds: 0 }),
      { ...sample(1, { cpuUsageSeconds: 1 }), monotonicSeconds: 1000.8 }, // 0.8 s really elapsed
    ];
    expect(cpuWhatIf(s, 0.5)!.peakCores).toBeCloseTo(1.25, 9);
  });

  it('p95 is the nearest rank', () => {
    expect(
      percentile(
        [...Array(20).keys()].map((i) => i + 1),
        95,
      ),
    ).toBe(19);
    expect(percentile([3, 1, 2], 95)).toBe(3);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 95)).toBe(0);
    const c = cpuWhatIf(cpuSeries([...Array(20).keys()].map((i) => (i + 1) / 10)), 1)!;
    expect(c.p95Cores).toBeCloseTo(1.9, 9);
  });
});

describe('pids what-if', () => {
  it('the peak against the limit, and the first sample above it', () => {
    const s = [5, 8, 12, 10, 12].map((n, i) => sample(i, { pidsCurrent: n }));
    const p = pidsWhatIf(s, 10)!;
    expect(p).toMatchObject({ peak: 12, peakAtMs: T0 + 2000, samplesOver: 2, samplesAtOrOver: 3 });
    expect(p.first).toEqual({ timeMs: T0 + 2000, previousMs: T0 + 1000 });
  });
});

describe('whatIf report and text', () => {
  it('covers every limit given and none other; says what was recorded under the current limits', () => {
    const s = stepSeries().map((x, i) => ({
      ...x,
      cpuUsageSeconds: i,
      cpuThrottledSeconds: i < 10 ? 0 : (i - 10) * 0.1,
      cpuQuotaCores: 1,
      memoryLimitHits: 3,
    }));
    const r = whatIf(s, { memoryBytes: 100 * MiB, cpuCores: 0.5 });
    expect(r.pids).toBeNull();
    expect(r.recorded.cpuThrottledSeconds).toBeCloseTo(0.9, 9);
    expect(r.recorded.memoryLimitHits).toBe(0);
    const clock = reportClock(T0, T0 + 19_000, 1000);
    const text = whatIfText(r, { who: 'web', intervalMs: 1000, windowText: '20s', windowStartMs: T0 });
    expect(text).toContain(`would have been OOM-killed at ${clock(T0 + 10_000)}`);
    expect(text).toContain('peak 128MiB');
    expect(text).toContain('28.0MiB over');
    expect(text).toContain('above the quota in 19 of 19 intervals');
    expect(text).toContain('throttled for at least 9.5s');
    expect(text).toContain('the kernel throttles per 100 ms period');
    expect(text).toContain('the recorded CPU quota (1 cores) throttled it for 0.9s');
    expect(text).toContain('nothing was written');
  });

  it('reads the recorded fields of a container snapshot', () => {
    const c = sampleContainer({ id: '/docker/web', name: 'web', memBytes: 64 * MiB });
    const u = usageSampleOf(T0, 5, c);
    expect(u.cgroupKey).toBe(`/docker/web#${c.inode}`);
    expect(u.memoryUsageBytes).toBe(c.memory!.usageBytes);
    expect(u.workingSetBytes).toBe(c.memory!.workingSetBytes);
    expect(u.cpuUsageSeconds).toBe(c.cpu!.usageSeconds);
  });
});

describe('recommend', () => {
  it('CPU = p95 plus headroom rounded up to 0.01; memory = peak working set plus headroom rounded up to a MiB', () => {
    const cpu = cpuSeries([...Array(20).keys()].map((i) => (i + 1) / 10));
    const s = cpu.map((x, i) => ({ ...x, workingSetBytes: (i === 7 ? 100 : 50) * MiB, memoryUsageBytes: 120 * MiB }));
    const r = recommend(s, { cpu: 0.2, memory: 0.15 });
    expect(r.cpu!.p95Cores).toBeCloseTo(1.9, 9);
    expect(r.cpu!.cores).toBe(2.28); // 1.9 * 1.2
    expect(r.memory!.peakWorkingSetBytes).toBe(100 * MiB);
    expect(r.memory!.peakAtMs).toBe(T0 + 7000);
    expect(r.memory!.bytes).toBe(115 * MiB);
    expect(r.floors).toEqual({ cpu: [], memory: [] });
    const text = recommendText(r, {
      who: 'web',
      intervalMs: 1000,
      windowText: '7d',
      windowStartMs: T0,
      command: 'tstop limit web --memory 115m --cpus 2.28',
    });
    expect(text).toContain('--cpus 2.28');
    expect(text).toContain('--memory 115MiB');
    expect(text).toContain('no PSI in the recording');
    expect(text).toContain('tstop limit web --memory 115m --cpus 2.28');
  });

  it('rounds 100 MiB + 0 % to exactly 100 MiB and never goes under the minimums', () => {
    const s = [
      sample(0, { workingSetBytes: 100 * MiB, cpuUsageSeconds: 0 }),
      sample(1, { workingSetBytes: 1, cpuUsageSeconds: 0 }),
    ];
    const r = recommend(s, { cpu: 0, memory: 0 });
    expect(r.memory!.bytes).toBe(100 * MiB);
    expect(r.cpu!.cores).toBe(0.01);
    expect(recommend([sample(0, { workingSetBytes: 1 })], { cpu: 0, memory: 0 }).memory!.bytes).toBe(6 * MiB);
  });

  it('recorded pressure and throttling make the figures floors', () => {
    const s = Array.from({ length: 11 }, (_, i) =>
      sample(i, {
        workingSetBytes: 64 * MiB,
        cpuUsageSeconds: i * 0.5,
        memoryPressureSomeSeconds: i * 0.2,
        memoryPressureSomeAvg10: i === 5 ? 18.5 : 1,
        cpuThrottledSeconds: i * 0.5,
        memoryLimitHits: i < 5 ? 0 : 4,
        memoryLimitBytes: 64 * MiB,
        cpuPressureSomeSeconds: i * 0.3,
      }),
    );
    const r = recommend(s);
    expect(r.floors.memory).toEqual([
      'memory pressure was recorded (stalled 2.0s, some avg10 up to 18.50%): it waited for memory under its limit of 64.0MiB',
      'the memory limit (64.0MiB) was hit 4 times',
    ]);
    expect(r.floors.cpu).toEqual([
      'CPU pressure was recorded (stalled 3.0s, some avg10 up to ?): it had no quota: the host was busy',
      'the CPU quota (since lifted) throttled it for 5.0s',
    ]);
    const text = recommendText(r, { who: 'web', intervalMs: 1000, windowText: '7d', windowStartMs: T0, command: null });
    expect(text).toContain('memory is a floor: memory pressure was recorded');
    expect(text).toContain('CPU is a floor: CPU pressure was recorded');
    expect(text).toContain('throttled it for 5.0s; its demand may be higher than recorded');
  });
});
