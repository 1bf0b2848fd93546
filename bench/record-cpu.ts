// record (CPU): the recorder against `tstop snapshot --json --all --count N
// --interval 1s` printing the same samples, side by side: the two commands
// take turns (ROUNDS each, interleaved, so both see the same host load), each
// until it has N samples (the recorder is stopped with SIGINT once its store
// holds N), and their CPU time (user + system, start-up included) is read from
// /proc/<pid>/stat every 100 ms until they exit (both lose the same last
// moment). The same polls also give each run's CPU per sample once it is
// steady (from its 5th sample to its (N-1)th), which is what a recorder left
// running for days costs. Then the recorder at 5 s: its CPU over a minute divided by the
// minute, counted from its first sample (the start-up before it left out).

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreReader } from '../src/record/reader.js';
import { median } from './collect.js';
import { tstopBin } from './export-process.js';

const ROUNDS = 3;
/**
 * TSTOP_BENCH_ROOT=DIR: both commands read the host at DIR (--root), e.g. a
 * mount namespace where DIR/sys/fs/cgroup/* are bind mounts of the fixture's
 * own subtree and DIR/proc is /proc: only its cgroups, on a host shared with
 * other cgroup trees.
 */
const ROOT_ARGS = process.env.TSTOP_BENCH_ROOT ? ['--root', process.env.TSTOP_BENCH_ROOT] : [];

function procCpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (USER_HZ ticks)
  } catch {
    return null; // gone
  }
}

/** A command's CPU seconds at its end, and when it had written WARM_SAMPLES and all but its last sample. */
interface RunCpu {
  cpuSeconds: number;
  /**
   * CPU seconds at the poll that first saw WARM_SAMPLES samples, and at the
   * one that saw all but the last (snapshot exits right after its last, often
   * before the next poll; the sample before is followed by a 1 s pause).
   */
  atWarm: number | null;
  atLast: number | null;
}

/** Samples after which a run counts as steady: the start-up, the first collections and templates are behind it. */
const WARM_SAMPLES = 5;

/**
 * Runs a child to its end (SIGINT once `samplesNow()` reaches `samples`, if
 * `stopAtLast`); its CPU seconds as last seen in /proc, and as seen when it
 * had WARM_SAMPLES and `samples` - 1 samples (polled every 100 ms, both commands alike).
 */
async function cpuOfRun(
  child: ChildProcess,
  samplesNow: () => number,
  samples: number,
  stopAtLast: boolean,
): Promise<RunCpu> {
  const run: RunCpu = { cpuSeconds: 0, atWarm: null, atLast: null };
  let stopped = false;
  const exited = new Promise((r) => child.once('exit', r));
  const deadline = Date.now() + 600_000;
  while (child.exitCode === null && child.signalCode === null) {
    run.cpuSeconds = procCpuSeconds(child.pid!) ?? run.cpuSeconds;
    const n = samplesNow();
    if (run.atWarm === null && n >= WARM_SAMPLES) run.atWarm = run.cpuSeconds;
    if (run.atLast === null && n >= samples - 1) run.atLast = run.cpuSeconds;
    if (!stopped && ((stopAtLast && n >= samples) || Date.now() > deadline)) {
      child.kill('SIGINT');
      stopped = true;
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 100))]);
  }
  return run;
}

/** CPU per sample between the WARM_SAMPLES-th and the last but one sample (null when a poll missed either). */
function steadyPerSample(run: RunCpu, samples: number): number | null {
  return run.atWarm === null || run.atLast === null ? null : (run.atLast - run.atWarm) / (samples - 1 - WARM_SAMPLES);
}

async function recordRun(samples: number): Promise<RunCpu & { recorded: number }> {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-rec-'));
  try {
    const child = spawn(tstopBin(), ['record', ...ROOT_ARGS, '--store', store, '--interval', '1s'], {
      stdio: 'ignore',
    });
    const count = (): number => StoreReader.open(store).times().length;
    const run = await cpuOfRun(child, count, samples, true);
    return { ...run, recorded: count() };
  } finally {
    fs.rmSync(store, { recursive: true, force: true });
  }
}

async function snapshotRun(samples: number): Promise<RunCpu> {
  const args = ['snapshot', ...ROOT_ARGS, '--json', '--all', '--count', String(samples), '--interval', '1s'];
  const child = spawn(tstopBin(), args, {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  // --json --count N: one JSON line per sample.
  let printed = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) printed++;
  });
  return cpuOfRun(child, () => printed, samples, false);
}

/**
 * The recorder's sample from which its 5 s CPU counts (see recorderShare):
 * its first. (Before store format v3 its second sample built every template
 * again, and this was 3.)
 */
const STEADY_FROM_SAMPLE = 1;

/** The recorder at `intervalMs` for `seconds`: CPU per wall second from its STEADY_FROM_SAMPLE-th sample on. */
async function recorderShare(intervalMs: number, seconds: number): Promise<number> {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-rec-'));
  const args = ['record', ...ROOT_ARGS, '--store', store, '--interval', `${intervalMs / 1000}s`];
  const child = spawn(tstopBin(), args, {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    const deadline = Date.now() + 120_000;
    while (StoreReader.open(store).times().length < STEADY_FROM_SAMPLE) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the recorder wrote too few samples');
      await new Promise((r) => setTimeout(r, 100));
    }
    const cpu0 = procCpuSeconds(child.pid!) ?? 0;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = (procCpuSeconds(child.pid!) ?? cpu0) - cpu0;
    return cpu / ((performance.now() - t0) / 1000);
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(store, { recursive: true, force: true });
  }
}

export async function cpuBench(samples = Number(process.env.TSTOP_BENCH_RECORD_SAMPLES ?? 20)): Promise<string[]> {
  const record: number[] = [];
  const snapshot: number[] = [];
  const recorded: number[] = [];
  const recordSteady: number[] = [];
  const snapshotSteady: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const r = await recordRun(samples);
    record.push(r.cpuSeconds);
    recorded.push(r.recorded);
    const p = await snapshotRun(samples);
    snapshot.push(p.cpuSeconds);
    const steady = [steadyPerSample(r, samples), steadyPerSample(p, samples)];
    if (steady[0] !== null && steady[1] !== null) {
      recordSteady.push(steady[0]);
      snapshotSteady.push(steady[1]);
    }
  }
  const share5s = await recorderShare(5000, 60);
  const load = os.loadavg()[0].toFixed(1);
  const perSample = (cpu: number[], n: number[]): string =>
    ((median(cpu) / median(n)) * 1000).toFixed(0) + ' ms per sample';
  return [
    `record cpu: ${samples} samples at 1 s, ${ROUNDS} interleaved rounds (load average ${load}): ` +
      `tstop record ${median(record).toFixed(2)} CPU s (runs ${record.map((c) => c.toFixed(2)).join(', ')}; ` +
      `samples recorded ${recorded.join(', ')}), tstop snapshot --json --all --count ${samples} --interval 1s ` +
      `${median(snapshot).toFixed(2)} CPU s (runs ${snapshot.map((c) => c.toFixed(2)).join(', ')}); ` +
      `record/snapshot ${(median(record) / median(snapshot)).toFixed(2)} ` +
      `(${perSample(record, recorded)} recorded, ${perSample(snapshot, [samples])} printed; snapshot --count N collects N+1 times)`,
    `record cpu: the same runs from their ${WARM_SAMPLES}th sample to their ${samples - 1}th (start-up, first collections ` +
      `and first templates behind them; rounds with both marks seen: ${recordSteady.length}): tstop record ` +
      `${(median(recordSteady) * 1000).toFixed(0)} ms per sample, snapshot ${(median(snapshotSteady) * 1000).toFixed(0)} ms ` +
      `per sample; record/snapshot ${(median(recordSteady) / median(snapshotSteady)).toFixed(2)}`,
    `record cpu: tstop record --interval 5s, over 60 s from its sample ${STEADY_FROM_SAMPLE}: ${(share5s * 100).toFixed(1)} % of a core (goal: at most 3 %)`,
  ];
}
