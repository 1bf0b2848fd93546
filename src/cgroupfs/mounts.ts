// Where the cgroup hierarchies are mounted, read from mountinfo (never from
// fixed paths): v1 controllers, named v1 hierarchies (name=systemd), the
// unified (v2) mount, and from that whether the host is v1, v2 or hybrid.

import fs from 'node:fs';
import path from 'node:path';
import type { CgroupMode } from '../model/types.js';
import { ExpectedError } from '../util/errors.js';

/** v1 controllers tstop knows; other super options (rw, xattr, ...) are not controllers. */
export const V1_CONTROLLERS = [
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'net_prio',
  'blkio',
  'perf_event',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

export interface Hierarchy {
  kind: 'v1' | 'v2';
  /** Absolute path of the mount on this machine (with the --root prefix). */
  mountPoint: string;
  /** The mount's root inside the hierarchy ("/" unless bind-mounted from a subtree). */
  mountRoot: string;
  /** v1: controllers in the super options; v2: the root's cgroup.controllers. */
  controllers: string[];
  /** Named v1 hierarchy ("systemd" for name=systemd), else null. */
  name: string | null;
  /** major:minor of the mount, identifying the hierarchy. */
  device: string;
}

export interface CgroupMounts {
  mode: CgroupMode;
  /** Every distinct hierarchy, v1 first in mountinfo order, the unified one last. */
  hierarchies: Hierarchy[];
  unified: Hierarchy | null;
  /** Which mountinfo file the mounts came from. */
  source: string;
  /** The --root prefix ("/" for the local machine). */
  root: string;
}

export class NoCgroupMountsError extends ExpectedError {
  constructor(source: string) {
    super(`no cgroup filesystem is mounted (read ${source}); is this Linux with cgroups, and is --root right?`, 1);
  }
}

interface MountLine {
  device: string;
  mountRoot: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function parseMountinfoLine(line: string): MountLine | null {
  const parts = line.split(' ');
  const dash = parts.indexOf('-', 6);
  if (parts.length < 10 || dash < 0 || dash + 3 > parts.length) return null;
  return {
    device: parts[2],
    mountRoot: unescapeMountField(parts[3]),
    mountPoint: unescapeMountField(parts[4]),
    fsType: parts[dash + 1],
    superOptions: (parts[dash + 3] ?? '').split(','),
  };
}

/**
 * Pure: the cgroup hierarchies in a mountinfo text. Mount points get the
 * prefix joined in front. The same hierarchy mounted twice (bind mounts)
 * is kept once, preferring the mount of its root.
 */
export function parseCgroupMounts(mountinfo: string, prefix = '/'): Omit<CgroupMounts, 'mode' | 'source' | 'root'> {
  const byDevice = new Map<string, Hierarchy>();
  for (const line of mountinfo.split('\n')) {
    const m = parseMountinfoLine(line);
    if (!m || (m.fsType !== 'cgroup' && m.fsType !== 'cgroup2')) continue;
    const mountPoint = prefix === '/' ? m.mountPoint : path.join(prefix, m.mountPoint);
    const h: Hierarchy =
      m.fsType === 'cgroup2'
        ? { kind: 'v2', mountPoint, mountRoot: m.mountRoot, controllers: [], name: null, device: m.device }
        : {
            kind: 'v1',
            mountPoint,
            mountRoot: m.mountRoot,
            controllers: m.superOptions.filter((o) => (V1_CONTROLLERS as readonly string[]).includes(o)),
            name: m.superOptions.find((o) => o.startsWith('name='))?.slice(5) ?? null,
            device: m.device,
          };
    const seen = byDevice.get(m.device);
    if (!seen || (seen.mountRoot !== '/' && h.mountRoot === '/')) byDevice.set(m.device, h);
  }
  const all = [...byDevice.values()];
  const unified = all.find((h) => h.kind === 'v2') ?? null;
  const hierarchies = all.filter((h) => h.kind === 'v1');
  if (unified) hierarchies.push(unified);
  return { hierarchies, unified };
}

export function cgroupModeOf(hierarchies: Hierarchy[]): CgroupMode {
  const v1WithControllers = hierarchies.some((h) => h.kind === 'v1' && h.controllers.length > 0);
  const v2 = hierarchies.some((h) => h.kind === 'v2');
  if (v1WithControllers && v2) return 'hybrid';
  return v2 ? 'v2' : 'v1';
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Finds the hierarchies for the machine whose filesystem is at root.
 * root "/" reads /proc/self/mountinfo. Another root (a host mounted at
 * /host) first looks for cgroup mounts under it in our own mountinfo (bind
 * mounts into a monitoring container), then at the host's init's mountinfo
 * (root/proc/1/mountinfo), then root/proc/self/mountinfo, prefixing mount
 * points with root.
 */
export function detectCgroupMounts(root = '/'): CgroupMounts {
  const absRoot = path.resolve(root);
  const candidates: { source: string; prefix: string; filter?: string }[] =
    absRoot === '/'
      ? [{ source: '/proc/self/mountinfo', prefix: '/' }]
      : [
          { source: '/proc/self/mountinfo', prefix: '/', filter: absRoot },
          { source: path.join(absRoot, 'proc/1/mountinfo'), prefix: absRoot },
          { source: path.join(absRoot, 'proc/self/mountinfo'), prefix: absRoot },
        ];
  for (const c of candidates) {
    const content = readText(c.source);
    if (content === null) continue;
    let { hierarchies, unified } = parseCgroupMounts(content, c.prefix);
    if (c.filter) {
      const under = c.filter + path.sep;
      hierarchies = hierarchies.filter((h) => h.mountPoint.startsWith(under));
      if (unified && !unified.mountPoint.startsWith(under)) unified = null;
    }
    // A mount listed in mountinfo but not visible here (hidden by another mount) is useless.
    hierarchies = hierarchies.filter((h) => fs.existsSync(path.join(h.mountPoint, 'cgroup.procs')));
    if (unified && !hierarchies.includes(unified)) unified = null;
    if (hierarchies.length === 0) continue;
    if (unified) {
      const controllers = readText(path.join(unified.mountPoint, 'cgroup.controllers'));
      unified.controllers = controllers ? controllers.trim().split(/\s+/).filter(Boolean) : [];
    }
    return { mode: cgroupModeOf(hierarchies), hierarchies, unified, source: c.source, root: absRoot };
  }
  throw new NoCgroupMountsError(candidates.map((c) => c.source).join(', '));
}

/** The v1 hierarchy carrying a controller, if it is mounted on v1. */
export function v1HierarchyOf(mounts: CgroupMounts, controller: string): Hierarchy | null {
  return mounts.hierarchies.find((h) => h.kind === 'v1' && h.controllers.includes(controller)) ?? null;
}
