// Walking the cgroup hierarchies: which are walked, the cgroup id of a
// directory, its inode (a recreated cgroup has another), every directory below one.

import fs from 'node:fs';
import path from 'node:path';
import type { Hierarchy } from './mounts.js';

/** Hierarchies whose controllers tstop reads nothing from are not walked. */
const IGNORED_V1_CONTROLLERS = new Set(['net_cls', 'net_prio', 'perf_event', 'rdma', 'misc']);

export function isWalkedHierarchy(h: Hierarchy): boolean {
  if (h.kind === 'v2' || h.name !== null) return true;
  return h.controllers.some((c) => !IGNORED_V1_CONTROLLERS.has(c));
}

/** The cgroup path for a directory below a mount point ("/" for the mount itself). */
export function cgroupIdOf(mountPoint: string, dir: string): string {
  if (dir === mountPoint) return '/';
  // The walk's and inotify's directories are the mount point joined with clean names: their
  // id is the rest of the string, what path.relative gives without resolving both paths.
  const rest = dir.length > mountPoint.length && dir.startsWith(mountPoint) ? dir.slice(mountPoint.length) : '';
  if (isCleanTail(rest) && !mountPoint.endsWith('/')) return rest;
  const rel = path.relative(mountPoint, dir);
  return rel === '' ? '/' : '/' + rel.split(path.sep).join('/');
}

/** "/a/b": no empty, "." or ".." segment and no trailing slash, so resolving the path leaves it as it is. */
function isCleanTail(rest: string): boolean {
  return (
    rest.length > 1 && rest.charCodeAt(0) === 47 && !rest.endsWith('/') && !rest.includes('//') && !rest.includes('/.')
  );
}

export function inodeOf(dir: string): number {
  try {
    return fs.statSync(dir).ino;
  } catch {
    return 0;
  }
}

/** Calls fn for dir and every directory below it; vanished directories are skipped. */
export function walkDirs(dir: string, fn: (dir: string) => void): void {
  fn(dir);
  forEachChildDir(dir, (child) => walkDirs(child, fn));
}

/**
 * Calls fn for each directory in dir (none if dir is gone). A directory whose
 * link count is 2 has none (kernfs, like tmpfs and ext4, counts 2 + its
 * subdirectories; filesystems that do not count say 1): a cgroup without
 * children is not listed, which at 1,000 cgroups saves the Dirents of some
 * 200,000 files and most of the walk's time (as find's leaf optimization).
 */
export function forEachChildDir(dir: string, fn: (child: string) => void): void {
  let entries: fs.Dirent[];
  try {
    if (fs.statSync(dir).nlink === 2) return;
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // removed while walking: normal
  }
  for (const e of entries) {
    if (e.isDirectory()) fn(path.join(dir, e.name));
  }
}

/** Every cgroup directory of the hierarchies, by cgroup id: its directory in each hierarchy (by index), or null. */
export function cgroupDirsById(hierarchies: readonly Hierarchy[]): Map<string, (string | null)[]> {
  const seen = new Map<string, (string | null)[]>();
  hierarchies.forEach((h, i) => {
    walkDirs(h.mountPoint, (dir) => {
      const id = cgroupIdOf(h.mountPoint, dir);
      let dirs = seen.get(id);
      if (!dirs) seen.set(id, (dirs = new Array<string | null>(hierarchies.length).fill(null)));
      dirs[i] = dir;
    });
  });
  return seen;
}
