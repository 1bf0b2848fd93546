// Creating and removing cgroups in every hierarchy at once, v1 or v2: used by
// the launcher (its tstop/<name> cgroups), the tests and the benchmark.
// Paths are validated segment by segment; nothing is built by gluing
// strings a user typed onto a mount point.

import fs from 'node:fs';
import path from 'node:path';
import type { CgroupMounts, Hierarchy } from './mounts.js';
import { ExpectedError } from '../util/errors.js';

/** v1 controllers tstop creates cgroups in (others, like net_cls, are left alone). */
const CREATED_V1 = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'blkio', 'freezer', 'devices', 'hugetlb'];
/** v2 controllers delegated to children of the cgroups tstop creates. */
const DELEGATED_V2 = ['cpuset', 'cpu', 'io', 'memory', 'pids', 'hugetlb'];

export class CgroupPathError extends ExpectedError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Splits a cgroup path ("/tstop/web" or "tstop/web") into validated segments. */
export function cgroupSegments(cgroupPath: string): string[] {
  const segments = cgroupPath.split('/').filter((s) => s !== '');
  for (const s of segments) {
    if (s === '.' || s === '..') throw new CgroupPathError(`cgroup path '${cgroupPath}' must not contain '.' or '..'`);
    if (/[\x00-\x1f\x7f]/.test(s))
      throw new CgroupPathError(`cgroup path '${cgroupPath}' contains a control character`);
  }
  return segments;
}

/**
 * The hierarchies tstop creates cgroups in: the v1 ones with its
 * controllers, the named name=systemd one (as Docker's cgroupfs driver
 * does, so a container and what `tstop exec` starts in it are grouped
 * there too, not left in their caller's), and the unified one.
 */
export function creationHierarchies(mounts: CgroupMounts): Hierarchy[] {
  return mounts.hierarchies.filter(
    (h) => h.kind === 'v2' || h.name === 'systemd' || h.controllers.some((c) => CREATED_V1.includes(c)),
  );
}

/** Directory of a cgroup path in one hierarchy. */
export function cgroupDir(h: Hierarchy, cgroupPath: string): string {
  return path.join(h.mountPoint, ...cgroupSegments(cgroupPath));
}

function delegateControllers(dir: string): void {
  const available = fs.readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  const enabled = fs.readFileSync(path.join(dir, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/);
  const enable = DELEGATED_V2.filter((c) => available.includes(c) && !enabled.includes(c)).map((c) => `+${c}`);
  if (enable.length > 0) fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), enable.join(' '));
}

function makeOne(h: Hierarchy, dir: string, delegate: boolean, inner: boolean): void {
  let created = true;
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    created = false;
  }
  // An inner v2 node passes its controllers down (and then may hold no processes).
  if (h.kind === 'v2' && delegate) delegateControllers(dir);
  if (created && h.kind === 'v1' && h.controllers.includes('cpuset')) {
    initCpuset(dir);
    // Its children (containers) get cpus and mems from the kernel at mkdir: writing them costs
    // ~0.8 ms per launch (the write rebuilds the scheduler domains). Only on cpusets made here.
    if (inner) fs.writeFileSync(path.join(dir, 'cgroup.clone_children'), '1');
  }
}

/**
 * A new v1 cpuset is empty (no task can join it) until cpus and mems are set, unless its
 * parent has cgroup.clone_children: then the kernel copied the parent's.
 */
function initCpuset(dir: string): void {
  if (fs.readFileSync(path.join(dir, 'cpuset.cpus'), 'utf8').trim() !== '') return;
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const inherited = fs.readFileSync(path.join(path.dirname(dir), f), 'utf8').trim();
    fs.writeFileSync(path.join(dir, f), inherited || '0');
  }
}

/** mkdir of a cgroup whose parent exists (false when it does not: the caller walks down from the root). */
function makeLeaf(h: Hierarchy, dir: string): boolean {
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code !== 'EEXIST') throw err;
    return true;
  }
  if (h.kind === 'v1' && h.controllers.includes('cpuset')) initCpuset(dir);
  return true;
}

/**
 * Creates a cgroup and its missing ancestors in every creation hierarchy.
 * Ancestors created here delegate controllers on v2; the leaf does too when
 * `inner` is set (it will hold child cgroups, not processes). Controllers
 * are delegated only on a pure v2 host: on a hybrid host they live on v1.
 * Returns the leaf's directory in each hierarchy.
 */
export function ensureCgroup(mounts: CgroupMounts, cgroupPath: string, options: { inner?: boolean } = {}): string[] {
  const segments = cgroupSegments(cgroupPath);
  if (segments.length === 0) throw new CgroupPathError('refusing to create the root cgroup');
  const pureV2 = mounts.mode === 'v2';
  return creationHierarchies(mounts).map((h) => {
    // No delegation to do on the way (v1, or v2 on a hybrid host): the leaf first, since its ancestors
    // usually exist (each EEXIST is a thrown error: 20 of them cost ~1 ms per `tstop run`).
    if (!pureV2 && makeLeaf(h, path.join(h.mountPoint, ...segments))) return path.join(h.mountPoint, ...segments);
    let dir = h.mountPoint;
    segments.forEach((s, i) => {
      dir = path.join(dir, s);
      const isLeaf = i === segments.length - 1;
      const inner = !isLeaf || options.inner === true;
      makeOne(h, dir, pureV2 && inner, inner);
    });
    return dir;
  });
}

/** Directories below dir, deepest first, dir last. */
export function dirsDeepestFirst(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) visit(path.join(d, e.name));
    out.push(d);
  };
  visit(dir);
  return out;
}

/** Removes a cgroup and its descendants from every hierarchy (they must hold no processes). */
export function removeCgroup(mounts: CgroupMounts, cgroupPath: string): void {
  if (cgroupSegments(cgroupPath).length === 0) throw new CgroupPathError('refusing to remove the root cgroup');
  for (const h of creationHierarchies(mounts)) {
    for (const d of dirsDeepestFirst(cgroupDir(h, cgroupPath))) {
      try {
        fs.rmdirSync(d);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
}
