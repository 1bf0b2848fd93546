// The helper's cache of generated seccomp programs (native/src/seccomp-cache.c):
// a second launch with the same records loads the program libseccomp made
// for the first one, with the same effect; other records get their own
// program; a file the helper does not own alone (another owner, writable by
// group or others, behind a symlink) is never loaded.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSeccomp, defaultProfilePath, readProfile } from '../../src/launcher/seccomp.js';
import { capabilityNumber } from '../../src/launcher/spec.js';
import {
  buildProbe,
  probeFields,
  DOCKER_CAPS,
  ensureHelper,
  findBusybox,
  isRoot,
  makeBusyboxRootfs,
  runHelper,
  runSpec,
} from './harness.js';

const busybox = isRoot ? findBusybox() : undefined;
const BB = { PATH: '/bin' };
const TRACE = { env: { TSTOP_HELPER_TRACE: '1' } };
/** One BPF instruction: RET SECCOMP_RET_ALLOW (what a tampered cache would hold). */
const ALLOW_ALL = Buffer.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]);

describe.skipIf(!isRoot || !busybox)('seccomp program cache', () => {
  let rootfs: ReturnType<typeof makeBusyboxRootfs>;
  let tmp: string;
  const profile = (caps: readonly number[] = DOCKER_CAPS) => compileSeccomp(readProfile(defaultProfilePath()), caps);
  const probe = (cache: string, caps: readonly number[] = DOCKER_CAPS) =>
    runHelper(
      runSpec({
        rootfs: rootfs.rootfs,
        env: BB,
        argv: ['/seccomp-probe'],
        capabilities: caps,
        seccomp: profile(caps),
        seccompCache: cache,
      }),
      TRACE,
    );
  const cacheFiles = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.bpf'));
  /** A cache dir holding the default profile's file, rewritten to allow everything. */
  const tampered = async (name: string): Promise<{ dir: string; file: string }> => {
    const dir = path.join(tmp, name);
    await probe(dir);
    const [f] = cacheFiles(dir);
    const file = path.join(dir, f);
    const data = fs.readFileSync(file);
    // "tstop-seccomp-bpf 1\n<key length>\n<key>": the program follows the key.
    const m = /^tstop-seccomp-bpf 1\n(\d+)\n/.exec(data.subarray(0, 64).toString('latin1'));
    if (!m) throw new Error(`${file}: no cache header`);
    const off = m[0].length + Number(m[1]);
    expect(data.length - off).toBeGreaterThan(8);
    fs.writeFileSync(file, Buffer.concat([data.subarray(0, off), ALLOW_ALL]));
    return { dir, file };
  };

  beforeAll(() => {
    ensureHelper();
    rootfs = makeBusyboxRootfs(busybox ?? '');
    buildProbe('seccomp-probe', rootfs.rootfs);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-test-seccomp-cache-'));
  });
  afterAll(() => {
    rootfs?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the second launch loads the cached program, with the same filter', async () => {
    const dir = path.join(tmp, 'same');
    const first = await probe(dir);
    expect(first.stderr).toContain('helper seccomp-built');
    expect(cacheFiles(dir)).toHaveLength(1);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, cacheFiles(dir)[0])).mode & 0o777).toBe(0o600);
    const second = await probe(dir);
    expect(second.stderr).toContain('helper seccomp-cached');
    expect(second.stderr).not.toContain('helper seccomp-built');
    const [a, b] = [probeFields(first.stdout), probeFields(second.stdout)];
    expect(b).toEqual(a);
    expect(b.seccomp).toBe('2');
    for (const call of ['keyctl', 'add_key', 'perf_event_open', 'userfaultfd', 'unshare_user']) {
      expect(b[call], call).toBe('EPERM');
    }
    expect(b.getpid).toBe('ok');
  });

  it('other records get their own program: CAP_SYS_ADMIN allows unshare, the default still denies it', async () => {
    const dir = path.join(tmp, 'two');
    const admin = [...DOCKER_CAPS, capabilityNumber('SYS_ADMIN')];
    await probe(dir);
    expect(probeFields((await probe(dir, admin)).stdout).unshare_user).toBe('ok');
    expect(cacheFiles(dir)).toHaveLength(2);
    const again = await probe(dir);
    expect(again.stderr).toContain('helper seccomp-cached');
    expect(probeFields(again.stdout).unshare_user).toBe('EPERM');
  });

  it('a cache file is trusted only when the helper alone can write it', async () => {
    // Control: root's own 0600 file is loaded as it is (the run dir is root's, 0700).
    const own = await tampered('own');
    expect(probeFields((await probe(own.dir)).stdout).keyctl).toBe('ok');

    const groupWritable = await tampered('group-writable');
    fs.chmodSync(groupWritable.file, 0o620);
    const g = await probe(groupWritable.dir);
    expect(g.stderr).toContain('helper seccomp-built');
    expect(probeFields(g.stdout).keyctl).toBe('EPERM');

    const otherOwner = await tampered('other-owner');
    fs.chownSync(otherOwner.file, 65534, 65534);
    expect(probeFields((await probe(otherOwner.dir)).stdout).keyctl).toBe('EPERM');

    const openDir = await tampered('open-dir');
    fs.chmodSync(openDir.dir, 0o777);
    expect(probeFields((await probe(openDir.dir)).stdout).keyctl).toBe('EPERM');

    // A symlink in place of the file, or of the directory, is not followed.
    const linkFile = await tampered('link-file');
    const real = path.join(tmp, 'elsewhere.bpf');
    fs.renameSync(linkFile.file, real);
    fs.symlinkSync(real, linkFile.file);
    expect(probeFields((await probe(linkFile.dir)).stdout).keyctl).toBe('EPERM');
    const linkDir = path.join(tmp, 'link-dir');
    fs.symlinkSync(own.dir, linkDir);
    const l = await probe(linkDir);
    expect(probeFields(l.stdout).keyctl).toBe('EPERM');
    expect(cacheFiles(own.dir)).toHaveLength(1); // nothing written through the link
  });
});
