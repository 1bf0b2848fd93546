// record (CPU): the recorder against `tstop snapshot --json --all --count N
// --interval 1s` printing the same samples, side by side: the two commands
// take turns (ROUNDS each, interleaved, so both see the same host load), each
// until it has N samples (the recorder is stopped with SIGINT once its store
// holds N), and their CPU time (user + system, start-up included) is read from
// /proc/<pid>/stat every 100 ms until they exit (both lose the same last
// moment). Then the recorder at 5 s: its CPU over a minute divided by the
// minute, start-up left out (from /proc/<pid>/stat after its first sample).

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

/** Runs a child to its end (`stopWhen` true: SIGINT), its CPU seconds as last seen in /proc. */
async function cpuOfRun(child: ChildProcess, stopWhen: () => boolean = () => false): Promise<number> {
  let cpu = 0;
  let stopped = false;
  const exited = new Promise((r) => child.once('exit', r));
  const deadline = Date.now() + 600_000;
  while (child.exitCode === null && child.signalCode === null) {
    cpu = procCpuSeconds(child.pid!) ?? cpu;
    if (!stopped && (stopWhen() || Date.now() > deadline)) {
      child.kill('SIGINT');
      stopped = true;
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 100))]);
  }
  return cpu;
}

async function recordRun(samples: number): Promise<{ cpuSeconds: number; recorded: number }> {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-rec-'));
  try {
    const child = spawn(tstopBin(), ['record', ...ROOT_ARGS, '--store', store, '--interval', '1s'], {
      stdio: 'ignore',
    });
    const count = (): number => StoreReader.open(store).times().length;
    const cpuSeconds = await cpuOfRun(child, () => count() >= samples);
    return { cpuSeconds, recorded: count() };
  } finally {
    fs.rmSync(store, { recursive: true, force: true });
  }
}

async function snapshotRun(samples: number): Promise<number> {
  const args = ['snapshot', ...ROOT_ARGS, '--json', '--all', '--count', String(samples), '--interval', '1s'];
  const child = spawn(tstopBin(), args, {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  return cpuOfRun(child);
}

/** The recorder at `intervalMs` for `seconds`: CPU per wall second after its first sample. */
async function recorderShare(intervalMs: number, seconds: number): Promise<number> {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-rec-'));
  const args = ['record', ...ROOT_ARGS, '--store', store, '--interval', `${intervalMs / 1000}s`];
  const child = spawn(tstopBin(), args, {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    const deadline = Date.now() + 120_000;
    while (StoreReader.open(store).times().length === 0) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the recorder wrote no sample');
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
  for (let round = 0; round < ROUNDS; round++) {
    const r = await recordRun(samples);
    record.push(r.cpuSeconds);
    recorded.push(r.recorded);
    snapshot.push(await snapshotRun(samples));
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
    `record cpu: tstop record --interval 5s, steady state over 60 s: ${(share5s * 100).toFixed(1)} % of a core (goal: at most 3 %)`,
  ];
}
