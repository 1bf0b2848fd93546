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
  const rel = path.relative(mountPoint, dir);
  return rel === '' ? '/' : '/' + rel.split(path.sep).join('/');
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
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // removed while walking: normal
  }
  for (const e of entries) {
    if (e.isDirectory()) walkDirs(path.join(dir, e.name), fn);
  }
}
