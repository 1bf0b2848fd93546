// Exit status relay, helper failure codes, signal forwarding and the
// minimal init (zombie reaping).
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitOrigin } from '../../src/launcher/helper.js';
import { childStates, ensureHelper, isRoot, runHelper, runSpec, sleep, startHelper, waitFor } from './harness.js';

const sh = (script: string): string[] => ['/bin/sh', '-c', script];

describe.skipIf(!isRoot)('tstop-helper: exit codes', () => {
  let dir = '';
  beforeAll(() => {
    ensureHelper();
    dir = mkdtempSync(join(tmpdir(), 'tstop-exit-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([false, true])('propagates exit 3 (init=%s)', async (init) => {
    const r = await runHelper(runSpec({ init, argv: sh('exit 3') }));
    expect(r.code).toBe(3);
    expect(r.events.at(-1)).toEqual({ kind: 'exit', code: 3 });
    expect(exitOrigin(3, r.events)).toBe('workload');
  });

  it('reports 137 when the workload is killed by SIGKILL from the host', async () => {
    const h = startHelper(runSpec({ argv: ['sleep', '30'] }));
    process.kill(await h.pid, 'SIGKILL');
    const r = await h.done;
    expect(r.code).toBe(137);
  });

  it('reports 137 when the workload kills itself under --init', async () => {
    const r = await runHelper(runSpec({ init: true, argv: sh('kill -9 $$') }));
    expect(r.code).toBe(137);
  });

  it('exits 127 with the step and errno for a missing command', async () => {
    const r = await runHelper(runSpec({ argv: ['no-such-command-tstop'] }));
    expect(r.code).toBe(127);
    expect(r.stderr).toBe('tstop-helper: execvp(no-such-command-tstop): No such file or directory (ENOENT)\n');
    expect(exitOrigin(127, r.events)).toBe('helper');
  });

  it('exits 126 for a file that cannot be executed', async () => {
    const f = join(dir, 'not-executable');
    writeFileSync(f, 'data');
    chmodSync(f, 0o644);
    const r = await runHelper(runSpec({ argv: [f] }));
    expect(r.code).toBe(126);
    expect(r.stderr).toBe(`tstop-helper: execve(${f}): Permission denied (EACCES)\n`);
  });

  it('runs #!-less scripts through /bin/sh like execvp', async () => {
    const f = join(dir, 'script');
    writeFileSync(f, 'echo "args: $*"\nexit 5\n');
    chmodSync(f, 0o755);
    const r = await runHelper(runSpec({ argv: [f, 'a', 'b'] }));
    expect(r.stdout).toBe('args: a b\n');
    expect(r.code).toBe(5);
  });

  it('reports 127 from the init too, and 125 for a bad spec', async () => {
    const r = await runHelper(runSpec({ init: true, argv: ['no-such-command-tstop'] }));
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/execvp\(no-such-command-tstop\): No such file or directory \(ENOENT\)/);
    const bad = await runHelper(runSpec({ cwd: '/nonexistent-dir', argv: ['true'] }));
    expect(bad.code).toBe(125);
    expect(bad.stderr).toBe('tstop-helper: chdir(/nonexistent-dir): No such file or directory (ENOENT)\n');
  });

  it('looks the command up on the PATH given in the spec env', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'tstop-only-here'), '#!/bin/sh\necho found-on-spec-path\n');
    chmodSync(join(bin, 'tstop-only-here'), 0o755);
    const r = await runHelper(runSpec({ env: { PATH: `/nonexistent:${bin}` }, argv: ['tstop-only-here'] }));
    expect(r.stdout).toBe('found-on-spec-path\n');
  });
});

describe.skipIf(!isRoot)('tstop-helper: signals and --init', () => {
  it('forwards SIGTERM from the helper through the init to the workload', async () => {
    const h = startHelper(runSpec({ init: true, argv: ['sleep', '30'] }));
    await h.pid;
    h.child.kill('SIGTERM');
    const r = await h.done;
    expect(r.code).toBe(128 + 15);
  });

  it('lets the workload handle the forwarded SIGTERM', async () => {
    const h = startHelper(
      runSpec({ init: true, argv: sh('trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.05; done') }),
    );
    await h.pid;
    await waitFor(() => (h.stdout().includes('ready') ? true : undefined));
    h.child.kill('SIGTERM');
    const r = await h.done;
    expect(r.stdout).toContain('got-term');
    expect(r.code).toBe(42);
  });

  it('forwards SIGTERM sent to the init directly (docker stop style)', async () => {
    const h = startHelper(runSpec({ init: true, argv: ['sleep', '30'] }));
    process.kill(await h.pid, 'SIGTERM');
    expect((await h.done).code).toBe(143);
  });

  it('forwards SIGINT/SIGHUP from the helper to a workload without init', async () => {
    // A plain PID 1 ignores signals it has no handler for, so use a trap.
    const h = startHelper(runSpec({ argv: sh('trap "exit 11" HUP; echo ready; while :; do sleep 0.05; done') }));
    await h.pid;
    await waitFor(() => (h.stdout().includes('ready') ? true : undefined));
    h.child.kill('SIGHUP');
    expect((await h.done).code).toBe(11);
  });

  it('reaps orphaned zombies (and a plain PID 1 does not)', async () => {
    // The inner sh exits at once, orphaning `sleep 0.1`, which is reparented
    // to PID 1 and becomes a zombie when it exits unless PID 1 reaps it.
    const argv = sh('sh -c "sleep 0.1 &"; exec sleep 30');
    const withInit = startHelper(runSpec({ init: true, argv }));
    const without = startHelper(runSpec({ argv }));
    try {
      const initPid = await withInit.pid;
      const plainPid = await without.pid;
      await sleep(600);
      // Under --init: PID 1 (the init) has just the workload, sleeping.
      const initKids = childStates(initPid);
      expect(initKids).toHaveLength(1);
      expect(initKids[0].state).toBe('S');
      // Without: the orphan is a zombie child of the workload PID 1.
      const zombies = await waitFor(() => {
        const z = childStates(plainPid).filter((c) => c.state === 'Z');
        return z.length ? z : undefined;
      });
      expect(zombies).toHaveLength(1);
    } finally {
      withInit.child.kill('SIGTERM');
      process.kill(await without.pid, 'SIGKILL');
    }
    expect((await withInit.done).code).toBe(143);
    expect((await without.done).code).toBe(137);
  });

  it('kills the container when the helper itself is killed', async () => {
    const h = startHelper(runSpec({ argv: ['sleep', '30'] }));
    const pid = await h.pid;
    h.child.kill('SIGKILL');
    await h.done;
    // PDEATHSIG: dead (possibly still a zombie awaiting the host's reaper).
    await waitFor(() => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z') ? true : undefined;
      } catch {
        return true;
      }
    });
  });
});
