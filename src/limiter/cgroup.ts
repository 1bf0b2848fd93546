// One cgroup's files as the planner sees them: for each controller, whether
// it is served by cgroup v1 or v2 for this cgroup, the file paths, and the
// current contents. Directories come from the mounts (mountinfo) and the
// cgroup path's validated segments, never from string concatenation of
// user input. Reads never follow a symlink. The same class reads a fixture
// tree (tests pass mounts whose mount points are fixture directories).

import fs from 'node:fs';
import path from 'node:path';
import { cgroupSegments } from '../cgroupfs/create.js';
import type { CgroupMounts, Hierarchy } from '../cgroupfs/mounts.js';

export type Controller = 'memory' | 'cpu' | 'cpuset' | 'pids' | 'blkio' | 'devices' | 'freezer';

/** The v2 name of a controller; freezer is a core file on v2 (cgroup.freeze). */
const V2_NAME: Record<Controller, string | null> = {
  memory: 'memory',
  cpu: 'cpu',
  cpuset: 'cpuset',
  pids: 'pids',
  blkio: 'io',
  devices: null,
  freezer: null,
};

export interface ControllerDir {
  kind: 'v1' | 'v2';
  hierarchy: Hierarchy;
  /** The cgroup's directory in that hierarchy. */
  dir: string;
}

/** Reads a file without following a symlink at its last component; null when absent or unreadable. */
export function readNoFollow(file: string): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(64 * 1024);
    for (let pos = 0; ;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      pos += n;
      if (pos > 16 * 1024 * 1024) break;
    }
    return Buffer.concat(chunks).toString('utf8').replace(/\n+$/, '');
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

export class CgroupFiles {
  readonly segments: string[];
  private readonly dirs = new Map<Controller, ControllerDir | null>();

  constructor(
    readonly mounts: CgroupMounts,
    /** The cgroup path ("/docker/abc"). */
    readonly id: string,
  ) {
    this.segments = cgroupSegments(id);
  }

  /** Where a controller's files are for this cgroup; null when the host has no such controller here. */
  controller(c: Controller): ControllerDir | null {
    if (this.dirs.has(c)) return this.dirs.get(c) ?? null;
    let found: ControllerDir | null = null;
    const v1 = this.mounts.hierarchies.find((h) => h.kind === 'v1' && h.controllers.includes(c));
    if (v1) found = { kind: 'v1', hierarchy: v1, dir: path.join(v1.mountPoint, ...this.segments) };
    else {
      const u = this.mounts.unified;
      const name = V2_NAME[c];
      if (u && ((name !== null && u.controllers.includes(name)) || c === 'freezer')) {
        found = { kind: 'v2', hierarchy: u, dir: path.join(u.mountPoint, ...this.segments) };
      }
    }
    if (found && !isRealDir(found.hierarchy.mountPoint, this.segments)) found = null;
    this.dirs.set(c, found);
    return found;
  }

  /** Why controller() is null, for a message. */
  missing(c: Controller): string {
    const v1 = this.mounts.hierarchies.find((h) => h.kind === 'v1' && h.controllers.includes(c));
    if (v1) return `cgroup ${this.id} does not exist in the ${c} hierarchy (${v1.mountPoint})`;
    const u = this.mounts.unified;
    if (c === 'devices' && u) return 'cgroup v2 has no device files';
    const name = V2_NAME[c] ?? c;
    if (u && u.controllers.includes(name)) return `cgroup ${this.id} does not exist in ${u.mountPoint}`;
    return `this host has no ${name} controller mounted${u ? ` (${u.mountPoint} offers: ${u.controllers.join(' ') || 'none'})` : ''}`;
  }

  kind(c: Controller): 'v1' | 'v2' | null {
    return this.controller(c)?.kind ?? null;
  }

  path(c: Controller, file: string): string {
    const d = this.controller(c);
    if (!d) throw new Error(`no ${c} controller for ${this.id}`);
    return path.join(d.dir, file);
  }

  /** Whether the file exists (a v2 controller not enabled by the parent has no files). */
  has(c: Controller, file: string): boolean {
    const d = this.controller(c);
    if (!d) return false;
    try {
      return fs.lstatSync(path.join(d.dir, file)).isFile();
    } catch {
      return false;
    }
  }

  read(c: Controller, file: string): string | null {
    const d = this.controller(c);
    return d ? readNoFollow(path.join(d.dir, file)) : null;
  }

  /** A file of the parent cgroup in the same hierarchy (null at the top). */
  readParent(c: Controller, file: string): string | null {
    const d = this.controller(c);
    if (!d || this.segments.length === 0) return null;
    return readNoFollow(path.join(path.dirname(d.dir), file));
  }
}

/** Each component below the mount point is a directory, not a symlink. */
function isRealDir(mountPoint: string, segments: string[]): boolean {
  let p = mountPoint;
  for (const s of segments) {
    p = path.join(p, s);
    try {
      if (!fs.lstatSync(p).isDirectory()) return false;
    } catch {
      return false;
    }
  }
  return true;
}
