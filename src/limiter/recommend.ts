// Limits suggested from a container's recorded usage. Pure, like whatif.ts:
//   CPU    = the p95 of the per-interval CPU use, plus headroom, rounded up to 0.01 core
//   memory = the peak working set, plus headroom, rounded up to a whole MiB
// A recording taken under a limit cannot show demand above it: when the
// recorded PSI, throttling or limit hits say the current limit held the
// container, the suggestion is a floor, and says so.

import { formatBytes } from '../util/format.js';
import { cpuIntervals, percentile, recordedConstraints, type RecordedConstraints, type UsageSample } from './whatif.js';

const MiB = 1024 * 1024;
/** docker's and tstop's smallest memory limit (MIN_MEMORY_BYTES in plan/request.ts). */
const MIN_MEMORY_BYTES = 6 * MiB;
/** The kernel's smallest quota: 1 ms per 100 ms period. */
const MIN_CORES = 0.01;
/** Stall time below this share of the window is noise, not a constraint. */
const PRESSURE_SHARE_SEEN = 0.001;

export interface Headroom {
  /** 0.15 = 15 % above the measured figure. */
  cpu: number;
  memory: number;
}

export const DEFAULT_HEADROOM: Headroom = { cpu: 0.15, memory: 0.15 };

export interface Recommendation {
  firstMs: number;
  lastMs: number;
  samples: number;
  headroom: Headroom;
  cpu: { p95Cores: number; intervals: number; cores: number } | null;
  memory: { peakWorkingSetBytes: number; peakAtMs: number; bytes: number } | null;
  recorded: RecordedConstraints;
  /** Why a figure is only a floor: the current limit already held the container. */
  floors: { cpu: string[]; memory: string[] };
}

/** Rounds up, after dropping float noise below a millionth of a step (0.57000000001 steps is 0.57). */
function ceilTo(value: number, step: number): number {
  return Math.ceil(Number((value / step).toFixed(6))) * step;
}

function percent(n: number | null): string {
  return n === null ? '?' : `${n.toFixed(2)}%`;
}

function seconds(n: number): string {
  return n >= 10 ? `${Math.round(n)}s` : `${n.toFixed(1)}s`;
}

export function recommend(samples: readonly UsageSample[], headroom: Headroom = DEFAULT_HEADROOM): Recommendation {
  if (samples.length === 0) throw new RangeError('recommend needs at least one sample');
  const firstMs = samples[0].timeMs;
  const lastMs = samples.at(-1)!.timeMs;
  const windowSeconds = Math.max((lastMs - firstMs) / 1000, 1e-9);
  const { intervals } = cpuIntervals(samples);
  let cpu: Recommendation['cpu'] = null;
  if (intervals.length > 0) {
    const p95Cores = percentile(
      intervals.map((iv) => iv.cores),
      95,
    );
    const cores = Math.max(MIN_CORES, Number(ceilTo(p95Cores * (1 + headroom.cpu), 0.01).toFixed(2)));
    cpu = { p95Cores, intervals: intervals.length, cores };
  }
  let memory: Recommendation['memory'] = null;
  for (const s of samples) {
    const ws = s.workingSetBytes ?? s.memoryUsageBytes;
    if (ws !== null && (memory === null || ws > memory.peakWorkingSetBytes))
      memory = { peakWorkingSetBytes: ws, peakAtMs: s.timeMs, bytes: 0 };
  }
  if (memory)
    memory.bytes = Math.max(MIN_MEMORY_BYTES, ceilTo(memory.peakWorkingSetBytes * (1 + headroom.memory), MiB));

  const recorded = recordedConstraints(samples);
  const floors: Recommendation['floors'] = { cpu: [], memory: [] };
  const memLimit = recorded.memoryLimitBytes === null ? null : formatBytes(recorded.memoryLimitBytes);
  const quota = recorded.cpuQuotaCores === null ? null : `${recorded.cpuQuotaCores} cores`;
  const memStall = recorded.memoryPressureSomeSeconds;
  if (memStall !== null && memStall / windowSeconds >= PRESSURE_SHARE_SEEN)
    floors.memory.push(
      `memory pressure was recorded (stalled ${seconds(memStall)}, some avg10 up to ${percent(recorded.memoryPressurePeakAvg10)}): ` +
        (memLimit
          ? `it waited for memory under its limit of ${memLimit}`
          : 'it had no limit of its own: the host was short of memory'),
    );
  if (recorded.memoryLimitHits > 0)
    floors.memory.push(`the memory limit (${memLimit ?? 'since lifted'}) was hit ${recorded.memoryLimitHits} times`);
  if (recorded.oomKills > 0) floors.memory.push(`${recorded.oomKills} OOM kills were recorded`);
  const cpuStall = recorded.cpuPressureSomeSeconds;
  if (cpuStall !== null && cpuStall / windowSeconds >= PRESSURE_SHARE_SEEN)
    floors.cpu.push(
      `CPU pressure was recorded (stalled ${seconds(cpuStall)}, some avg10 up to ${percent(recorded.cpuPressurePeakAvg10)}): ` +
        (quota ? `it waited for CPU under its quota of ${quota}` : 'it had no quota: the host was busy'),
    );
  if (recorded.cpuThrottledSeconds / windowSeconds >= PRESSURE_SHARE_SEEN)
    floors.cpu.push(
      `the CPU quota (${quota ?? 'since lifted'}) throttled it for ${seconds(recorded.cpuThrottledSeconds)}`,
    );
  return { firstMs, lastMs, samples: samples.length, headroom, cpu, memory, recorded, floors };
}
