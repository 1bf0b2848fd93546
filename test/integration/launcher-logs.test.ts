// Issue 18, logs and restarts: `tstop logs [-f] [--tail N] [--since] [-t]`
// over a detached container's rotated CRI log, and `--restart` kept by the
// detached helper, through the real CLI on the real kernel with a busybox
// rootfs. Containers live under this run's own parent cgroup and a
// temporary TSTOP_RUN_DIR.

import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { startTstop, type StartedTstop, type TstopResult } from '../helpers/tstop-process.js';
import { ensureHelper, findBusybox, makeBusyboxRootfs } from '../native/harness.js';

const isRoot = process.getuid?.() === 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

async function waitAsync(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe.runIf(isRoot)('tstop logs and --restart (issue 18)', () => {
  let cg: TestCgroups;
  let env: NodeJS.ProcessEnv;
  let runDir: string;
  let rootfs: ReturnType<typeof makeBusyboxRootfs>;
  let shared: string; // a host directory the containers see as /ctl (files that tell them to go on)
  const children = new Set<ChildProcess>();
  const names: string[] = [];

  const start = (args: string[]): StartedTstop => startTstop(children, args, env);
  const tstop = (args: string[]): Promise<TstopResult> => start(args).done;

  /** tstop run -d --name NAME --rootfs ... [flags] -- sh -c SCRIPT */
  async function runDetached(name: string, script: string, flags: string[] = []): Promise<void> {
    names.push(name);
    const r = await tstop([
      'run',
      '-d',
      '--name',
      name,
      '--rootfs',
      rootfs.rootfs,
      '-v',
      `${shared}:/ctl`,
      ...flags,
      '--',
      'sh',
      '-c',
      script,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }

  const stateOf = (name: string): Record<string, unknown> =>
    JSON.parse(fs.readFileSync(path.join(runDir, `${name}.json`), 'utf8')) as Record<string, unknown>;

  /** The container as tstop ps --json -a shows it (ps reconciles: records ends, restarts, the latest pid). */
  async function ps(name: string): Promise<Record<string, unknown>> {
    const r = await tstop(['ps', '-a', '--json']);
    const all = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    return all.find((c) => c.name === name) ?? {};
  }
  async function psRow(name: string): Promise<string> {
    const r = await tstop(['ps', '-a']);
    return r.stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
  }
  async function waitExited(name: string, ms = 30_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const st = await ps(name);
      if (st.status === 'exited') return st;
      if (Date.now() > deadline) throw new Error(`${name} did not exit: ${JSON.stringify(st)}`);
      await sleep(100);
    }
  }
  const touch = (file: string): void => fs.writeFileSync(path.join(shared, file), '');
  /** A shell loop that waits for /ctl/FILE. */
  const waitIn = (file: string): string => `while [ ! -e /ctl/${file} ]; do sleep 0.05; done`;

  beforeAll(() => {
    ensureHelper();
    cg = new TestCgroups('logs');
    runDir = cg.tmp('state');
    shared = cg.tmp('ctl');
    fs.mkdirSync(shared, { recursive: true });
    env = { ...process.env, TSTOP_RUN_DIR: runDir, TSTOP_RUN_PARENT: `${cg.id()}/tstop` };
    const busybox = findBusybox();
    if (!busybox) throw new Error('a static busybox is needed: apt-get install busybox-static');
    rootfs = makeBusyboxRootfs(busybox);
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const n of names) await tstop(['rm', '-f', n]);
    await cg?.cleanup();
    rootfs?.cleanup();
  });

  it("logs prints the container's stdout on stdout and its stderr on stderr, a last line without its newline as it is; -t puts each line's time first", async () => {
    await runDetached('out', 'echo one; echo two >&2; echo three; printf four');
    await waitExited('out');
    const r = await tstop(['logs', 'out']);
    expect(r.code).toBe(0);
    // As docker logs: the container's stdout on stdout, its stderr on stderr.
    expect(r.stdout).toBe('one\nthree\nfour'); // no newline was written after "four"
    expect(r.stderr).toBe('two\n');

    const t = await tstop(['logs', '-t', 'out']);
    const stamped = [...t.stdout.split('\n'), ...t.stderr.trimEnd().split('\n')].map((l) => l.split(' '));
    expect(stamped.map(([, text]) => text)).toEqual(['one', 'three', 'four', 'two']);
    for (const [stamp] of stamped) {
      expect(stamp).toMatch(STAMP);
      expect(Math.abs(Date.parse(stamp) - Date.now())).toBeLessThan(120_000);
    }
  });

  it('--tail N prints the last N lines (0: none, all: every one)', async () => {
    await runDetached('tail', 'i=1; while [ $i -le 10 ]; do echo line-$i; i=$((i+1)); done');
    await waitExited('tail');
    expect((await tstop(['logs', '--tail', '3', 'tail'])).stdout).toBe('line-8\nline-9\nline-10\n');
    expect((await tstop(['logs', '-n', '1', 'tail'])).stdout).toBe('line-10\n');
    expect((await tstop(['logs', '--tail', '0', 'tail'])).stdout).toBe('');
    const all = await tstop(['logs', '--tail', 'all', 'tail']);
    expect(all.stdout.trimEnd().split('\n')).toHaveLength(10);
  });

  it('-f prints lines as the container writes them and ends once it has exited', async () => {
    await runDetached('follow', `echo first; ${waitIn('follow-go')}; echo second; ${waitIn('follow-end')}; echo last`);
    const f = start(['logs', '-f', 'follow']);
    let ended = false;
    void f.done.then(() => (ended = true));
    await waitFor('the first line', () => f.stdout() === 'first\n', 20_000);
    touch('follow-go');
    await waitFor('the second line', () => f.stdout() === 'first\nsecond\n', 20_000);
    await sleep(300);
    expect(ended).toBe(false); // still following: the container runs
    touch('follow-end');
    const r = await f.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('first\nsecond\nlast\n');
    expect((await ps('follow')).status).toBe('exited');
  });

  it('--since prints only the lines written from that time on, in every time form', async () => {
    await runDetached('since', `echo early; ${waitIn('since-go')}; echo late`);
    await waitFor('the early line', () => fs.readFileSync(path.join(runDir, 'since.log'), 'utf8').includes('early'));
    await sleep(1100);
    const cut = Date.now();
    await sleep(100);
    touch('since-go');
    await waitExited('since');
    expect((await tstop(['logs', '--since', `@${cut / 1000}`, 'since'])).stdout).toBe('late\n');
    expect((await tstop(['logs', '--since', new Date(cut).toISOString(), 'since'])).stdout).toBe('late\n');
    expect((await tstop(['logs', '--since', '10m ago', 'since'])).stdout).toBe('early\nlate\n');
    expect((await tstop(['logs', '--since', 'now', 'since'])).stdout).toBe('');
    // --since and --tail together: the tail of what is after the time.
    expect((await tstop(['logs', '--since', '10m ago', '--tail', '1', 'since'])).stdout).toBe('late\n');
  });

  it('rotation keeps the log within max-size x max-file, and logs (and logs -f, through rotations) read across the files', async () => {
    // About 50 bytes a record: some 20 lines a file, 3 files of the 400 lines kept.
    await runDetached('rotate', 'i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); done', [
      '--log-opt',
      'max-size=1k',
      '--log-opt',
      'max-file=3',
    ]);
    await waitExited('rotate');
    const files = fs
      .readdirSync(runDir)
      .filter((f) => f.startsWith('rotate.log'))
      .sort();
    expect(files).toEqual(['rotate.log', 'rotate.log.1', 'rotate.log.2']);
    const sizes = files.map((f) => fs.statSync(path.join(runDir, f)).size);
    for (const s of sizes) expect(s).toBeLessThanOrEqual(1024);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3 * 1024);
    const lines = (await tstop(['logs', 'rotate'])).stdout.trimEnd().split('\n');
    const numbers = lines.map((l) => Number(/^line-(\d+)$/.exec(l)?.[1]));
    expect(numbers.at(-1)).toBe(399);
    expect(numbers[0]).toBeGreaterThan(300); // the oldest were dropped
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0] + i)); // in order, none missing across the files

    // A slow writer, followed from its start: every line once, in order, across several rotations.
    await runDetached('rotfollow', 'i=0; while [ $i -lt 60 ]; do echo line-$i; i=$((i+1)); sleep 0.05; done', [
      '--log-opt',
      'max-size=1k',
      '--log-opt',
      'max-file=3',
    ]);
    const f = await tstop(['logs', '-f', 'rotfollow']);
    expect(f.code).toBe(0);
    expect(f.stdout).toBe(Array.from({ length: 60 }, (_, i) => `line-${i}\n`).join(''));
    expect(fs.readdirSync(runDir).filter((x) => x.startsWith('rotfollow.log')).length).toBe(3);
  });

  it('--restart on-failure:3 restarts a failing command exactly three times, then stops (3 restarts in ps)', async () => {
    await runDetached('fails', 'echo run; exit 3', ['--restart', 'on-failure:3']);
    const st = await waitExited('fails');
    expect(st.exitCode).toBe(3);
    expect(st.restartCount).toBe(3);
    expect(st.restartPolicy).toBe('on-failure:3');
    expect(await psRow('fails')).toMatch(/Exited \(3\) \d+ seconds? ago, 3 restarts/);
    expect((await tstop(['logs', 'fails'])).stdout).toBe('run\nrun\nrun\nrun\n');
    const report = fs.readFileSync(path.join(runDir, 'fails.report'), 'utf8');
    expect(report.match(/^pid=/gm)).toHaveLength(4);
    expect(report.match(/^restart=/gm)).toHaveLength(3);
  });

  it('--restart always restarts after the workload is killed; tstop stop ends it for good', async () => {
    await runDetached('always', 'echo started; exec sleep 600', ['--restart', 'always']);
    const first = stateOf('always').pid as number;
    process.kill(first, 'SIGKILL'); // the container's PID 1, which this test started
    const reportPids = (): number[] =>
      [...fs.readFileSync(path.join(runDir, 'always.report'), 'utf8').matchAll(/^pid=(\d+)$/gm)].map((m) =>
        Number(m[1]),
      );
    const second = await waitFor('a new PID 1', () => reportPids()[1], 20_000);
    expect(second).not.toBe(first);
    // exec finds the new PID 1 (before any ps has recorded it in the state file).
    const ex = await tstop(['exec', 'always', 'cat', '/proc/1/cmdline']);
    expect(ex.stderr).toBe('');
    expect(ex.stdout).toBe('sleep\x00600\x00');
    const st = await ps('always');
    expect(st.status).toBe('running');
    expect(st.pid).toBe(second);
    expect(st.restartCount).toBe(1);
    expect(await psRow('always')).toMatch(new RegExp(`^always\\s+${second}\\s+Up \\d+ seconds?, 1 restart\\s`));
    await waitAsync(
      'the second start in the log',
      async () => (await tstop(['logs', 'always'])).stdout === 'started\nstarted\n',
    );

    const stop = await tstop(['stop', '-t', '1', 'always']);
    expect(stop.code).toBe(0);
    const done = await waitExited('always', 5_000);
    expect(done.restartCount).toBe(1);
    expect(done.exitCode).toBe(137); // sleep as PID 1 ignores SIGTERM: killed after 1 s
    await sleep(500); // a restart would have come after 100 ms
    expect((await ps('always')).status).toBe('exited');
    expect(fs.readFileSync(path.join(runDir, 'always.report'), 'utf8').match(/^pid=/gm)).toHaveLength(2);
  });

  it('a crash-looping container shows "Restarting" during its backoff, and tstop stop ends the backoff', async () => {
    await runDetached('loop', 'exit 1', ['--restart', 'always']);
    // Backoffs of 100, 200, 400... ms: soon most of the time is spent waiting.
    await waitAsync('Restarting in ps', async () =>
      /Restarting \(1\) \d+ seconds? ago, \d+ restarts?/.test(await psRow('loop')),
    );
    expect((await ps('loop')).restarting).toBe(true);
    const began = Date.now();
    const stop = await tstop(['stop', 'loop']);
    expect(stop.code).toBe(0);
    const st = await waitExited('loop', 10_000);
    expect(Date.now() - began).toBeLessThan(8_000); // not the 10 s timeout: the helper saw the stop flag
    expect(st.exitCode).toBe(1);
    expect(st.restarting).toBe(false);
  });

  it('refuses bad values with specific messages', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [
        ['run', '-d', '--restart', 'bogus', '--', 'true'],
        2,
        /--restart 'bogus': expected no, on-failure\[:MAX-RETRIES\], always or unless-stopped/,
      ],
      [
        ['run', '-d', '--restart', 'always:3', '--', 'true'],
        2,
        /--restart 'always:3': only on-failure takes a maximum retry count/,
      ],
      [['run', '--restart', 'always', '--', 'true'], 2, /--restart always needs -d/],
      [['run', '-d', '--rm', '--restart', 'on-failure', '--', 'true'], 2, /--restart and --rm conflict/],
      [['logs', '--tail', '-1', 'out'], 2, /--tail '-1': expected a number of lines \(0 or more\) or all/],
      [['logs', '--since', 'yesterday', 'out'], 2, /'yesterday' is not a time/],
      [['logs', 'no-such-container'], 1, /no tstop container 'no-such-container'/],
      [['logs'], 2, /give one container/],
    ];
    for (const [args, code, message] of cases) {
      const r = await tstop(args);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(message);
    }
    // A foreground container has no log.
    names.push('fg');
    expect((await tstop(['run', '--name', 'fg', '--rootfs', rootfs.rootfs, '--', 'true'])).code).toBe(0);
    const fg = await tstop(['logs', 'fg']);
    expect(fg.code).toBe(1);
    expect(fg.stderr).toMatch(/container 'fg' was not started with -d/);
    expect(fs.readdirSync(runDir).filter((f) => f.startsWith('bogus'))).toEqual([]);
  });
});
