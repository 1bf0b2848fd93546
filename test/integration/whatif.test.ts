// What-if and recommend on a real recording: bin/tstop record samples a test
// cgroup holding 64 MiB, then 128 MiB, and another burning one core for
// about half the recording; `tstop limit --what-if` and `tstop recommend`
// read that store and write nothing.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreReader } from '../../src/record/reader.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { hashLimitFiles, limitEnv, runTstop, TSTOP_BIN } from '../helpers/limit.js';

const MiB = 1024 * 1024;
const INTERVAL_MS = 500;

let cg: TestCgroups;
let store: string;
let auditLog: string;
let env: NodeJS.ProcessEnv;
let memId: string;
let cpuId: string;
/** Wall-clock marks of the workload, epoch ms. */
const marks = { switchStart: 0, switchReady: 0, burnStart: 0, burnEnd: 0, recordEnd: 0 };
let limitFilesBefore: Map<string, string>;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

beforeAll(async () => {
  cg = new TestCgroups('whatif');
  store = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-whatif-'));
  auditLog = cg.tmp('audit.jsonl');
  env = limitEnv(cg, auditLog, { TSTOP_STORE: store });
  memId = cg.mkdir('mem');
  cpuId = cg.mkdir('cpu');
  limitFilesBefore = hashLimitFiles(cg);

  // The workload starts first; the recording then holds ~10 s of 64 MiB and the burner, and
  // as long again after the switch, counted in recorded samples (a busy host slows the ticks).
  const first = cg.spawn('mem', ['alloc', '64']);
  const burner = cg.spawn('cpu', ['spin']);
  await Promise.all([first.ready, burner.ready]);
  marks.burnStart = Date.now();
  const recorder = spawn(process.execPath, [TSTOP_BIN, 'record', '--interval', `${INTERVAL_MS}ms`], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const reader = StoreReader.open(store);
  const times = (): number[] => (fs.existsSync(store) ? reader.times() : []);
  try {
    await waitFor('10 s of samples', () => times().length >= 4 && times().at(-1)! - times()[0] >= 10_000, 90_000, 100);
    // The switch: another 64 MiB (128 MiB in all), and the burner stops.
    marks.switchStart = Date.now();
    const second = cg.spawn('mem', ['alloc', '64']);
    burner.child.kill('SIGKILL');
    await exited(burner.child);
    marks.burnEnd = Date.now();
    await second.ready;
    marks.switchReady = Date.now();
    const before = marks.switchStart - times()[0];
    await waitFor(
      'as long again after the switch',
      () => times().filter((t) => t > marks.switchReady).length >= 4 && times().at(-1)! - marks.switchReady >= before,
      90_000,
      100,
    );
  } finally {
    recorder.kill('SIGTERM');
    await exited(recorder);
    marks.recordEnd = Date.now();
  }
}, 240_000);

afterAll(async () => {
  await cg?.cleanup();
  fs.rmSync(store, { recursive: true, force: true });
});

interface WhatIfJson {
  written: boolean;
  samples: number;
  firstMs: number;
  lastMs: number;
  memory: {
    outcome: string;
    atMs: number;
    workingSet: { samples: number; first: { timeMs: number; previousMs: number }; peakOvershootBytes: number };
    usage: { samples: number; peakOvershootBytes: number };
  };
  cpu: { overQuotaShare: number; intervals: number; throttledSecondsAtLeast: number; coveredSeconds: number };
}

/** CPU cores used between consecutive recorded samples of one cgroup, straight from the store. */
function recordedCores(id: string): { startMs: number; endMs: number; seconds: number; cores: number }[] {
  const out: { startMs: number; endMs: number; seconds: number; cores: number }[] = [];
  let prev: { ms: number; mono: number; used: number } | null = null;
  for (const s of StoreReader.open(store).between(0, Infinity)) {
    const used = s.containers.find((x) => x.id === id)?.cpu?.usageSeconds;
    if (used === undefined || used === null) continue;
    const now = { ms: Date.parse(s.timestamp), mono: s.monotonicSeconds, used };
    const seconds = prev ? now.mono - prev.mono : 0;
    if (prev) out.push({ startMs: prev.ms, endMs: now.ms, seconds, cores: (now.used - prev.used) / seconds });
    prev = now;
  }
  return out;
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

describe('tstop limit --what-if and tstop recommend on a real recording', () => {
  it('--memory 100m: the first sample over the limit is the first one after the switch to 128 MiB, ~28 MiB over', async () => {
    const r = await runTstop(['limit', memId, '--memory', '100m', '--what-if', '10m', '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as WhatIfJson;
    expect(report.written).toBe(false);
    const m = report.memory;
    expect(m.outcome).toBe('oom');
    // Within one sample of the switch: a sample's time is when its tick began and the cgroup is
    // read during the tick, so the first sample over the limit is at the latest the first one
    // begun after the second 64 MiB were touched, and was read before the next tick began,
    // which is after the switch started.
    const times = StoreReader.open(store).times();
    const firstAfterReady = times.find((t) => t >= marks.switchReady)!;
    expect(m.atMs).toBeLessThanOrEqual(firstAfterReady);
    expect(times.find((t) => t > m.atMs)).toBeGreaterThanOrEqual(marks.switchStart);
    expect(m.workingSet.first.timeMs).toBe(m.atMs);
    expect(m.workingSet.first.previousMs).toBeLessThan(m.atMs);
    expect(m.workingSet.first.previousMs).toBeLessThanOrEqual(marks.switchReady);
    // 128 MiB of touched pages plus the two processes' own few hundred KiB.
    expect(m.workingSet.peakOvershootBytes / MiB).toBeGreaterThanOrEqual(27.5);
    expect(m.workingSet.peakOvershootBytes / MiB).toBeLessThanOrEqual(31);
    // Every sample from the crossing to the end is over.
    expect(m.workingSet.samples).toBe(times.filter((t) => t >= m.atMs).length);

    const text = await runTstop(['limit', memId, '--memory', '100m', '--what-if', '10m'], env);
    expect(text.code).toBe(0);
    const clock = new Date(m.atMs).toTimeString().slice(0, 8);
    // With the date first when the 10-minute window spans local midnight (whatif-text.ts, reportClock).
    expect(text.stdout).toMatch(new RegExp(`would have been OOM-killed at (\\d{4}-\\d\\d-\\d\\d )?${clock}`));
    expect(text.stdout).toContain('usage above a limit is reclaimed first');
    expect(text.stdout).toContain('nothing was written');
  });

  it('--cpus 0.5 against a one-core burner for half the recording: about half the window over the quota', async () => {
    // On a shared two-core machine the burner may get less than a core: the quota is then half
    // of what it got on average over its burn (all of the cgroup's CPU time is the burner's).
    const intervals = recordedCores(cpuId);
    const burnCores = sum(intervals.map((iv) => iv.cores * iv.seconds)) / ((marks.burnEnd - marks.burnStart) / 1000);
    const quota = Math.min(0.5, Math.floor((burnCores / 2) * 100) / 100);
    expect(quota).toBeGreaterThanOrEqual(0.01); // the smallest --cpus
    const r = await runTstop(['limit', cpuId, '--cpus', String(quota), '--what-if', '10m', '--json'], env);
    expect(r.code).toBe(0);
    const c = (JSON.parse(r.stdout) as WhatIfJson).cpu;
    // The share and the throttled-time bound, straight from the store's CPU counters.
    const covered = sum(intervals.map((iv) => iv.seconds));
    const over = intervals.filter((iv) => iv.cores > quota);
    expect(c.intervals).toBe(intervals.length);
    expect(c.overQuotaShare).toBeCloseTo(sum(over.map((iv) => iv.seconds)) / covered, 6);
    expect(c.throttledSecondsAtLeast).toBeCloseTo(sum(over.map((iv) => iv.seconds * (1 - quota / iv.cores))), 6);
    // About half the window: the burner ran for that share of the recording, and each end of
    // the burn can tip the one interval it falls in either way.
    const burnShare = (marks.burnEnd - marks.burnStart) / (intervals.at(-1)!.endMs - intervals[0].startMs);
    expect(burnShare).toBeGreaterThan(0.3);
    expect(burnShare).toBeLessThan(0.7);
    const longest = Math.max(...intervals.map((iv) => iv.seconds)) / covered;
    expect(Math.abs(c.overQuotaShare - burnShare)).toBeLessThanOrEqual(0.1 + 2 * longest);

    const text = await runTstop(['limit', cpuId, '--cpus', String(quota), '--what-if', '10m'], env);
    expect(text.stdout).toMatch(/above the quota in \d+ of \d+ intervals .*% of the window\)/);
    expect(text.stdout).toContain('the kernel throttles per 100 ms period');
    expect(text.stdout).toContain('lower bound');
  });

  it('recommend prints the limit command from the recorded peak working set and CPU p95, with its what-if', async () => {
    // The figures straight from the store: peak working set of the memory cgroup.
    let peakWs = 0;
    for (const s of StoreReader.open(store).between(0, Infinity)) {
      const c = s.containers.find((x) => x.id === memId);
      peakWs = Math.max(peakWs, c?.memory?.workingSetBytes ?? 0);
    }
    const expectedMiB = Math.ceil((peakWs * 1.2) / MiB);
    const r = await runTstop(['recommend', memId, '--window', '10m', '--headroom', '20%'], env);
    expect(r.code).toBe(0);
    const command = /^ {2}(tstop limit .*)$/m.exec(r.stdout)![1];
    expect(command).toMatch(new RegExp(`^tstop limit ${memId} --memory ${expectedMiB}m --cpus 0\\.\\d\\d$`));
    expect(r.stdout).toContain('peak working set');
    expect(r.stdout).toMatch(/memory limit \d+MiB:\n {2}working set: peak .* within the limit/);

    const json = await runTstop(['recommend', cpuId, '--window', '10m', '--json'], env);
    const rec = JSON.parse(json.stdout) as {
      command: string;
      recommendation: { cpu: { p95Cores: number; cores: number } };
      whatIf: { cpu: { overQuotaShare: number } };
    };
    // The p95 of the cores used between the recorded samples (nearest rank), and that plus 15 %.
    const cores = recordedCores(cpuId)
      .map((iv) => iv.cores)
      .sort((a, b) => a - b);
    expect(rec.recommendation.cpu.p95Cores).toBeCloseTo(cores[Math.ceil(0.95 * cores.length) - 1], 6);
    expect(rec.recommendation.cpu.cores).toBeCloseTo(Math.ceil(rec.recommendation.cpu.p95Cores * 115 - 1e-6) / 100, 9);
    expect(rec.command).toContain(`--cpus ${rec.recommendation.cpu.cores}`);
    expect(rec.whatIf.cpu.overQuotaShare).toBeLessThanOrEqual(0.1);
  });

  it('errors: a container never recorded, a window after the recording, with the range held', async () => {
    const missing = await runTstop(['limit', cg.id('nope'), '--memory', '100m', '--what-if', '10m'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /no container \/tstop-test-\d+-whatif\/nope was recorded between .* \(the store .* holds \S+Z to \S+Z\)/,
    );
    await sleep(Math.max(0, marks.recordEnd + 2500 - Date.now()));
    const late = await runTstop(['limit', memId, '--memory', '100m', '--what-if', '1s'], env);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/no sample between \S+Z and \S+Z: the store .* holds \S+Z to \S+Z/);
    const noStore = await runTstop(['recommend', memId, '--store', cg.tmp('none')], env);
    expect(noStore.code).toBe(1);
    expect(noStore.stderr).toContain('no store at');
  });

  it('wrote nothing: the limit files are as before and there is no audit record', () => {
    expect(hashLimitFiles(cg)).toEqual(limitFilesBefore);
    expect(fs.existsSync(auditLog)).toBe(false);
  });
});
