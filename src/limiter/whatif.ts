// "What if": a proposed limit replayed against a container's recorded usage.
// Pure: a function from samples (src/record/history.ts reads them from the
// store) and proposed limits to a report; nothing is read or written here.
//
// Memory is judged per sample: usage above the limit would have been
// reclaimed (page cache goes first), a working set above it leaves nothing
// to reclaim, so the kernel OOM-kills. CPU is judged per interval between
// two samples: the average cores used against the quota. The kernel
// throttles per 100 ms CFS period and a sample is an average over seconds,
// so the throttled time given is a lower bound (see cpuWhatIf).

import type { ContainerSnapshot } from '../model/types.js';

/** The CFS period the kernel throttles in (tstop and docker set 100 ms). */
export const CFS_PERIOD_MS = 100;

/** One recorded sample of one container, flattened to what the what-if and recommend read. */
export interface UsageSample {
  timeMs: number;
  /** Monotonic seconds of the sample (the recorder's clock), for interval lengths; null if unknown. */
  monotonicSeconds: number | null;
  /** The cgroup path and inode: a change means a recreated cgroup, and no counter delta is taken across it. */
  cgroupKey: string;
  memoryUsageBytes: number | null;
  workingSetBytes: number | null;
  /** The limit in force when recorded (null: unlimited or unknown). */
  memoryLimitBytes: number | null;
  /** Times the recorded limit was hit: v1 memory.failcnt, v2 memory.events max. */
  memoryLimitHits: number | null;
  oomKills: number | null;
  cpuUsageSeconds: number | null;
  cpuQuotaCores: number | null;
  cpuThrottledSeconds: number | null;
  pidsCurrent: number | null;
  pidsLimit: number | null;
  memoryPressureSomeSeconds: number | null;
  memoryPressureSomeAvg10: number | null;
  cpuPressureSomeSeconds: number | null;
  cpuPressureSomeAvg10: number | null;
}

export function usageSampleOf(timeMs: number, monotonicSeconds: number | null, c: ContainerSnapshot): UsageSample {
  const m = c.memory;
  return {
    timeMs,
    monotonicSeconds,
    cgroupKey: `${c.id}#${c.inode}`,
    memoryUsageBytes: m?.usageBytes ?? null,
    workingSetBytes: m?.workingSetBytes ?? null,
    memoryLimitBytes: m?.limitBytes ?? null,
    memoryLimitHits: m?.events?.max ?? m?.failcnt ?? null,
    oomKills: m?.oomKills ?? null,
    cpuUsageSeconds: c.cpu?.usageSeconds ?? null,
    cpuQuotaCores: c.cpu?.quotaCores ?? null,
    cpuThrottledSeconds: c.cpu?.throttledSeconds ?? null,
    pidsCurrent: c.pids?.current ?? null,
    pidsLimit: c.pids?.limit ?? null,
    memoryPressureSomeSeconds: c.pressure?.memory?.some?.totalSeconds ?? null,
    memoryPressureSomeAvg10: c.pressure?.memory?.some?.avg10 ?? null,
    cpuPressureSomeSeconds: c.pressure?.cpu?.some?.totalSeconds ?? null,
    cpuPressureSomeAvg10: c.pressure?.cpu?.some?.avg10 ?? null,
  };
}

export interface ProposedLimits {
  memoryBytes?: number;
  cpuCores?: number;
  pidsLimit?: number;
}

/** A sample time; the crossing itself happened after `previousMs` (the sample before) and by `timeMs`. */
export interface SampleTime {
  timeMs: number;
  previousMs: number | null;
}

export interface Exceedance {
  /** Samples above the limit. */
  samples: number;
  first: SampleTime | null;
  peakBytes: number;
  peakAtMs: number;
  /** How far the peak was above the limit (0 when it stayed within). */
  peakOvershootBytes: number;
}

export interface MemoryWhatIf {
  limitBytes: number;
  /** Samples with a memory reading. */
  samples: number;
  usage: Exceedance;
  workingSet: Exceedance;
  /** fits; reclaim: usage over, working set within; oom: the working set over. */
  outcome: 'fits' | 'reclaim' | 'oom';
  /** When the outcome starts: the first working set over the limit (oom), else the first usage over it. */
  atMs: number | null;
}

export interface CpuInterval {
  startMs: number;
  endMs: number;
  seconds: number;
  cores: number;
}

export interface CpuWhatIf {
  quotaCores: number;
  /** Intervals between two samples of the same cgroup with CPU readings. */
  intervals: number;
  overQuotaIntervals: number;
  /** Seconds covered by the intervals, and by those over the quota. */
  coveredSeconds: number;
  overQuotaSeconds: number;
  /** overQuotaSeconds / coveredSeconds (0..1). */
  overQuotaShare: number;
  /** The end of the first interval over the quota. */
  first: SampleTime | null;
  peakCores: number;
  peakAtMs: number;
  p95Cores: number;
  /**
   * Throttled time the recorded work implies at least: each interval over the
   * quota, at a steady demand of `cores`, is throttled (1 - quota/cores) of its
   * length. Bursts inside an interval and work pushed into later intervals
   * only add to it, and intervals whose average is under the quota may still
   * hide throttled periods.
   */
  throttledSecondsAtLeast: number;
  /** Intervals not used: across a recreated cgroup or a counter that went backwards. */
  skippedIntervals: number;
}

export interface PidsWhatIf {
  limit: number;
  samples: number;
  peak: number;
  peakAtMs: number;
  /** Samples above the limit (forks would have failed before reaching that count). */
  samplesOver: number;
  /** Samples at or above the limit: the next fork would have failed. */
  samplesAtOrOver: number;
  first: SampleTime | null;
}

/** What the recording says the current limits did: a recording taken under a limit cannot show demand above it. */
export interface RecordedConstraints {
  memoryLimitHits: number;
  oomKills: number;
  memoryPressureSomeSeconds: number | null;
  memoryPressurePeakAvg10: number | null;
  cpuThrottledSeconds: number;
  cpuPressureSomeSeconds: number | null;
  cpuPressurePeakAvg10: number | null;
  /** The limits in force in the last sample. */
  memoryLimitBytes: number | null;
  cpuQuotaCores: number | null;
}

export interface WhatIfReport {
  samples: number;
  firstMs: number;
  lastMs: number;
  limits: ProposedLimits;
  memory: MemoryWhatIf | null;
  cpu: CpuWhatIf | null;
  pids: PidsWhatIf | null;
  recorded: RecordedConstraints;
}

/** Seconds between two samples: the monotonic clock when both have it and it agrees with the wall clock, else the wall clock. */
function secondsBetween(a: UsageSample, b: UsageSample): number {
  const wall = (b.timeMs - a.timeMs) / 1000;
  if (a.monotonicSeconds === null || b.monotonicSeconds === null) return wall;
  const mono = b.monotonicSeconds - a.monotonicSeconds;
  return mono > 0 && Math.abs(mono - wall) < 1 ? mono : wall;
}

function exceedance(
  samples: readonly UsageSample[],
  value: (s: UsageSample) => number | null,
  limit: number,
): Exceedance | null {
  let count = 0;
  let first: SampleTime | null = null;
  let peak: { bytes: number; atMs: number } | null = null;
  let previousMs: number | null = null;
  for (const s of samples) {
    const v = value(s);
    if (v !== null) {
      if (peak === null || v > peak.bytes) peak = { bytes: v, atMs: s.timeMs };
      if (v > limit) {
        count++;
        first ??= { timeMs: s.timeMs, previousMs };
      }
    }
    previousMs = s.timeMs;
  }
  if (peak === null) return null;
  return {
    samples: count,
    first,
    peakBytes: peak.bytes,
    peakAtMs: peak.atMs,
    peakOvershootBytes: Math.max(0, peak.bytes - limit),
  };
}

export function memoryWhatIf(samples: readonly UsageSample[], limitBytes: number): MemoryWhatIf | null {
  const usage = exceedance(samples, (s) => s.memoryUsageBytes, limitBytes);
  // v1 and v2 both give a working set; a sample without one counts its usage (nothing known to be reclaimable).
  const workingSet = exceedance(samples, (s) => s.workingSetBytes ?? s.memoryUsageBytes, limitBytes);
  if (!usage || !workingSet) return null;
  const outcome = workingSet.samples > 0 ? 'oom' : usage.samples > 0 ? 'reclaim' : 'fits';
  const at = outcome === 'oom' ? workingSet.first : outcome === 'reclaim' ? usage.first : null;
  return {
    limitBytes,
    samples: samples.filter((s) => s.memoryUsageBytes !== null).length,
    usage,
    workingSet,
    outcome,
    atMs: at?.timeMs ?? null,
  };
}

/** CPU used between consecutive samples of the same cgroup, in cores. */
export function cpuIntervals(samples: readonly UsageSample[]): { intervals: CpuInterval[]; skipped: number } {
  const intervals: CpuInterval[] = [];
  let skipped = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (a.cpuUsageSeconds === null || b.cpuUsageSeconds === null) continue;
    const seconds = secondsBetween(a, b);
    const used = b.cpuUsageSeconds - a.cpuUsageSeconds;
    if (a.cgroupKey !== b.cgroupKey || used < 0 || seconds <= 0) {
      skipped++;
      continue;
    }
    intervals.push({ startMs: a.timeMs, endMs: b.timeMs, seconds, cores: used / seconds });
  }
  return { intervals, skipped };
}

/** The nearest-rank percentile (p in 0..100) of values; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function cpuWhatIf(samples: readonly UsageSample[], quotaCores: number): CpuWhatIf | null {
  const { intervals, skipped } = cpuIntervals(samples);
  if (intervals.length === 0) return null;
  let over = 0;
  let coveredSeconds = 0;
  let overSeconds = 0;
  let throttled = 0;
  let first: SampleTime | null = null;
  let peak = intervals[0];
  for (const iv of intervals) {
    coveredSeconds += iv.seconds;
    if (iv.cores > peak.cores) peak = iv;
    if (iv.cores > quotaCores) {
      over++;
      overSeconds += iv.seconds;
      throttled += iv.seconds * (1 - quotaCores / iv.cores);
      first ??= { timeMs: iv.endMs, previousMs: iv.startMs };
    }
  }
  return {
    quotaCores,
    intervals: intervals.length,
    overQuotaIntervals: over,
    coveredSeconds,
    overQuotaSeconds: overSeconds,
    overQuotaShare: coveredSeconds > 0 ? overSeconds / coveredSeconds : 0,
    first,
    peakCores: peak.cores,
    peakAtMs: peak.endMs,
    p95Cores: percentile(
      intervals.map((iv) => iv.cores),
      95,
    ),
    throttledSecondsAtLeast: throttled,
    skippedIntervals: skipped,
  };
}

export function pidsWhatIf(samples: readonly UsageSample[], limit: number): PidsWhatIf | null {
  let peak: { n: number; atMs: number } | null = null;
  let count = 0;
  let over = 0;
  let atOrOver = 0;
  let first: SampleTime | null = null;
  let previousMs: number | null = null;
  for (const s of samples) {
    const n = s.pidsCurrent;
    if (n !== null) {
      count++;
      if (peak === null || n > peak.n) peak = { n, atMs: s.timeMs };
      if (n >= limit) atOrOver++;
      if (n > limit) {
        over++;
        first ??= { timeMs: s.timeMs, previousMs };
      }
    }
    previousMs = s.timeMs;
  }
  if (peak === null) return null;
  return {
    limit,
    samples: count,
    peak: peak.n,
    peakAtMs: peak.atMs,
    samplesOver: over,
    samplesAtOrOver: atOrOver,
    first,
  };
}

/** Sum of a counter's increases between consecutive samples of the same cgroup; null when never read. */
function counterIncrease(samples: readonly UsageSample[], value: (s: UsageSample) => number | null): number | null {
  let total: number | null = null;
  for (let i = 0; i < samples.length; i++) {
    const b = value(samples[i]);
    if (b === null) continue;
    total ??= 0;
    if (i === 0) continue;
    const a = value(samples[i - 1]);
    if (a !== null && samples[i - 1].cgroupKey === samples[i].cgroupKey && b > a) total += b - a;
  }
  return total;
}

function peakOf(samples: readonly UsageSample[], value: (s: UsageSample) => number | null): number | null {
  let peak: number | null = null;
  for (const s of samples) {
    const v = value(s);
    if (v !== null && (peak === null || v > peak)) peak = v;
  }
  return peak;
}

export function recordedConstraints(samples: readonly UsageSample[]): RecordedConstraints {
  const last = samples.at(-1);
  return {
    memoryLimitHits: counterIncrease(samples, (s) => s.memoryLimitHits) ?? 0,
    oomKills: counterIncrease(samples, (s) => s.oomKills) ?? 0,
    memoryPressureSomeSeconds: counterIncrease(samples, (s) => s.memoryPressureSomeSeconds),
    memoryPressurePeakAvg10: peakOf(samples, (s) => s.memoryPressureSomeAvg10),
    cpuThrottledSeconds: counterIncrease(samples, (s) => s.cpuThrottledSeconds) ?? 0,
    cpuPressureSomeSeconds: counterIncrease(samples, (s) => s.cpuPressureSomeSeconds),
    cpuPressurePeakAvg10: peakOf(samples, (s) => s.cpuPressureSomeAvg10),
    memoryLimitBytes: last?.memoryLimitBytes ?? null,
    cpuQuotaCores: last?.cpuQuotaCores ?? null,
  };
}

/** The proposed limits replayed against the samples (oldest first). */
export function whatIf(samples: readonly UsageSample[], limits: ProposedLimits): WhatIfReport {
  if (samples.length === 0) throw new RangeError('whatIf needs at least one sample');
  return {
    samples: samples.length,
    firstMs: samples[0].timeMs,
    lastMs: samples.at(-1)!.timeMs,
    limits,
    memory: limits.memoryBytes === undefined ? null : memoryWhatIf(samples, limits.memoryBytes),
    cpu: limits.cpuCores === undefined ? null : cpuWhatIf(samples, limits.cpuCores),
    pids: limits.pidsLimit === undefined ? null : pidsWhatIf(samples, limits.pidsLimit),
    recorded: recordedConstraints(samples),
  };
}
