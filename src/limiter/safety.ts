// Where a limit write may land, and on what. Every target file is:
// - one of the known limit files of its hierarchy's kind (v1 or v2);
// - below a cgroup mount from mountinfo, never the mount itself (the root cgroup);
// - reached without following a symlink: each component is lstat'ed from the
//   mount point down (a directory, then a regular file), on the mount's own
//   device, and opened with O_NOFOLLOW; the open descriptor is fstat'ed again
//   (same device and inode) so a swap between check and open is caught;
// - on a filesystem whose statfs type is cgroup (v1) or cgroup2.
// And the cgroup is a container (see isContainerCgroup) unless --allow-system.

import fs from 'node:fs';
import path from 'node:path';
import { cgroupSegments, CgroupPathError } from '../cgroupfs/create.js';
import type { CgroupMounts, Hierarchy } from '../cgroupfs/mounts.js';
import { classifyCgroupPath } from '../discovery/classify.js';
import { LimitError } from './api.js';
import { quote } from './units.js';

export const CGROUP_SUPER_MAGIC = 0x27e0eb;
export const CGROUP2_SUPER_MAGIC = 0x63677270;

/** The files tstop may write, per hierarchy kind. Nothing else is ever opened for writing. */
export const KNOWN_LIMIT_FILES: Record<'v1' | 'v2', ReadonlySet<string>> = {
  v1: new Set([
    'memory.limit_in_bytes',
    'memory.soft_limit_in_bytes',
    'memory.memsw.limit_in_bytes',
    'cpu.cfs_quota_us',
    'cpu.cfs_period_us',
    'cpu.shares',
    'cpuset.cpus',
    'cpuset.mems',
    'pids.max',
    'blkio.weight',
    'blkio.bfq.weight',
    'blkio.throttle.read_bps_device',
    'blkio.throttle.write_bps_device',
    'blkio.throttle.read_iops_device',
    'blkio.throttle.write_iops_device',
    'devices.allow',
    'devices.deny',
    'freezer.state',
  ]),
  v2: new Set([
    'memory.max',
    'memory.low',
    'memory.high',
    'memory.swap.max',
    'cpu.max',
    'cpu.weight',
    'cpuset.cpus',
    'cpuset.mems',
    'pids.max',
    'io.weight',
    'io.bfq.weight',
    'io.max',
    'cgroup.freeze',
    'cgroup.kill',
  ]),
};

export function refused(message: string): LimitError {
  return new LimitError(message, 2, 'refused');
}

export interface LimitTarget {
  path: string;
  hierarchy: Hierarchy;
  /** The cgroup's path inside the hierarchy ("/docker/abc"). */
  cgroupId: string;
  file: string;
}

/** The mount a path lies under (the longest matching mount point). */
function hierarchyOfPath(mounts: CgroupMounts, file: string): Hierarchy | null {
  let best: Hierarchy | null = null;
  for (const h of mounts.hierarchies) {
    const rel = path.relative(h.mountPoint, file);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    if (!best || h.mountPoint.length > best.mountPoint.length) best = h;
  }
  return best;
}

/**
 * Lexical checks of a target file: under a cgroup mount, not in the root
 * cgroup, no '.', '..' or control characters, a known limit file of that
 * hierarchy's kind. Throws LimitError (refused).
 */
export function checkTargetPath(mounts: CgroupMounts, file: string): LimitTarget {
  if (!path.isAbsolute(file) || path.normalize(file) !== file) {
    throw refused(`refusing to write ${quote(file)}: not a normalized absolute path`);
  }
  const h = hierarchyOfPath(mounts, file);
  if (!h) throw refused(`refusing to write ${quote(file)}: it is not inside a cgroup mount`);
  const rel = path.relative(h.mountPoint, file).split(path.sep);
  const name = rel.pop() ?? '';
  let segments: string[];
  try {
    segments = cgroupSegments(rel.join('/'));
  } catch (err) {
    throw refused(`refusing to write ${quote(file)}: ${(err as CgroupPathError).message}`);
  }
  if (segments.length === 0) {
    throw refused(`refusing to write ${quote(file)}: it belongs to the root cgroup, which is the whole machine`);
  }
  if (!KNOWN_LIMIT_FILES[h.kind].has(name)) {
    throw refused(`refusing to write ${quote(file)}: ${quote(name)} is not a cgroup ${h.kind} limit file tstop knows`);
  }
  return { path: file, hierarchy: h, cgroupId: '/' + segments.join('/'), file: name };
}

/** major:minor of a stat's st_dev (glibc's encoding). */
export function devString(dev: number | bigint): string {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

const mountChecks = new Map<string, number>();

/** The mount point is the cgroup filesystem mountinfo names (device and statfs type); returns its st_dev. */
export function verifyMount(h: Hierarchy): number {
  const cached = mountChecks.get(h.mountPoint);
  if (cached !== undefined) return cached;
  let st: fs.Stats;
  let type: number;
  try {
    st = fs.lstatSync(h.mountPoint);
    type = fs.statfsSync(h.mountPoint).type;
  } catch (err) {
    throw refused(`refusing to write below ${h.mountPoint}: cannot check the mount (${errnoWords(err)})`);
  }
  if (!st.isDirectory()) throw refused(`refusing to write below ${h.mountPoint}: the mount point is not a directory`);
  const want = h.kind === 'v2' ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC;
  if (type !== want) {
    throw refused(
      `refusing to write below ${h.mountPoint}: its filesystem type is 0x${type.toString(16)}, not cgroup${h.kind === 'v2' ? '2' : ''}`,
    );
  }
  if (devString(st.dev) !== h.device) {
    throw refused(
      `refusing to write below ${h.mountPoint}: device ${devString(st.dev)} is not the cgroup mount ${h.device}`,
    );
  }
  mountChecks.set(h.mountPoint, st.dev);
  return st.dev;
}

/**
 * The physical checks: every component from the mount down lstat'ed (no
 * symlinks, directories then a regular file) on the mount's device.
 * Returns the file's lstat.
 */
export function verifyTarget(target: LimitTarget): fs.Stats {
  const dev = verifyMount(target.hierarchy);
  const rel = path.relative(target.hierarchy.mountPoint, target.path).split(path.sep);
  let p = target.hierarchy.mountPoint;
  let st: fs.Stats | null = null;
  for (let i = 0; i < rel.length; i++) {
    p = path.join(p, rel[i]);
    try {
      st = fs.lstatSync(p);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' && i === rel.length - 1) {
        throw refused(`cannot write ${target.path}: the file does not exist (controller not enabled for this cgroup?)`);
      }
      if (code === 'ENOENT')
        throw new LimitError(
          `cgroup ${target.cgroupId} does not exist in ${target.hierarchy.mountPoint}`,
          2,
          'not-found',
        );
      throw refused(`cannot check ${p}: ${errnoWords(err)}`);
    }
    if (st.isSymbolicLink()) throw refused(`refusing to write ${target.path}: ${p} is a symbolic link`);
    const last = i === rel.length - 1;
    if (last ? !st.isFile() : !st.isDirectory()) {
      throw refused(`refusing to write ${target.path}: ${p} is not a ${last ? 'regular file' : 'directory'}`);
    }
    if (st.dev !== dev)
      throw refused(`refusing to write ${target.path}: ${p} is on another filesystem than the cgroup mount`);
  }
  return st as fs.Stats;
}

function openChecked(target: LimitTarget, flags: number): number {
  const before = verifyTarget(target);
  const fd = fs.openSync(target.path, flags | fs.constants.O_NOFOLLOW);
  try {
    const st = fs.fstatSync(fd);
    if (st.dev !== before.dev || st.ino !== before.ino || !st.isFile()) {
      throw refused(`refusing to write ${target.path}: the file changed between the check and the open`);
    }
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/** Reads a target file after the physical checks (trailing newline removed). */
export function readTarget(target: LimitTarget): string {
  const fd = openChecked(target, fs.constants.O_RDONLY);
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return buf.toString('utf8', 0, n).replace(/\n+$/, '');
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes value in one write(2) after the physical checks; kernel errors propagate with their code. */
export function writeTarget(target: LimitTarget, value: string): void {
  const fd = openChecked(target, fs.constants.O_WRONLY);
  try {
    // A zero-length write(2) never reaches the kernel's handler: an empty value (v2 cpuset.cpus "" =
    // inherit the parent's) is written as a newline, which the kernel strips.
    const buf = Buffer.from(value === '' ? '\n' : value);
    const n = fs.writeSync(fd, buf, 0, buf.length);
    if (n !== buf.length) throw Object.assign(new Error(`short write (${n} of ${buf.length} bytes)`), { code: 'EIO' });
  } finally {
    fs.closeSync(fd);
  }
}

export function errnoCode(err: unknown): string {
  return err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : '';
}

const ERRNO_WORDS: Record<string, string> = {
  EBUSY: 'device or resource busy',
  EINVAL: 'invalid argument',
  EPERM: 'operation not permitted',
  EACCES: 'permission denied',
  ENOENT: 'no such file or directory',
  ENODEV: 'no such device',
  ENOSPC: 'no space left on device',
  ENOMEM: 'out of memory',
  EROFS: 'read-only file system',
  EOPNOTSUPP: 'operation not supported',
  ENOTSUP: 'operation not supported',
  ESRCH: 'no such process',
  EIO: 'input/output error',
  EAGAIN: 'resource temporarily unavailable',
  ERANGE: 'result out of range',
  EEXIST: 'file exists',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links (a symlink where none may be)',
  ENOTDIR: 'not a directory',
  EDQUOT: 'disk quota exceeded',
};

/** "EBUSY (device or resource busy)"; other errors their message. */
export function errnoWords(err: unknown): string {
  const code = errnoCode(err);
  if (code && ERRNO_WORDS[code]) return `${code} (${ERRNO_WORDS[code]})`;
  if (code) return code;
  return err instanceof Error ? err.message : String(err);
}

/** What a kernel error means for a given limit file, to say why a write failed. */
export function errnoHint(file: string, err: unknown): string {
  const code = errnoCode(err);
  if (code === 'EBUSY' && /^memory\.(limit_in_bytes|memsw\.limit_in_bytes|max)$/.test(file)) {
    return 'the kernel could not reclaim enough memory to get under the new limit';
  }
  if (code === 'EINVAL') {
    if (file === 'memory.limit_in_bytes') return 'the memory limit may not exceed the memory+swap limit';
    if (file === 'memory.memsw.limit_in_bytes') return 'the memory+swap limit may not be below the memory limit';
    if (file.startsWith('cpuset.')) return "the set must lie within the parent cgroup's and be online";
    if (file === 'cpu.cfs_quota_us' || file === 'cpu.cfs_period_us' || file === 'cpu.max') {
      return "the quota must be at least 1 ms, the period 1 ms to 1 s, and not above an ancestor's limit";
    }
    if (file.startsWith('blkio.throttle') || file === 'io.max')
      return 'the device has no request queue that can be throttled (a partition or a virtual device?)';
  }
  if (code === 'ENOSPC' && file.startsWith('cpuset.')) return 'a cpuset with processes may not become empty';
  if (code === 'EPERM' || code === 'EACCES') return 'tstop needs root (CAP_SYS_ADMIN) to change limits';
  if (code === 'ENOENT' || code === 'ENODEV') return 'the cgroup was removed';
  return '';
}

/** A cgroup path typed by a user or found in a record, as validated segments; LimitError when malformed. */
export function validCgroupId(id: string, what = 'cgroup path'): string {
  if (/[\x00-\x1f\x7f]/.test(id))
    throw new LimitError(`${what} ${quote(id)} contains a control character`, 2, 'invalid');
  if (id.split('/').some((s) => s === '..' || s === '.')) {
    throw new LimitError(`${what} ${quote(id)} must not contain '.' or '..'`, 2, 'invalid');
  }
  if (/\/\/./.test(id)) throw new LimitError(`${what} ${quote(id)} has an empty component ('//')`, 2, 'invalid');
  return '/' + cgroupSegments(id).join('/');
}

/**
 * Which cgroups count as containers: those the runtime classifier (the one
 * the snapshot's `runtime` comes from) recognises as a container's own
 * cgroup (docker-<id>.scope, /docker/<id>, libpod-<id>, cri-containerd-<id>,
 * crio-<id>, lxc.payload.<name>, tstop's own ...). Slices, systemd units,
 * pods, cgroups nested inside a container, runtime monitors and plain
 * cgroups are not: changing them needs --allow-system.
 */
export function isContainerCgroup(id: string): boolean {
  return id !== '/' && classifyCgroupPath(id).isContainer;
}

/** One-word description of what a non-container cgroup is, for the refusal. */
export function describeCgroup(id: string): string {
  const c = classifyCgroupPath(id) as ReturnType<typeof classifyCgroupPath> & { kind?: string };
  if (c.kind === 'nested') return `a cgroup inside a ${c.runtime} container`;
  if (c.kind === 'monitor') return `a ${c.runtime} monitor process's cgroup`;
  if (c.kind === 'pod') return 'a pod cgroup';
  if (c.kind === 'slice') return 'a slice (a group of cgroups)';
  if (c.runtime === 'systemd') return 'a systemd unit or slice';
  return 'a cgroup no container runtime created';
}

/** The root, the confinement (TSTOP_LIMIT_CONFINE) and the container rule. */
export function checkCgroupPolicy(id: string, name: string, options: { allowSystem?: boolean }): void {
  if (id === '/') {
    throw refused("refusing the root cgroup '/': its limits would apply to the whole machine");
  }
  const confine = process.env.TSTOP_LIMIT_CONFINE;
  if (confine) {
    const root = validCgroupId(confine, 'TSTOP_LIMIT_CONFINE');
    if (root === '/' || !(id === root || id.startsWith(root + '/'))) {
      throw refused(`refusing ${id}: TSTOP_LIMIT_CONFINE allows only cgroups below ${root}`);
    }
  }
  if (!options.allowSystem && !isContainerCgroup(id)) {
    const shown = name && name !== id ? `'${name}' (${id})` : id;
    throw refused(
      `refusing ${shown}: it is ${describeCgroup(id)}, not a container; pass --allow-system to change it anyway`,
    );
  }
}

/** The cgroup paths of this process, one per hierarchy line of /proc/self/cgroup. */
export function ownCgroups(root = '/'): string[] {
  try {
    return fs
      .readFileSync(path.join(root, 'proc/self/cgroup'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1));
  } catch {
    return [];
  }
}

/** Refuses freezing or killing a cgroup that holds tstop itself (it would freeze or kill the command). */
export function checkNotOwnCgroup(id: string, verb: string): void {
  for (const own of ownCgroups()) {
    if (own === id || own.startsWith(id + '/')) {
      throw refused(`refusing to ${verb} ${id}: tstop itself runs in it (${own})`);
    }
  }
}
