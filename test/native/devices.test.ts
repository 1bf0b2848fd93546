// The helper's cgroup v2 device filter (native/src/devices.c), checked on
// this hybrid host through the unified hierarchy, where a BPF_CGROUP_DEVICE
// program applies as on a pure v2 host (the v2 lane runs the same rules
// through `tstop run` in test/integration/launcher-devices.test.ts). The
// cgroup is this file's own, under unified/tstop-test-<pid>; the probe's
// host device is a loop device on a temp file, detached in afterAll.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DEVICE_RULES } from '../../src/launcher/devices.js';
import { ensureHelper, findBusybox, isRoot, makeBusyboxRootfs, runHelper, runSpec, TestCgroups } from './harness.js';

const cg = new TestCgroups();
const busybox = isRoot ? findBusybox() : undefined;
const MARKER = 'BPF-DEVICE-MARKER-51c2';
const GUARD = '[ "$$" = 1 ] || { echo "probe: not PID 1 of a container, refusing" >&2; exit 99; }';

describe.skipIf(!isRoot || !busybox || !cg.available('unified'))('tstop-helper: cgroup v2 device filter', () => {
  let fs: ReturnType<typeof makeBusyboxRootfs>;
  let tmp: string;
  let loop: { device: string; rule: string; mknod: string } | null = null;
  let n = 0;

  beforeAll(() => {
    ensureHelper();
    fs = makeBusyboxRootfs(busybox ?? '');
    tmp = mkdtempSync(join(tmpdir(), 'tstop-bpfdev-'));
    const image = join(tmp, 'marker.img');
    writeFileSync(image, `${MARKER}\n`);
    truncateSync(image, 1024 * 1024);
    const device = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
    const [major, minor] = readFileSync(`/sys/class/block/${basename(device)}/dev`, 'utf8')
      .trim()
      .split(':');
    loop = { device, rule: `b ${major}:${minor}`, mknod: `mknod /tmp/d b ${major} ${minor}` };
  });
  afterAll(async () => {
    if (loop) execFileSync('losetup', ['-d', loop.device]);
    await cg.cleanup();
    fs?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** The probe in a fresh unified cgroup with the filter attached. */
  const probe = async (script: string, allow: readonly string[]) => {
    const dir = cg.create('unified', `dev${n++}`);
    return runHelper(
      runSpec({
        rootfs: fs.rootfs,
        env: { PATH: '/bin' },
        cgroupProcs: [join(dir, 'cgroup.procs')],
        deviceCgroup: dir,
        deviceAllow: allow,
        argv: ['/bin/sh', '-c', `${GUARD}; rm -f /tmp/d; ${script}; rm -f /tmp/d`],
      }),
    );
  };

  it("docker's list: mknod of a host disk works, reading it is EPERM; null, zero, urandom, ptmx work", async () => {
    const r = await probe(
      `${loop!.mknod} && echo mknod=ok; head -c 64 /tmp/d; echo "read=$?"; echo x > /dev/null && echo null=ok; ` +
        'echo "zero=$(head -c 4 /dev/zero | wc -c)"; echo "urandom=$(head -c 8 /dev/urandom | wc -c)"; ' +
        'exec 3<>/dev/ptmx && echo ptmx=ok',
      DEFAULT_DEVICE_RULES,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(MARKER);
    expect(r.stdout).toContain('mknod=ok');
    expect(r.stdout).toContain('read=1');
    expect(r.stderr).toMatch(/\/tmp\/d: Operation not permitted/);
    for (const ok of ['null=ok', 'zero=4', 'urandom=8', 'ptmx=ok']) expect(r.stdout).toContain(ok);
  });

  it('an allow rule for the device opens it; an access not in the rule stays denied', async () => {
    const r = await probe(`${loop!.mknod}; head -c 64 /tmp/d; echo x >> /tmp/d; echo "write=$?"`, [
      ...DEFAULT_DEVICE_RULES,
      `${loop!.rule} r`,
    ]);
    expect(r.stdout).toContain(MARKER);
    expect(r.stdout).toContain('write=1');
  });

  it('without an m rule, mknod itself is EPERM', async () => {
    const r = await probe(`${loop!.mknod}; echo "mknod=$?"`, ['c 1:3 rwm']);
    expect(r.stdout).toContain('mknod=1');
  });

  it('a malformed rule fails the launch (125) before anything runs', async () => {
    const r = await probe('echo ran', ['c 1:3 rwx']);
    expect(r.code).toBe(125);
    expect(r.stdout).not.toContain('ran');
    expect(r.stderr).toContain('device_allow=c 1:3 rwx: the access is made of r, w and m');
  });
});
