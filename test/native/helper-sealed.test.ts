// Issue 10, escape 1 (the CVE-2019-5736 class): a process in a container
// must never get the helper's binary open for writing. An attacker probe
// (test/native/probes/exe-attacker.c, static, PID 1 of the container) keeps
// /proc/<pid>/exe of everything that enters the container open and tries to
// reopen it for writing after the exec. The container is started by one
// copy of the helper and entered 20 times by a second copy (as with a second
// install of the package), so the second copy's file is not busy once its
// exec child has exec'd: without the sealed memfd re-exec and
// PR_SET_DUMPABLE 0 the attacker overwrites it.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildProbe,
  ensureHelper,
  execSpec,
  findBusybox,
  HELPER,
  isRoot,
  makeBusyboxRootfs,
  readProc,
  runHelper,
  runSpec,
  startHelper,
  waitFor,
  type RunningHelper,
} from './harness.js';

const busybox = isRoot ? findBusybox() : undefined;
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const devIno = (file: string): string => {
  const st = statSync(file);
  return `${st.dev}:${st.ino}`;
};

describe.skipIf(!isRoot || !busybox)('the helper binary is out of reach of containers', () => {
  let fs: ReturnType<typeof makeBusyboxRootfs>;
  let first: string;
  let second: string;
  let container: RunningHelper;

  beforeAll(async () => {
    ensureHelper();
    fs = makeBusyboxRootfs(busybox ?? '');
    buildProbe('exe-attacker', fs.rootfs);
    for (const copy of ['first', 'second']) mkdirSync(join(fs.dir, copy));
    first = join(fs.dir, 'first', 'tstop-helper');
    second = join(fs.dir, 'second', 'tstop-helper');
    for (const f of [first, second]) {
      copyFileSync(HELPER, f);
      chmodSync(f, 0o755);
    }
    container = startHelper(runSpec({ rootfs: fs.rootfs, env: { PATH: '/bin' }, argv: ['/exe-attacker'] }), {
      helperPath: first,
    });
    await container.pid;
    await waitFor(() => (container.stdout().includes('ready') ? true : undefined), 10_000);
  });

  afterAll(async () => {
    container?.child.kill('SIGKILL');
    await container?.done;
    fs?.cleanup();
  });

  it('20 execs by a second copy: never opened for writing, sha256 unchanged', async () => {
    const before = { first: sha256(first), second: sha256(second) };
    for (let i = 0; i < 20; i++) {
      const r = await runHelper(execSpec(await container.pid, { env: { PATH: '/bin' }, argv: ['true'] }), {
        helperPath: second,
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    writeFileSync(join(fs.rootfs, 'stop'), '');
    const done = await container.done;
    expect(done.stdout).toMatch(/done scans=\d+/);
    const writable = done.stdout.split('\n').filter((l) => l.startsWith('writable'));
    const helpers = [devIno(first), devIno(second)];
    expect(writable.filter((l) => helpers.some((h) => l.includes(` ${h} `)))).toEqual([]);
    // Whatever it reached read-only is a sealed memfd, never a helper file.
    const readOnly = done.stdout.split('\n').filter((l) => l.startsWith('ro '));
    expect(readOnly.filter((l) => helpers.some((h) => l.endsWith(` ${h}`)))).toEqual([]);
    expect({ first: sha256(first), second: sha256(second) }).toEqual(before);
  });

  it('runs from a sealed memfd and is not dumpable until the exec', async () => {
    const h = startHelper(runSpec({ rootfs: fs.rootfs, env: { PATH: '/bin' }, init: true, argv: ['sleep', '30'] }));
    try {
      const init = await h.pid; // tstop-init: helper code as the container's PID 1
      expect(readProc(`/proc/${init}/comm`).trim()).toBe('tstop-init');
      expect(readlinkSync(`/proc/${init}/exe`)).toMatch(/^\/memfd:tstop-helper/);
      expect(readlinkSync(`/proc/${h.child.pid}/exe`)).toMatch(/^\/memfd:tstop-helper/);
    } finally {
      h.child.kill('SIGKILL');
      await h.done;
    }
  });
});
