// Issue 10, escape 2: host devices from inside a `tstop run` container. The
// container's root may mknod any node (docker's `c *:* m`, `b *:* m`) but
// may open only docker's default list plus what --device and
// --device-cgroup-rule allow: v1 through the container's devices cgroup
// (this host), v2 through the helper's BPF_CGROUP_DEVICE program (the lane).
// The host device is a loop device on a file in this run's temp dir,
// holding a marker; it is detached in afterAll.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCgroups } from '../helpers/cgroups.js';
import { runTstop, type RunResult } from '../helpers/limit.js';
import { ensureHelper, findBusybox, makeBusyboxRootfs } from '../native/harness.js';

const isRoot = process.getuid?.() === 0;
const MARKER = 'TSTOP-DEVICE-MARKER-7f3a';

/** The probe refuses to run anywhere but as PID 1 of a container (a shell whose $$ is 1). */
const PROBE_GUARD = '[ "$$" = 1 ] || { echo "probe: not PID 1 of a container, refusing" >&2; exit 99; }';

describe.runIf(isRoot)('tstop run: host devices (issue 10, escape 2)', () => {
  let cg: TestCgroups;
  let env: NodeJS.ProcessEnv;
  let rootfs: ReturnType<typeof makeBusyboxRootfs>;
  let loop: { device: string; major: number; minor: number } | null = null;

  const tstop = (args: string[]): Promise<RunResult> => runTstop(args, env);
  /** `tstop run --rm --rootfs` of a guarded probe script. */
  const probe = (script: string, flags: string[] = []): Promise<RunResult> =>
    tstop(['run', '--rm', '--rootfs', rootfs.rootfs, ...flags, '--', 'sh', '-c', `${PROBE_GUARD}; ${script}`]);

  beforeAll(() => {
    ensureHelper();
    cg = new TestCgroups('devices');
    env = { ...process.env, TSTOP_RUN_DIR: cg.tmp('state'), TSTOP_RUN_PARENT: `${cg.id()}/tstop` };
    const busybox = findBusybox();
    if (!busybox) throw new Error('a static busybox is needed: apt-get install busybox-static');
    rootfs = makeBusyboxRootfs(busybox);
    const image = cg.tmp('marker.img');
    fs.writeFileSync(image, `${MARKER}\n`);
    fs.truncateSync(image, 1024 * 1024);
    const device = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
    const [major, minor] = fs
      .readFileSync(`/sys/class/block/${path.basename(device)}/dev`, 'utf8')
      .trim()
      .split(':')
      .map(Number);
    loop = { device, major, minor };
  });

  afterAll(async () => {
    if (loop) execFileSync('losetup', ['-d', loop.device]);
    await cg?.cleanup();
    rootfs?.cleanup();
  });

  it('mknod of a host block device succeeds, but opening it is EPERM; null, zero, urandom and ptmx still work', async () => {
    const { major, minor } = loop!;
    const r = await probe(
      [
        // In /dev (tstop's tmpfs, not nodev): on the v2 lane's guest /tmp is nodev, which
        // would refuse the open whatever the device rules say.
        `mknod /dev/host-disk b ${major} ${minor} && echo mknod=ok`,
        'head -c 64 /dev/host-disk; echo "read=$?"',
        'echo x >> /dev/host-disk; echo "write=$?"',
        'rm -f /dev/host-disk',
        'echo x > /dev/null && echo null=ok',
        'echo "zero=$(head -c 4 /dev/zero | wc -c)"',
        'echo "urandom=$(head -c 8 /dev/urandom | wc -c)"',
        'exec 3<>/dev/ptmx && echo ptmx=ok',
      ].join('; '),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(MARKER);
    expect(r.stdout).toContain('mknod=ok');
    expect(r.stdout).toContain('read=1');
    expect(r.stdout).toContain('write=1');
    // Both v1's devices controller and v2's BPF device filter refuse with EPERM.
    expect(r.stderr).toMatch(/host-disk: Operation not permitted/);
    expect(r.stdout).toContain('null=ok');
    expect(r.stdout).toContain('zero=4');
    expect(r.stdout).toContain('urandom=8');
    expect(r.stdout).toContain('ptmx=ok');
  });

  it('-t: the workload gets a pty from its own devpts and can write to it', async () => {
    const r = await probe('tty; echo pty-write > "$(tty)" && echo pty=ok', ['-t']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(r.stdout).toContain('pty=ok');
  });

  it('--device HOST:CONTAINER grants that device (node created in /dev), read-only with :r', async () => {
    const r = await probe('head -c 64 /dev/xvdc; echo; ls -l /dev/xvdc', ['--device', `${loop!.device}:/dev/xvdc`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(MARKER);
    expect(r.stdout).toMatch(new RegExp(`^b.* ${loop!.major}, +${loop!.minor} .*/dev/xvdc$`, 'm'));

    const ro = await probe('head -c 64 /dev/xvdc; echo; echo x >> /dev/xvdc; echo "write=$?"', [
      '--device',
      `${loop!.device}:/dev/xvdc:r`,
    ]);
    expect(ro.stdout).toContain(MARKER);
    expect(ro.stdout).toContain('write=1');
  });

  // The node is made in the container's /dev (tstop's own tmpfs): the v2 lane's guest mounts /tmp,
  // where the test rootfs lives, nodev, so a node there cannot be opened whatever the rules say.
  it("--device-cgroup-rule allows by major:minor, as docker's", async () => {
    const { major, minor } = loop!;
    const r = await probe(`mknod /dev/granted b ${major} ${minor}; head -c 64 /dev/granted; rm -f /dev/granted`, [
      '--device-cgroup-rule',
      `b ${major}:${minor} rm`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(MARKER);
  });

  it('refuses malformed rules and devices clearly, before anything exists', async () => {
    const bad = await tstop([
      'run',
      '--rm',
      '--rootfs',
      rootfs.rootfs,
      '--device-cgroup-rule',
      'x 1:3 rwm',
      '--',
      'true',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--device-cgroup-rule 'x 1:3 rwm': expected TYPE MAJOR:MINOR ACCESS/);
    const outsideDev = await tstop(['run', '--rm', '--rootfs', rootfs.rootfs, '--device', '/etc/passwd', '--', 'true']);
    expect(outsideDev.code).toBe(2);
    expect(outsideDev.stderr).toMatch(/the container path must be under \/dev\//);
    const file = cg.tmp('not-a-device');
    fs.writeFileSync(file, '');
    const notDev = await tstop(['run', '--rm', '--rootfs', rootfs.rootfs, '--device', `${file}:/dev/x`, '--', 'true']);
    expect(notDev.code).toBe(125);
    expect(notDev.stderr).toContain(`--device ${file}: not a block or character device`);
    expect(fs.readdirSync(env.TSTOP_RUN_DIR as string)).toEqual([]);
  });
});
