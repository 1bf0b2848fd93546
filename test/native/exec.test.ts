// exec mode: enter a running workload's namespaces and root.
import { readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rangeMapping } from '../../src/launcher/spec.js';
import {
  CONTAINER_NS,
  ensureHelper,
  execSpec,
  findBusybox,
  isRoot,
  makeBusyboxRootfs,
  runHelper,
  runSpec,
  startHelper,
  type RunningHelper,
} from './harness.js';

const busybox = isRoot ? findBusybox() : undefined;
const sh = (script: string): string[] => ['/bin/sh', '-c', script];
const BB = { PATH: '/bin' };

describe.skipIf(!isRoot || !busybox)('tstop-helper exec', () => {
  let fs: ReturnType<typeof makeBusyboxRootfs>;
  let plain: RunningHelper;
  let userns: RunningHelper;
  let plainPid = 0;
  let usernsPid = 0;

  beforeAll(async () => {
    ensureHelper();
    fs = makeBusyboxRootfs(busybox ?? '');
    plain = startHelper(runSpec({ rootfs: fs.rootfs, env: BB, hostname: 'exec-box', argv: ['sleep', '60'] }));
    userns = startHelper(
      runSpec({
        rootfs: fs.rootfs,
        env: BB,
        hostname: 'exec-userns',
        namespaces: ['user', ...CONTAINER_NS, 'time'],
        uidMap: [rangeMapping(100000)],
        gidMap: [rangeMapping(100000)],
        init: true,
        argv: ['sleep', '60'],
      }),
    );
    plainPid = await plain.pid;
    usernsPid = await userns.pid;
  });

  afterAll(async () => {
    for (const h of [plain, userns]) h?.child.kill('SIGKILL');
    await Promise.all([plain?.done, userns?.done]);
    fs?.cleanup();
  });

  it('sees the same hostname, pid namespace and mount table', async () => {
    const r = await runHelper(
      execSpec(plainPid, {
        env: BB,
        argv: sh(
          'hostname; readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt; readlink /proc/self/ns/net; cat /etc/marker; echo ---; cat /proc/self/mountinfo; echo ---; ps -o pid,comm',
        ),
      }),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [head, mountinfo, ps] = r.stdout.split('---\n');
    const [hostname, pidNs, mntNs, netNs, marker] = head.trim().split('\n');
    expect(hostname).toBe('exec-box');
    expect(pidNs).toBe(readlinkSync(`/proc/${plainPid}/ns/pid`));
    expect(mntNs).toBe(readlinkSync(`/proc/${plainPid}/ns/mnt`));
    expect(netNs).toBe(readlinkSync(`/proc/${plainPid}/ns/net`));
    expect(marker).toBe('busybox-rootfs');
    expect(mountinfo).toBe(readFileSync(`/proc/${plainPid}/mountinfo`, 'utf8'));
    // PID 1 of the container is the workload; we are another process in it.
    const rows = ps
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/));
    expect(rows[0]).toEqual(['1', 'sleep']);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(Number(rows.at(-1)?.[0])).toBeGreaterThan(1);
  });

  it('applies the capability set and no_new_privs, and relays the exit code', async () => {
    const r = await runHelper(
      execSpec(plainPid, { env: BB, argv: sh('grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; exit 7') }),
    );
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nNoNewPrivs:\t1\n');
    expect(r.events[0]).toMatchObject({ kind: 'pid' });
  });

  it('enters a user namespace: root inside, 100000 outside', async () => {
    const r = await runHelper(
      execSpec(usernsPid, {
        env: BB,
        argv: sh(
          'id -u; hostname; readlink /proc/self/ns/user; readlink /proc/self/ns/time; cat /proc/self/uid_map; ps -o pid,comm | sed -n 2p',
        ),
      }),
    );
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('0');
    expect(lines[1]).toBe('exec-userns');
    expect(lines[2]).toBe(readlinkSync(`/proc/${usernsPid}/ns/user`));
    expect(lines[3]).toBe(readlinkSync(`/proc/${usernsPid}/ns/time`));
    expect(lines[4].trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
    expect(lines[5].trim().split(/\s+/)).toEqual(['1', 'tstop-init']);
  });

  it('runs a command on a pty inside the container', async () => {
    const r = await runHelper(execSpec(plainPid, { env: BB, tty: true, argv: sh('tty; test -t 1 && echo on-tty') }));
    const out = r.stdout.replace(/\r/g, '');
    expect(out).toMatch(/^\/dev\/pts\/\d+$/m);
    expect(out).toMatch(/^on-tty$/m);
  });

  it('reports a missing target as a helper failure', async () => {
    const r = await runHelper(execSpec(999_999_999, { argv: ['true'] }));
    expect(r.code).toBe(125);
    expect(r.stderr).toBe('tstop-helper: open /proc/999999999/ns/user: No such file or directory (ENOENT)\n');
  });
});
