// The what-if and recommend reports as an on-call person reads them. Times
// are local clock times (as `--at 03:12` takes them), with the date when
// the window spans more than one day.

import { formatBytes } from '../util/format.js';
import type { Recommendation } from './recommend.js';
import { CFS_PERIOD_MS, type Exceedance, type SampleTime, type WhatIfReport } from './whatif.js';

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * A clock for one report: HH:MM:SS, with tenths when samples are under 2 s
 * apart, and YYYY-MM-DD first when the report spans local days.
 */
export function reportClock(firstMs: number, lastMs: number, intervalMs = 5000): (ms: number) => string {
  const day = (ms: number): string => {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  };
  const withDate = day(firstMs) !== day(lastMs);
  return (ms) => {
    const d = new Date(ms);
    const tenths = intervalMs < 2000 ? `.${Math.floor(d.getMilliseconds() / 100)}` : '';
    const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${tenths}`;
    return withDate ? `${day(ms)} ${clock}` : clock;
  };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function seconds(s: number): string {
  return s >= 100 ? `${Math.round(s)}s` : `${s.toFixed(1)}s`;
}

function cores(n: number): string {
  return n < 0.1 ? n.toFixed(3) : n.toFixed(2);
}

export interface ReportContext {
  /** The container as the user will recognise it. */
  who: string;
  /** The recording interval (the precision of every time given). */
  intervalMs: number;
  /** The window asked for, as typed ("24h"), and its start: the store may cover less. */
  windowText: string;
  windowStartMs: number;
}

function when(t: SampleTime, clock: (ms: number) => string): string {
  return t.previousMs === null
    ? `at ${clock(t.timeMs)} (the first sample)`
    : `at ${clock(t.timeMs)} (between the samples of ${clock(t.previousMs)} and ${clock(t.timeMs)})`;
}

function overLine(what: string, e: Exceedance, total: number, limit: number, clock: (ms: number) => string): string {
  if (e.samples === 0) return `  ${what}: peak ${formatBytes(e.peakBytes)} at ${clock(e.peakAtMs)}, within the limit`;
  return (
    `  ${what} above it in ${e.samples} of ${plural(total, 'sample')}, first ${when(e.first!, clock)};` +
    ` peak ${formatBytes(e.peakBytes)} at ${clock(e.peakAtMs)}: ${formatBytes(e.peakOvershootBytes)} over` +
    (limit > 0 ? ` (${((e.peakOvershootBytes / limit) * 100).toFixed(0)}% of the limit)` : '')
  );
}

export function whatIfText(r: WhatIfReport, ctx: ReportContext): string {
  const clock = reportClock(Math.min(r.firstMs, ctx.windowStartMs), r.lastMs, ctx.intervalMs);
  const lines: string[] = [];
  const proposed = [
    r.limits.memoryBytes !== undefined ? `--memory ${formatBytes(r.limits.memoryBytes)}` : null,
    r.limits.cpuCores !== undefined ? `--cpus ${r.limits.cpuCores}` : null,
    r.limits.pidsLimit !== undefined ? `--pids-limit ${r.limits.pidsLimit}` : null,
  ].filter(Boolean);
  lines.push(
    `what if ${ctx.who} had had ${proposed.join(' ')} over the last ${ctx.windowText}:`,
    `  replayed ${plural(r.samples, 'recorded sample')} from ${clock(r.firstMs)} to ${clock(r.lastMs)}, one every ${seconds(ctx.intervalMs / 1000)}` +
      (r.firstMs - ctx.windowStartMs > 2 * ctx.intervalMs
        ? ` (the recording starts after the window does: ${clock(ctx.windowStartMs)})`
        : ''),
    '',
  );
  if (r.limits.memoryBytes !== undefined) {
    const m = r.memory;
    lines.push(`memory limit ${formatBytes(r.limits.memoryBytes)}:`);
    if (!m) lines.push('  no memory readings in the recording');
    else {
      lines.push(overLine('working set', m.workingSet, m.samples, m.limitBytes, clock));
      lines.push(overLine('usage', m.usage, m.samples, m.limitBytes, clock));
      if (m.outcome === 'oom')
        lines.push(
          `  => would have been OOM-killed at ${clock(m.atMs!)}: the working set (memory the kernel cannot reclaim) was above the limit`,
        );
      else if (m.outcome === 'reclaim')
        lines.push(
          `  => would have been reclaimed at ${clock(m.atMs!)}: usage above the limit, but the working set fit, so the kernel drops page cache first (slower IO, no OOM kill)`,
        );
      else lines.push('  => fits: neither usage nor working set reached the limit');
      if (m.outcome !== 'fits')
        lines.push(
          '  (usage above a limit is reclaimed first; only a working set above it leaves nothing to reclaim and means an OOM kill,',
          '   or swapping where the memory+swap limit allows swap)',
        );
    }
  }
  if (r.limits.cpuCores !== undefined) {
    const c = r.cpu;
    lines.push(`CPU quota ${r.limits.cpuCores} cores:`);
    if (!c) lines.push('  no CPU intervals in the recording (it needs two samples of the same cgroup)');
    else {
      if (c.overQuotaIntervals === 0)
        lines.push(`  within the quota in every interval; peak ${cores(c.peakCores)} cores at ${clock(c.peakAtMs)}`);
      else
        lines.push(
          `  above the quota in ${c.overQuotaIntervals} of ${plural(c.intervals, 'interval')} (${seconds(c.overQuotaSeconds)} of ${seconds(c.coveredSeconds)}, ${(c.overQuotaShare * 100).toFixed(1)}% of the window), first ${when(c.first!, clock)}`,
          `  peak ${cores(c.peakCores)} cores at ${clock(c.peakAtMs)}; p95 ${cores(c.p95Cores)} cores`,
          `  => throttled for at least ${seconds(c.throttledSecondsAtLeast)} (${((c.throttledSecondsAtLeast / c.coveredSeconds) * 100).toFixed(1)}% of the window)`,
        );
      lines.push(
        `  precision: the kernel throttles per ${CFS_PERIOD_MS} ms period; a sample every ${seconds(ctx.intervalMs / 1000)} is an average,`,
        '  so bursts inside a sample and work pushed later by the quota are not seen: the throttled time is a lower bound',
      );
      if (c.skippedIntervals > 0)
        lines.push(
          `  (${plural(c.skippedIntervals, 'interval')} skipped: the cgroup was recreated or its counter reset)`,
        );
    }
  }
  if (r.limits.pidsLimit !== undefined) {
    const p = r.pids;
    lines.push(`pids limit ${r.limits.pidsLimit}:`);
    if (!p) lines.push('  no pids readings in the recording');
    else if (p.samplesAtOrOver === 0) lines.push(`  peak ${p.peak} at ${clock(p.peakAtMs)}, within the limit`);
    else
      lines.push(
        `  peak ${p.peak} at ${clock(p.peakAtMs)}: at or above the limit in ${p.samplesAtOrOver} of ${plural(p.samples, 'sample')}` +
          (p.first ? `, above it first ${when(p.first, clock)}` : ''),
        `  => forks would have failed (EAGAIN) once ${p.limit} tasks were running`,
      );
  }
  lines.push(...recordedNotes(r));
  lines.push('', 'what-if: nothing was written (no cgroup file, no audit record)');
  return lines.join('\n') + '\n';
}

/** What the current limits already did in the recording: demand above them is not in it. */
function recordedNotes(r: WhatIfReport): string[] {
  const notes: string[] = [];
  const rec = r.recorded;
  if (r.limits.memoryBytes !== undefined && (rec.memoryLimitHits > 0 || rec.oomKills > 0))
    notes.push(
      `note: the recorded memory limit (${formatBytes(rec.memoryLimitBytes)}) was hit ${rec.memoryLimitHits} times` +
        (rec.oomKills > 0 ? ` with ${rec.oomKills} OOM kills` : '') +
        ': the recording does not show what it would have used without it',
    );
  if (r.limits.cpuCores !== undefined && rec.cpuThrottledSeconds > 0)
    notes.push(
      `note: the recorded CPU quota (${rec.cpuQuotaCores ?? 'none now'} cores) throttled it for ${seconds(rec.cpuThrottledSeconds)}: demand above it is not in the recording`,
    );
  return notes.length ? ['', ...notes] : [];
}

export function recommendText(rec: Recommendation, ctx: ReportContext & { command: string | null }): string {
  const clock = reportClock(Math.min(rec.firstMs, ctx.windowStartMs), rec.lastMs, ctx.intervalMs);
  const pct = (f: number): string => `${Math.round(f * 100)}%`;
  const lines = [
    `recommended limits for ${ctx.who}, from ${plural(rec.samples, 'sample')} recorded ${clock(rec.firstMs)} to ${clock(rec.lastMs)} (window ${ctx.windowText}):`,
  ];
  if (rec.cpu)
    lines.push(
      `  CPU:    --cpus ${rec.cpu.cores}  (p95 of ${plural(rec.cpu.intervals, 'interval')}: ${cores(rec.cpu.p95Cores)} cores, + ${pct(rec.headroom.cpu)} headroom)`,
    );
  else lines.push('  CPU:    no recommendation (no CPU intervals recorded)');
  if (rec.memory)
    lines.push(
      `  memory: --memory ${formatBytes(rec.memory.bytes)}  (peak working set ${formatBytes(rec.memory.peakWorkingSetBytes)} at ${clock(rec.memory.peakAtMs)}, + ${pct(rec.headroom.memory)} headroom)`,
    );
  else lines.push('  memory: no recommendation (no memory readings recorded)');
  const psiKnown = rec.recorded.memoryPressureSomeSeconds !== null || rec.recorded.cpuPressureSomeSeconds !== null;
  for (const [what, reasons] of [
    ['memory', rec.floors.memory],
    ['CPU', rec.floors.cpu],
  ] as const) {
    if (reasons.length > 0)
      lines.push(`  ${what} is a floor: ${reasons.join('; ')}; its demand may be higher than recorded`);
  }
  if (rec.floors.memory.length === 0 && rec.floors.cpu.length === 0)
    lines.push(
      psiKnown
        ? '  checked against the recorded PSI: no memory or CPU pressure, no throttling, no limit hits'
        : '  no PSI in the recording (cgroup v1, or a kernel without PSI): checked against throttling and limit hits only; none seen',
    );
  if (ctx.command) lines.push('', 'apply with:', `  ${ctx.command}`);
  return lines.join('\n') + '\n';
}
