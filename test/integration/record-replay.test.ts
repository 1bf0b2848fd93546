// The replay dashboard (tstop --at) on a real recording: bin/tstop record
// samples a test cgroup holding 64 MiB while `tstop limit` changes its memory
// limit (audited); then the dashboard in tmux shows the recorded cgroup with
// REPLAY and the sample's time, steps one sample forward and back (the time
// moves by exactly one recorded sample), marks the limit change in the header
// and in the detail view's limits, and refuses `l` saying why.
// Needs root (test cgroups) and tmux.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tstopBin } from '../../bench/export-process.js';
import { StoreReader } from '../../src/record/reader.js';
import { sampleTime } from '../../ui/view/header.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { limitEnv, runTstop } from '../helpers/limit.js';
import { hasTmux, TmuxPane, waitForScreen } from '../helpers/tmux.js';

const isRoot = process.getuid?.() === 0;
const TEST_TIMEOUT_MS = 180_000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

describe.runIf(isRoot && hasTmux())('the replay dashboard (tstop --at) in tmux', () => {
  let cg: TestCgroups;
  let store: string;
  let auditLog: string;
  let memId: string;
  let times: number[];
  let changeMs: number;
  const panes: TmuxPane[] = [];

  beforeAll(async () => {
    cg = new TestCgroups('replay');
    store = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-replay-'));
    auditLog = cg.tmp('audit.jsonl');
    memId = cg.mkdir('mem');
    const mem = cg.spawn('mem', ['alloc', '64']);
    await mem.ready;
    const recorder = spawn(tstopBin(), ['record', '--store', store, '--interval', '500ms'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const reader = StoreReader.open(store);
    try {
      await waitFor('four samples', () => reader.times().length >= 4, 60_000, 200);
      const limited = await runTstop(['limit', memId, '--memory', '256m', '--allow-system'], limitEnv(cg, auditLog));
      expect(limited.stderr).toBe('');
      expect(limited.code).toBe(0);
      changeMs = Date.parse(
        fs
          .readFileSync(auditLog, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { time: string })
          .at(-1)!.time,
      );
      await waitFor(
        'four samples after the change',
        () => reader.times().filter((t) => t > changeMs).length >= 4,
        60_000,
        200,
      );
    } finally {
      recorder.kill('SIGTERM');
      expect(await exited(recorder)).toBe(0);
    }
    times = reader.times();
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    for (const p of panes) p.kill();
    await cg?.cleanup();
    if (store) fs.rmSync(store, { recursive: true, force: true });
  });

  const start = (args: string): TmuxPane => {
    const p = new TmuxPane(
      `env TERM=xterm-256color TSTOP_AUDIT_LOG=${auditLog} ${tstopBin()} ${args}; echo TSTOP-EXIT=$?; sleep 600`,
    );
    panes.push(p);
    return p;
  };

  it(
    'shows the recorded cgroup, steps a sample each way, marks the limit change, and refuses actions',
    async () => {
      // The last sample before the change, and the first after it.
      const after = times.findIndex((t) => t >= changeMs);
      expect(after).toBeGreaterThan(0);
      const before = times[after - 1];
      const changed = times[after];
      const pane = start(`--at @${before / 1000} --store ${store} --all --filter '${memId}$'`);
      const header = (lines: string[]): string => lines[0] ?? '';
      const status = (lines: string[]): string => lines.filter((l) => l.trim() !== '').at(-1) ?? '';

      const first = await waitForScreen(pane, 'the replay at the sample before the change', (l) =>
        header(l).includes(`REPLAY  ${sampleTime(before)}`),
      );
      expect(sampleTime(changed)).not.toBe(sampleTime(before));
      expect(header(first)).not.toContain('LIMIT CHANGE');
      // The recorded cgroup, holding its 64 MiB.
      const row = first.slice(3).find((l) => l.includes(memId));
      expect(row, first.join('\n')).toBeDefined();
      expect(row).toMatch(/6[0-9](\.\d)?MiB/);

      // One sample forward: the time moves to the next recorded sample, where the change is marked.
      pane.send('.', true);
      const next = await waitForScreen(pane, 'one sample forward', (l) =>
        header(l).includes(`REPLAY  ${sampleTime(changed)}`),
      );
      expect(header(next)).toContain('LIMIT CHANGE');
      expect(status(next)).toContain('limit change at');

      // The detail view: the change in the limits section (scrolled into view), with its values.
      pane.send('Enter');
      await waitForScreen(pane, 'the detail view', (l) => l.some((x) => x.startsWith('Container ---')));
      let changedLine: string | undefined;
      for (let i = 0; i < 12 && !changedLine; i++) {
        changedLine = pane.lines().find((x) => x.includes('CHANGED'));
        if (!changedLine) {
          pane.send('PageDown');
          await sleep(300);
        }
      }
      expect(changedLine, pane.text()).toMatch(/CHANGED \d\d:\d\d:\d\d\.\d limit by root via cli/);
      const screen = pane.text();
      expect(screen).toMatch(/memory\.(limit_in_bytes|max)\s/);
      expect(screen).toMatch(/\S+ -> 268435456/);
      pane.send('Escape');

      // And back: the sample before, no marker.
      pane.send(',', true);
      const back = await waitForScreen(pane, 'one sample back', (l) =>
        header(l).includes(`REPLAY  ${sampleTime(before)}`),
      );
      expect(header(back)).not.toContain('LIMIT CHANGE');

      // Actions are off, with the reason.
      pane.send('l', true);
      await waitForScreen(pane, 'the refusal of l', (l) => l.some((x) => x.includes('the past cannot be changed')));

      pane.send('q', true);
      await waitForScreen(pane, 'the exit', (l) => l.some((x) => x.includes('TSTOP-EXIT=0')));
    },
    TEST_TIMEOUT_MS,
  );

  it('refuses a time outside the store, naming the range it holds', () => {
    const r = spawnSync(tstopBin(), ['--at', '@1000000000', '--store', store], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no sample at 2001-09-09T01:46:40Z');
    expect(r.stderr).toContain(`the store ${store} holds`);
  });
});
