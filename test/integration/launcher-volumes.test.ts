// Issue 10, escape 4: volume targets are resolved inside the rootfs. An
// image's symlinks (`data -> /abs/host/dir`, `up -> ../../..`) must not
// make `tstop run -v` create or mount anything outside the rootfs: the
// targets land inside it, where the symlink would point if the rootfs were
// `/`, as docker's do. The "host" directories here are this run's temp dirs.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCgroups } from '../helpers/cgroups.js';
import { runTstop, type RunResult } from '../helpers/limit.js';
import { ensureHelper, findBusybox, makeBusyboxRootfs } from '../native/harness.js';

const isRoot = process.getuid?.() === 0;

describe.runIf(isRoot)('tstop run -v: targets resolved inside the rootfs (issue 10, escape 4)', () => {
  let cg: TestCgroups;
  let env: NodeJS.ProcessEnv;
  let rootfs: ReturnType<typeof makeBusyboxRootfs>;
  let outside: string;
  let srcDir: string;
  let srcFile: string;

  const tstop = (args: string[]): Promise<RunResult> => runTstop(args, env);

  beforeAll(() => {
    ensureHelper();
    cg = new TestCgroups('volumes');
    env = { ...process.env, TSTOP_RUN_DIR: cg.tmp('state'), TSTOP_RUN_PARENT: `${cg.id()}/tstop` };
    const busybox = findBusybox();
    if (!busybox) throw new Error('a static busybox is needed: apt-get install busybox-static');
    rootfs = makeBusyboxRootfs(busybox);
    outside = cg.tmp('host-dir');
    fs.mkdirSync(outside);
    srcDir = cg.tmp('src-dir');
    fs.mkdirSync(srcDir);
    fs.writeFileSync(path.join(srcDir, 'hello'), 'from the volume\n');
    srcFile = cg.tmp('src-file');
    fs.writeFileSync(srcFile, 'a single file\n');
  });

  afterAll(async () => {
    await cg?.cleanup();
    rootfs?.cleanup();
  });

  it('an absolute symlink to a host directory: nothing is created there; the volumes are mounted inside the rootfs', async () => {
    fs.symlinkSync(outside, path.join(rootfs.rootfs, 'data'));
    const r = await tstop([
      'run',
      '--rm',
      '--rootfs',
      rootfs.rootfs,
      '-v',
      `${srcDir}:/data/x`,
      '-v',
      `${srcFile}:/data/y:ro`,
      '--',
      'sh',
      '-c',
      'cat /data/x/hello /data/y; echo x >> /data/y; echo "write=$?"',
    ]);
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(r.stderr).toMatch(/^(sh: can't create \/data\/y: Read-only file system\n)?$/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('from the volume\na single file\nwrite=1\n');
    // Where the symlink points when the rootfs is /: inside it.
    const inside = path.join(rootfs.rootfs, outside);
    expect(fs.readdirSync(inside).sort()).toEqual(['x', 'y']);
  });

  it('a relative symlink climbing above the rootfs stays at its root', async () => {
    // `..` from the rootfs is this run's temp dir (not the host's /: without the fix the test itself would escape there).
    const above = path.dirname(rootfs.rootfs);
    const before = fs.readdirSync(above).sort();
    fs.symlinkSync('..', path.join(rootfs.rootfs, 'up'));
    const r = await tstop([
      'run',
      '--rm',
      '--rootfs',
      rootfs.rootfs,
      '-v',
      `${srcDir}:/up/escaped`,
      '--',
      'sh',
      '-c',
      'cat /escaped/hello',
    ]);
    expect(fs.readdirSync(above).sort()).toEqual(before);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('from the volume\n');
    expect(fs.readdirSync(path.join(rootfs.rootfs, 'escaped'))).toEqual([]); // the mount point, empty again
  });

  it('a file on the way is refused clearly (125), nothing mounted', async () => {
    fs.writeFileSync(path.join(rootfs.rootfs, 'plain'), '');
    const r = await tstop(['run', '--rm', '--rootfs', rootfs.rootfs, '-v', `${srcDir}:/plain/x`, '--', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/mount target plain\/x.*Not a directory/);
  });
});
