// Issue 10, item 5 (the parts closed here): docker's masked paths including
// /proc/interrupts; -u NAME looked up inside the container's root (not
// through its symlinks onto the host, never blocking on a FIFO), for exec
// and run; a detached container's log capped and rotated. The "host" files
// the container's symlinks point at are this run's temp files.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../../src/launcher/spec.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { TSTOP_BIN } from '../helpers/limit.js';
import { ensureHelper, findBusybox, makeBusyboxRootfs } from '../native/harness.js';

const isRoot = process.getuid?.() === 0;
const GUARD = '[ "$$" = 1 ] || { echo "probe: not PID 1 of a container, refusing" >&2; exit 99; }';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe.runIf(isRoot)('tstop run/exec hardening (issue 10, item 5)', () => {
  let cg: TestCgroups;
  let env: NodeJS.ProcessEnv;
  let runDir: string;
  let busybox: string;
  const rootfses: Array<ReturnType<typeof makeBusyboxRootfs>> = [];

  const tstop = (args: string[], timeoutMs = 60_000): Promise<Result> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [TSTOP_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });
  const newRootfs = (): string => {
    const r = makeBusyboxRootfs(busybox);
    rootfses.push(r);
    return r.rootfs;
  };

  beforeAll(() => {
    ensureHelper();
    cg = new TestCgroups('harden');
    runDir = cg.tmp('state');
    env = { ...process.env, TSTOP_RUN_DIR: runDir, TSTOP_RUN_PARENT: `${cg.id()}/tstop` };
    const bb = findBusybox();
    if (!bb) throw new Error('a static busybox is needed: apt-get install busybox-static');
    busybox = bb;
  });

  afterAll(async () => {
    for (const name of ['users', 'logcap']) await tstop(['rm', '-f', name]);
    await cg?.cleanup();
    for (const r of rootfses) r.cleanup();
  });

  it("masks docker's paths, /proc/interrupts included; the lists are docker's", async () => {
    expect(DEFAULT_MASKED_PATHS).toEqual([
      '/proc/asound',
      '/proc/acpi',
      '/proc/interrupts',
      '/proc/kcore',
      '/proc/keys',
      '/proc/latency_stats',
      '/proc/timer_list',
      '/proc/timer_stats',
      '/proc/sched_debug',
      '/proc/scsi',
      '/sys/firmware',
      '/sys/devices/virtual/powercap',
    ]);
    expect(DEFAULT_READONLY_PATHS).toEqual(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
    expect(fs.readFileSync('/proc/interrupts', 'utf8').length).toBeGreaterThan(0);
    const script = `${GUARD}; echo "interrupts=$(cat /proc/interrupts | wc -c)"; echo "keys=$(cat /proc/keys | wc -c)"`;
    for (const where of [['--rootfs', newRootfs()], []]) {
      const r = await tstop(['run', '--rm', ...where, '--', 'sh', '-c', script]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('interrupts=0\n');
      expect(r.stdout).toContain('keys=0\n');
    }
  });

  it("-u NAME reads the container's /etc/passwd inside its root: an absolute symlink does not reach the host's file; a FIFO is refused, not waited on", async () => {
    const rootfs = newRootfs();
    // A "host" passwd only reachable by following the container's symlink out of its root.
    const hostPasswd = cg.tmp('host-passwd');
    fs.writeFileSync(hostPasswd, 'hostonly:x:4242:4242::/:/bin/sh\n');
    const started = await tstop(['run', '-d', '--name', 'users', '--rootfs', rootfs, '--', 'sleep', '300']);
    expect(started.code).toBe(0);

    const plain = await tstop(['exec', '-u', 'nobody', 'users', 'id', '-u']);
    expect(plain.stdout.trim()).toBe('65534');

    fs.rmSync(path.join(rootfs, 'etc', 'passwd'));
    fs.symlinkSync(hostPasswd, path.join(rootfs, 'etc', 'passwd'));
    const viaLink = await tstop(['exec', '-u', 'hostonly', 'users', 'id', '-u']);
    expect(viaLink.stdout).not.toContain('4242');
    expect(viaLink.code).toBe(2);
    expect(viaLink.stderr).toMatch(/no user 'hostonly'/);
    // The same through `run --rootfs -u`.
    const runLink = await tstop(['run', '--rm', '--rootfs', rootfs, '-u', 'hostonly', '--', 'id', '-u']);
    expect(runLink.code).toBe(2);
    expect(runLink.stderr).toMatch(/no user 'hostonly'/);
    // Inside the root the same absolute path is the container's own file: that one is read.
    fs.mkdirSync(path.join(rootfs, path.dirname(hostPasswd)), { recursive: true });
    fs.writeFileSync(path.join(rootfs, hostPasswd), 'inside:x:777:777::/:/bin/sh\n');
    const inside = await tstop(['exec', '-u', 'inside', 'users', 'id', '-u']);
    expect(inside.stdout.trim()).toBe('777');

    fs.rmSync(path.join(rootfs, 'etc', 'passwd'));
    expect(spawnSync('mkfifo', [path.join(rootfs, 'etc', 'passwd')]).status).toBe(0);
    const t0 = Date.now();
    const fifo = await tstop(['exec', '-u', 'nobody', 'users', 'id', '-u'], 30_000);
    expect(Date.now() - t0).toBeLessThan(25_000);
    expect(fifo.code).toBe(125);
    expect(fifo.stderr).toMatch(/\/etc\/passwd inside \/proc\/\d+\/root is not a regular file/);
  });

  it("a detached container's log is capped at --log-opt max-size and rotated to max-file files; rm removes them all", async () => {
    const rootfs = newRootfs();
    const r = await tstop([
      'run',
      '-d',
      '--name',
      'logcap',
      '--log-opt',
      'max-size=4k',
      '--log-opt',
      'max-file=2',
      '--rootfs',
      rootfs,
      '--',
      'sh',
      '-c',
      'i=0; while [ $i -lt 3000 ]; do echo "line-$i"; i=$((i+1)); done',
    ]);
    expect(r.code).toBe(0);
    const log = path.join(runDir, 'logcap.log');
    const lastLineIn = (): boolean => {
      try {
        return fs.readFileSync(log, 'utf8').endsWith('line-2999\n');
      } catch {
        return false; // between a rotation's rename and the new file
      }
    };
    await waitFor('the last line in the log', lastLineIn, 30_000);
    const files = fs
      .readdirSync(runDir)
      .filter((f) => f.startsWith('logcap.log'))
      .sort();
    expect(files).toEqual(['logcap.log', 'logcap.log.1']);
    for (const f of files) expect(fs.statSync(path.join(runDir, f)).size).toBeLessThanOrEqual(4096);
    // Rotated when the next record (41 bytes of time, stream and tag, then "line-NNNN\n") would not fit.
    expect(fs.statSync(path.join(runDir, 'logcap.log.1')).size).toBeGreaterThan(4096 - 51);
    // The rotated file holds the lines just before the current file's; tstop logs reads both.
    const older = fs.readFileSync(path.join(runDir, 'logcap.log.1'), 'utf8');
    const current = fs.readFileSync(log, 'utf8');
    for (const line of `${older}${current}`.trimEnd().split('\n')) {
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F line-\d+$/);
    }
    const logs = await tstop(['logs', 'logcap']);
    expect(logs.stdout).toMatch(/^line-\d+\n(line-\d+\n)+line-2998\nline-2999\n$/);
    await tstop(['ps', '-a']); // records the end
    const rm = await tstop(['rm', '-f', 'logcap']);
    expect(rm.code).toBe(0);
    expect(fs.readdirSync(runDir).filter((f) => f.startsWith('logcap'))).toEqual([]);
  });

  it('refuses a malformed --log-opt (2)', async () => {
    const r = await tstop(['run', '--rm', '--log-opt', 'max-size=lots', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--log-opt 'max-size=lots': tstop knows max-size=SIZE/);
  });
});
