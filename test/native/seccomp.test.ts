// Issue 10, escape 3: the default seccomp profile (profiles/seccomp-default.json,
// compiled by src/launcher/seccomp.ts, loaded by native/src/seccomp.c) as
// seen by a static probe that is the container's PID 1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSeccomp, defaultProfilePath, readProfile } from '../../src/launcher/seccomp.js';
import { capabilityNumber } from '../../src/launcher/spec.js';
import {
  buildProbe,
  probeFields,
  DOCKER_CAPS,
  ensureHelper,
  execSpec,
  findBusybox,
  isRoot,
  makeBusyboxRootfs,
  runHelper,
  runSpec,
  startHelper,
} from './harness.js';

const busybox = isRoot ? findBusybox() : undefined;
const BB = { PATH: '/bin' };
const DENIED = ['keyctl', 'add_key', 'perf_event_open', 'io_uring_setup', 'userfaultfd', 'unshare_user'];

describe.skipIf(!isRoot || !busybox)('seccomp in the helper', () => {
  let fs: ReturnType<typeof makeBusyboxRootfs>;
  const profile = (caps: readonly number[] = DOCKER_CAPS) => compileSeccomp(readProfile(defaultProfilePath()), caps);

  beforeAll(() => {
    ensureHelper();
    fs = makeBusyboxRootfs(busybox ?? '');
    buildProbe('seccomp-probe', fs.rootfs);
  });
  afterAll(() => fs?.cleanup());

  it('the default profile: Seccomp 2, and the escape calls fail with EPERM', async () => {
    const r = await runHelper(runSpec({ rootfs: fs.rootfs, env: BB, argv: ['/seccomp-probe'], seccomp: profile() }));
    expect(r.stderr).toBe('');
    const f = probeFields(r.stdout);
    expect(f.seccomp).toBe('2');
    for (const call of DENIED) expect(f[call], call).toBe('EPERM');
    expect(f.personality_addr_no_randomize).toBe('EPERM');
    expect(f.personality_query).toBe('ok');
    expect(f.getpid).toBe('ok');
  });

  it('without a profile nothing is filtered (what unconfined sends)', async () => {
    const r = await runHelper(runSpec({ rootfs: fs.rootfs, env: BB, argv: ['/seccomp-probe'] }));
    const f = probeFields(r.stdout);
    expect(f.seccomp).toBe('0');
    for (const call of ['keyctl', 'userfaultfd', 'unshare_user', 'personality_addr_no_randomize']) {
      expect(f[call], call).toBe('ok');
    }
  });

  it('CAP_SYS_ADMIN in the set lets the profile allow unshare (its includes.caps rule)', async () => {
    const caps = [...DOCKER_CAPS, capabilityNumber('SYS_ADMIN')];
    const r = await runHelper(
      runSpec({ rootfs: fs.rootfs, env: BB, argv: ['/seccomp-probe'], capabilities: caps, seccomp: profile(caps) }),
    );
    const f = probeFields(r.stdout);
    expect(f.unshare_user).toBe('ok');
    expect(f.keyctl).toBe('EPERM');
  });

  it('ordinary workloads run: a shell pipeline with fork, threads-free busybox tools, a pty', async () => {
    const r = await runHelper(
      runSpec({
        rootfs: fs.rootfs,
        env: BB,
        seccomp: profile(),
        init: true,
        argv: ['/bin/sh', '-c', 'echo a b c | wc -w; ls / | grep -c seccomp-probe; sleep 0.1 & wait; id -u'],
      }),
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('3\n1\n0\n');
    expect(r.code).toBe(0);
  });

  it('exec enters with the same filter', async () => {
    const h = startHelper(runSpec({ rootfs: fs.rootfs, env: BB, seccomp: profile(), argv: ['sleep', '30'] }));
    try {
      const pid = await h.pid;
      const r = await runHelper(execSpec(pid, { env: BB, argv: ['/seccomp-probe'], seccomp: profile() }));
      // Not PID 1: the probe refuses, but the filter is already there at exec time.
      expect(r.stderr).toContain('refusing');
      const s = await runHelper(
        execSpec(pid, { env: BB, argv: ['grep', 'Seccomp:', '/proc/self/status'], seccomp: profile() }),
      );
      expect(s.stdout).toMatch(/Seccomp:\s+2/);
    } finally {
      h.child.kill('SIGKILL');
      await h.done;
    }
  });

  it('a rule the helper cannot build fails the launch (125) before anything runs', async () => {
    const bad = { defaultAction: 'errno:1', arches: ['x86_64'], rules: ['getpid allow 9:eq:0:0'] };
    const r = await runHelper(runSpec({ rootfs: fs.rootfs, env: BB, argv: ['/seccomp-probe'], seccomp: bad }));
    expect(r.code).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/seccomp_rule=getpid allow 9:eq:0:0: bad argument/);
    const arch = { defaultAction: 'errno:1', arches: ['vax'], rules: [] };
    const a = await runHelper(runSpec({ rootfs: fs.rootfs, env: BB, argv: ['/seccomp-probe'], seccomp: arch }));
    expect(a.code).toBe(125);
    expect(a.stderr).toMatch(/seccomp_arch=vax: unknown to libseccomp/);
  });
});
