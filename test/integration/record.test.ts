// The flight recorder on the real kernel: bin/tstop record samples real
// cgroups with real processes; snapshot --at returns what was recorded.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tstopBin } from '../../bench/export-process.js';
import { StoreReader } from '../../src/record/reader.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { cpuQuota } from '../helpers/kernel.js';
import type { Snapshot } from '../../src/model/types.js';

const MiB = 1024 * 1024;
/** kill -9 rounds: 30 here, 10 in the v2 lane's emulated guest (5-25x slower). */
const KILL_ROUNDS = process.env.TSTOP_TEST_LANE === 'v2' ? 10 : 30;
let cg: TestCgroups;
let store: string;

beforeAll(() => {
  cg = new TestCgroups('record');
  store = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-record-'));
});
/** Every recorder a test started: one left running by a failed or timed-out test is stopped in teardown. */
const recorders = new Set<ChildProcess>();

afterAll(async () => {
  for (const r of recorders) {
    if (r.exitCode !== null || r.signalCode !== null) continue;
    r.kill('SIGKILL');
    await exited(r);
  }
  await cg.cleanup();
  fs.rmSync(store, { recursive: true, force: true });
});

function startRecorder(dir: string, interval = '500ms'): ChildProcess {
  const recorder = spawn(tstopBin(), ['record', '--store', dir, '--interval', interval], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  recorders.add(recorder);
  return recorder;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

function tstop(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(tstopBin(), args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Overwrites 16 bytes in the middle of the largest segment; the rest must still read, with one warning. */
function corruptAndRead(store: string): void {
  const before = StoreReader.open(store).times();
  const files = fs.readdirSync(store).filter((f) => f.endsWith('.tsr'));
  const largest = files.map((f) => path.join(store, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  const buf = fs.readFileSync(largest);
  const middle = Math.floor(buf.length / 2);
  buf.fill(0xa5, middle, middle + 16);
  fs.writeFileSync(largest, buf);
  const r = tstop([
    'snapshot',
    '--store',
    store,
    '--from',
    `@${before[0] / 1000}`,
    '--to',
    `@${before.at(-1)! / 1000}`,
    '--json',
  ]);
  expect(r.status).toBe(0);
  const got = r.stdout
    .trim()
    .split('\n')
    .map((l) => Date.parse((JSON.parse(l) as Snapshot).timestamp));
  // The damaged record is gone (and, if it was a key frame, the deltas on it); everything else is
  // there. 16 bytes touch at most two records: the rest of one block and, at a boundary, the next.
  expect(got.length).toBeGreaterThanOrEqual(before.length - 22);
  expect(got.length).toBeLessThan(before.length);
  expect(got.every((t) => before.includes(t))).toBe(true);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/warning: store: seg-\d+\.tsr: skipped damaged data/);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('tstop record and snapshot --at', () => {
  it('replays a 64 MiB cgroup and a CPU burner as recorded', async () => {
    const memId = cg.mkdir('mem');
    const cpuId = cg.mkdir('cpu');
    cpuQuota(cg, 'cpu', 0.5);
    const mem = cg.spawn('mem', ['alloc', '64']);
    const burner = cg.spawn('cpu', ['spin']);
    await Promise.all([mem.ready, burner.ready]);
    const recorder = startRecorder(store);
    const reader = StoreReader.open(store);
    await waitFor('eight samples', () => reader.times().length >= 8, 60_000, 200);

    // A second recorder on the same store refuses, naming the first.
    const second = tstop(['record', '--store', store, '--interval', '500ms']);
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`already being recorded by pid ${recorder.pid}`));

    recorder.kill('SIGTERM');
    expect(await exited(recorder)).toBe(0);

    const times = reader.times();
    const middle = times[Math.floor(times.length / 2)];
    const r = tstop([
      'snapshot',
      '--store',
      store,
      '--at',
      `@${middle / 1000}`,
      '--json',
      '--all',
      '--filter',
      cg.name,
    ]);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as Snapshot;
    expect(Date.parse(s.timestamp)).toBe(middle);
    const memC = s.containers.find((c) => c.id === memId)!;
    const cpuC = s.containers.find((c) => c.id === cpuId)!;
    expect(memC.memory!.usageBytes! / MiB).toBeGreaterThanOrEqual(60);
    expect(memC.memory!.usageBytes! / MiB).toBeLessThanOrEqual(72);
    expect(memC.processes).toEqual([mem.pid]);
    expect(cpuC.cpu!.percent).toBeGreaterThanOrEqual(35);
    expect(cpuC.cpu!.percent).toBeLessThanOrEqual(65);

    // The range as JSON Lines: every recorded sample, in order.
    const range = tstop([
      'snapshot',
      '--store',
      store,
      '--from',
      `@${times[0] / 1000}`,
      '--to',
      `@${times.at(-1)! / 1000}`,
      '--json',
      '--filter',
      cg.name,
    ]);
    expect(range.status).toBe(0);
    expect(
      range.stdout
        .trim()
        .split('\n')
        .map((l) => Date.parse((JSON.parse(l) as Snapshot).timestamp)),
    ).toEqual(times);

    // One row set per step, as CSV: a header, then rows of the samples at or before each step.
    const csv = tstop([
      'snapshot',
      '--store',
      store,
      '--from',
      `@${times[0] / 1000}`,
      '--to',
      `@${times.at(-1)! / 1000}`,
      '--step',
      '2s',
      '--csv',
      '--all',
      '--filter',
      `${cg.name}/mem`,
    ]);
    expect(csv.status).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^timestamp,id,name,/);
    const stamps = lines.slice(1).map((l) => Date.parse(l.split(',')[0]));
    const expected = new Set<number>();
    for (let t = times[0]; t <= times.at(-1)!; t += 2000) expected.add(times.filter((x) => x <= t).at(-1)!);
    expect(stamps).toEqual([...expected]);

    // Outside the range: the range held, exit 1. A bad time: exit 2 naming the forms.
    const early = tstop(['snapshot', '--store', store, '--at', `@${times[0] / 1000 - 3600}`]);
    expect(early.status).toBe(1);
    expect(early.stderr).toMatch(/no sample at .*: the store .* holds \S+Z to \S+Z/);
    const bad = tstop(['snapshot', '--store', store, '--at', 'yesterday']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--at: 'yesterday' is not a time; accepted forms: '10m ago'/);
    await cg.cleanupProcesses('mem');
    await cg.cleanupProcesses('cpu');
  });

  it('reads past bytes overwritten in the middle of the largest store file, with one warning', async () => {
    // Its own store of several blocks (a key frame and up to 20 deltas each): a block decodes
    // from its key frame, so a store of one block has nothing left to read once its key frame
    // is hit, and the first key frame of a short store holds most of its bytes.
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-record-damaged-'));
    const recorder = startRecorder(store, '100ms');
    try {
      const reader = StoreReader.open(store);
      await waitFor('three blocks of samples', () => reader.times().length >= 70, 120_000, 100);
      recorder.kill('SIGTERM');
      expect(await exited(recorder)).toBe(0);
      corruptAndRead(store);
    } finally {
      recorder.kill('SIGKILL');
      fs.rmSync(store, { recursive: true, force: true });
    }
  }, 180_000);

  it('loses at most the sample being written when killed -9, round after round', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-record-kill-'));
    try {
      const reader = StoreReader.open(dir);
      let before: number[] = [];
      for (let round = 0; round < KILL_ROUNDS; round++) {
        const recorder = startRecorder(dir, '100ms');
        await waitFor('a new sample', () => reader.times().length > before.length, 30_000, 20);
        await sleep(Math.random() * 400);
        recorder.kill('SIGKILL');
        await exited(recorder);
        const now = reader.times();
        // Every sample seen before the kill is still there.
        expect(now.slice(0, before.length)).toEqual(before);
        before = now;
      }
      // A fresh recorder repairs the tail; the store reads whole, with no warning.
      const warnings: string[] = [];
      const all = [...StoreReader.open(dir, (m) => warnings.push(m)).between(0, Infinity)];
      expect(all.length).toBe(before.length);
      expect(warnings).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
