// The walk of a cgroup hierarchy (src/cgroupfs/walk.ts): every directory,
// found without listing the cgroups that have no children (their link count
// says so), and cgroup ids read off the path without resolving it.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cgroupIdOf, walkDirs } from '../../src/cgroupfs/walk.js';
import { TestCgroups } from '../helpers/cgroups.js';

/** Every directory at and below dir, by listing every one of them (the walk's reference). */
function everyDir(dir: string): string[] {
  const out = [dir];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...everyDir(path.join(dir, e.name)));
  }
  return out;
}

/** The walk's directories, and the ones it listed. */
function walked(dir: string): { dirs: string[]; listed: string[] } {
  const listed: string[] = [];
  const real = fs.readdirSync.bind(fs);
  const spy = vi.spyOn(fs, 'readdirSync').mockImplementation(((p: fs.PathLike, o?: unknown) => {
    listed.push(String(p));
    return real(p, o as { withFileTypes: true });
  }) as typeof fs.readdirSync);
  const dirs: string[] = [];
  try {
    walkDirs(dir, (d) => dirs.push(d));
  } finally {
    spy.mockRestore();
  }
  return { dirs, listed };
}

describe('cgroup walk', () => {
  let cg: TestCgroups;

  beforeAll(() => {
    cg = new TestCgroups('walk');
    for (const rel of ['a/b/c', 'a/b/d', 'a/e', 'f', '.dot/g']) cg.mkdir(rel);
  });
  afterAll(async () => {
    await cg?.cleanup();
  });

  it('finds every directory of every hierarchy, listing only the cgroups with children', () => {
    for (const h of cg.hierarchies) {
      const top = cg.dir(h);
      const { dirs, listed } = walked(top);
      expect(dirs.sort(), h.mountPoint).toEqual(everyDir(top).sort());
      const rels = ['', 'a', 'a/b', '.dot'];
      expect(listed.sort(), h.mountPoint).toEqual(rels.map((r) => cg.dir(h, r)).sort());
    }
  });

  it('finds every directory of a plain directory tree too', () => {
    const top = cg.tmp('tree');
    for (const rel of ['x/y/z', 'x/w', 'v']) fs.mkdirSync(path.join(top, rel), { recursive: true });
    fs.writeFileSync(path.join(top, 'x', 'file'), '');
    fs.symlinkSync(path.join(top, 'x'), path.join(top, 'link')); // not followed, as before
    expect(walked(top).dirs.sort()).toEqual(everyDir(top).sort());
  });

  it('gives the id path.relative gives, for clean and unclean paths alike', () => {
    const byRelative = (mountPoint: string, dir: string): string => {
      const rel = path.relative(mountPoint, dir);
      return rel === '' ? '/' : '/' + rel.split(path.sep).join('/');
    };
    const cases: [string, string][] = [
      ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/memory'],
      ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/memory/a'],
      ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/memory/a/b.scope/c'],
      ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/memory/.hidden/x'],
      ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/memory/a/'],
      ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/memory//a'],
      ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/memory/a/../b'],
      ['/sys/fs/cgroup/memory/', '/sys/fs/cgroup/memory/a'],
      ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/memoryx/a'],
      ['/tmp/r/../r/sys/fs/cgroup/pids', '/tmp/r/../r/sys/fs/cgroup/pids/a/b'],
      ['/', '/a/b'],
    ];
    for (const [mountPoint, dir] of cases) expect(cgroupIdOf(mountPoint, dir), dir).toBe(byRelative(mountPoint, dir));
  });
});
