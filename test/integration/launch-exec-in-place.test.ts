// A foreground `tstop run` execs its helper in its own place
// (src/launcher/exec-in-place.ts, native/exec/exec.c) and the helper owns
// the container (native/src/owner.c): the state it writes while the
// workload runs and after it ended, the exit code and signals it passes on,
// the cgroup it removes, --rm, and a launch that failed before the workload
// ran leaving nothing behind.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { TSTOP_BIN } from '../helpers/limit.js';
import { testloadPath } from '../helpers/testload.js';
import { startTstop, type StartedTstop } from '../helpers/tstop-process.js';
import { ensureHelper } from '../native/harness.js';

const isRoot = process.getuid?.() === 0;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const addonBuilt = fs.existsSync(path.resolve(__dirname, '../../native/build/tstop-exec.node'));

describe.runIf(isRoot && addonBuilt)('tstop run becomes its helper', () => {
  let cg: TestCgroups;
  let env: NodeJS.ProcessEnv;
  let runDir: string;
  let parent: string;
  const children = new Set<ChildProcess>();

  const start = (args: string[], stdin: 'ignore' | 'pipe' = 'ignore'): StartedTstop =>
    startTstop(children, args, env, stdin);
  const stateOf = (name: string): Record<string, unknown> =>
    JSON.parse(fs.readFileSync(path.join(runDir, `${name}.json`), 'utf8')) as Record<string, unknown>;
  const cgroupDirs = (name: string): string[] =>
    cg.hierarchies.map((h) => path.join(h.mountPoint, ...parent.split('/').filter(Boolean), name));

  beforeAll(() => {
    ensureHelper();
    cg = new TestCgroups('execself');
    parent = `${cg.id()}/tstop`;
    runDir = cg.tmp('state');
    env = { ...process.env, TSTOP_RUN_DIR: runDir, TSTOP_RUN_PARENT: parent };
    delete env.NODE_EXTRA_CA_CERTS;
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await cg?.cleanup();
  });

  it('one process from tstop to helper; the state says running with the workload pid, then exited with its code', async () => {
    const run = start(['run', '--name', 'ended', '--', 'sh', '-c', 'read x; echo "stdin=[$x]"; sleep 600']);
    const running = await waitFor('the running state', () => {
      try {
        const s = stateOf('ended');
        return s.status === 'running' ? s : null;
      } catch {
        return null;
      }
    });
    const tstopPid = run.child.pid as number;
    expect(running.helper).toEqual(running.owner);
    expect((running.owner as { pid: number }).pid).toBe(tstopPid);
    // The process that was node is the helper now (a sealed memfd copy of it).
    expect(fs.readlinkSync(`/proc/${tstopPid}/exe`)).toMatch(/^\/memfd:tstop-helper/);
    const pid = running.pid as number;
    const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    expect(ppid).toBe(tstopPid); // its child
    // Node's memory went with a holder child (native/exec/exec.c), which the helper reaped: no zombie.
    const childrenOf = (p: number): string => fs.readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
    await waitFor('the holder to be reaped', () => (childrenOf(tstopPid) === String(pid) ? true : null));
    expect(running.pidStart).toBe(Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]));
    expect(running.started).toMatch(ISO);
    expect(running.finished).toBeNull();
    expect(running.exitCode).toBeNull();
    // Everything tstop knew before the exec is kept as it wrote it.
    expect(running.name).toBe('ended');
    expect(running.command).toEqual(['sh', '-c', 'read x; echo "stdin=[$x]"; sleep 600']);
    expect(running.autoRemove).toBe(false);
    expect((running.seccomp as { rules: string[] }).rules.length).toBeGreaterThan(100);
    // The workload has read /dev/null and said so before it is killed (the v2 guest can be slower than the asserts above).
    await waitFor('the workload to print', () => (run.stdout().includes('\n') ? true : null));
    process.kill(pid, 'SIGKILL'); // from the host: PID 1 of the namespace dies of it
    const r = await run.done;
    expect(r.stdout).toBe('stdin=[]\n'); // without -i, /dev/null
    expect(r.code).toBe(137);
    const ended = stateOf('ended');
    expect(ended.status).toBe('exited');
    expect(ended.exitCode).toBe(137);
    expect(ended.error).toBeNull();
    expect(ended.pid).toBe(pid);
    expect(ended.started).toBe(running.started);
    expect(ended.finished).toMatch(ISO);
    expect(Date.parse(ended.finished as string)).toBeGreaterThanOrEqual(Date.parse(ended.started as string));
    expect(typeof ended.oomKills === 'number' || ended.oomKills === null).toBe(true);
    for (const d of cgroupDirs('ended')) expect(fs.existsSync(d)).toBe(false);
    expect(fs.readdirSync(runDir).sort()).toEqual(['ended.json']); // no temporary file, no spec file
    const ps = await new Promise<string>((resolve) => {
      const p = spawn(process.execPath, [TSTOP_BIN, 'ps', '-a'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.on('close', () => resolve(out));
    });
    expect(ps).toMatch(/^ended\s+-\s+Exited \(137\)/m);
    fs.rmSync(path.join(runDir, 'ended.json'));
  });

  it('-i passes stdin; SIGTERM to tstop reaches the workload and its code is the exit code; --rm leaves nothing', async () => {
    const ready = path.join(cg.tmp('scratch'), 'trap');
    fs.mkdirSync(path.dirname(ready), { recursive: true });
    const run = start(
      [
        'run',
        '-i',
        '--rm',
        '--name',
        'termed',
        '--',
        'sh',
        '-c',
        `read x; echo "got $x"; trap "exit 42" TERM; touch ${ready}; while :; do sleep 0.05; done`,
      ],
      'pipe',
    );
    run.child.stdin?.end('hello\n');
    await waitFor('the trap', () => fs.existsSync(ready) || undefined, 20_000);
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.stdout).toBe('got hello\n');
    expect(r.code).toBe(42);
    expect(fs.existsSync(path.join(runDir, 'termed.json'))).toBe(false);
    for (const d of cgroupDirs('termed')) expect(fs.existsSync(d)).toBe(false);
  });

  it('the helper starts from the sealed memfd copy tstop made: no re-exec of its own', async () => {
    const r = await startTstop(children, ['run', '--rm', '--', 'true'], { ...env, TSTOP_HELPER_TRACE: '1' }).done;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^tstop-helper-trace \d+ helper start$/m);
    expect(r.stderr).not.toMatch(/ helper reexec$/m);
  });

  it('a workload killed by a signal: 128+n as the exit code and in the state', async () => {
    // With --init the workload is not PID 1, so its own SIGSEGV kills it.
    const r = await start(['run', '--init', '--name', 'segv', '--', 'sh', '-c', 'kill -SEGV $$']).done;
    expect(r.code).toBe(139);
    expect(stateOf('segv').exitCode).toBe(139);
    fs.rmSync(path.join(runDir, 'segv.json'));
  });

  it('the OOM kills of the cgroup are in the exited state', async () => {
    const r = await start(['run', '--init', '--memory', '64m', '--name', 'oom', '--', testloadPath(), 'alloc', '128'])
      .done;
    expect(r.code).toBe(137);
    expect(stateOf('oom').oomKills).toBeGreaterThan(0);
    for (const d of cgroupDirs('oom')) expect(fs.existsSync(d)).toBe(false);
    fs.rmSync(path.join(runDir, 'oom.json'));
  });

  it('a launch that fails before the workload runs leaves no state, no cgroup, no file', async () => {
    for (const [args, code, message] of [
      [['--', 'no-such-command-x'], 127, /execvp\(no-such-command-x\): No such file or directory/],
      [['-w', '/no/such/dir', '--', 'true'], 125, /chdir\(\/no\/such\/dir\): No such file or directory/],
    ] as const) {
      const r = await start(['run', '--name', 'failed', ...args]).done;
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(fs.readdirSync(runDir).filter((f) => f.startsWith('failed'))).toEqual([]);
      for (const d of cgroupDirs('failed')) expect(fs.existsSync(d)).toBe(false);
    }
  });
});
