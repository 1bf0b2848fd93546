// record (CPU): the recorder against `tstop snapshot --json --count N
// --interval 1s` printing the same samples, side by side: the two commands
// take turns (ROUNDS each, interleaved, so both see the same host load), each
// for N samples at 1 s, and their CPU time is what bash's `times` reports for
// the children it waited for (user + system, exact, start-up included). Then
// the recorder at 5 s: its CPU over the run divided by the run's wall time,
// start-up left out (from /proc/<pid>/stat after its first sample).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreReader } from '../src/record/reader.js';
import { median } from './collect.js';
import { tstopBin } from './export-process.js';

const ROUNDS = 3;

/** User + system seconds of the children bash waited for (the second line of `times`). */
function childCpuSeconds(timesOutput: string): number {
  const line = timesOutput.trim().split('\n').at(-1) ?? '';
  const secs = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (secs.length !== 2) throw new Error(`unexpected output of times: ${timesOutput}`);
  return secs[0] + secs[1];
}

function bashTimed(command: string, args: string[]): { cpuSeconds: number; stdout: string } {
  const r = spawnSync('bash', ['-c', `"$@" >/dev/null; times >&2`, 'bash', command, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`);
  return { cpuSeconds: childCpuSeconds(r.stderr), stdout: r.stdout };
}

function recordRun(samples: number): { cpuSeconds: number; recorded: number } {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-rec-'));
  try {
    // SIGINT half a second after the last sample is due: the recorder finishes it and exits 0.
    const r = bashTimed('timeout', [
      '-s',
      'INT',
      `${samples - 0.5}`,
      tstopBin(),
      'record',
      '--store',
      store,
      '--interval',
      '1s',
    ]);
    return { cpuSeconds: r.cpuSeconds, recorded: StoreReader.open(store).times().length };
  } finally {
    fs.rmSync(store, { recursive: true, force: true });
  }
}

function snapshotRun(samples: number): number {
  return bashTimed(tstopBin(), ['snapshot', '--json', '--all', '--count', String(samples), '--interval', '1s'])
    .cpuSeconds;
}

function procCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (USER_HZ ticks)
}

/** The recorder at `intervalMs` for `seconds`: CPU per wall second after its first sample. */
async function recorderShare(intervalMs: number, seconds: number): Promise<number> {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-rec-'));
  const child = spawn(tstopBin(), ['record', '--store', store, '--interval', `${intervalMs / 1000}s`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    const deadline = Date.now() + 120_000;
    while (StoreReader.open(store).times().length === 0) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the recorder wrote no sample');
      await new Promise((r) => setTimeout(r, 100));
    }
    const cpu0 = procCpuSeconds(child.pid!);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = procCpuSeconds(child.pid!) - cpu0;
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
    const r = recordRun(samples);
    record.push(r.cpuSeconds);
    recorded.push(r.recorded);
    snapshot.push(snapshotRun(samples));
  }
  const share5s = await recorderShare(5000, 60);
  const load = os.loadavg()[0].toFixed(1);
  return [
    `record cpu: ${samples} samples at 1 s, ${ROUNDS} interleaved rounds (load average ${load}): ` +
      `tstop record ${median(record).toFixed(2)} CPU s (runs ${record.map((c) => c.toFixed(2)).join(', ')}; ` +
      `samples recorded ${recorded.join(', ')}), tstop snapshot --json --all --count ${samples} --interval 1s ` +
      `${median(snapshot).toFixed(2)} CPU s (runs ${snapshot.map((c) => c.toFixed(2)).join(', ')}); ` +
      `record/snapshot ${(median(record) / median(snapshot)).toFixed(2)}`,
    `record cpu: tstop record --interval 5s, steady state over 60 s: ${(share5s * 100).toFixed(1)} % of a core (goal: at most 3 %)`,
  ];
}
