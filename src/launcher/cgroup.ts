// A container's cgroup: <parent>/<name> in every hierarchy tstop creates
// cgroups in (each v1 controller it uses, and the unified one), made with
// src/cgroupfs/create.ts (v1 cpuset initialised, v2 controllers delegated by
// the parent, the container itself a leaf), its limits written before the
// workload exists, and removed when the container ends.
//
// The limits are written by ./limits.ts (loaded only when a run has limits).

import fs from 'node:fs';
import path from 'node:path';
import { cgroupDir, cgroupSegments, creationHierarchies, ensureCgroup, removeCgroup } from '../cgroupfs/create.js';
import type { CgroupMounts, Hierarchy } from '../cgroupfs/mounts.js';
import type { LimitRequest } from '../limiter/api.js';
import { ExpectedError } from '../util/errors.js';

export class CgroupSetupError extends ExpectedError {
  constructor(message: string) {
    super(message, 125);
  }
}

/** "EBUSY (Device or resource busy)" style, from a Node error's code and message. */
export function errnoWords(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string') {
    const words = /^[A-Z0-9]+: ([^,]+),/.exec(e.message ?? '')?.[1];
    return words ? `${e.code} (${words})` : e.code;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Whether a request sets any limit. */
export function hasLimits(req: LimitRequest): boolean {
  return Object.values(req).some((v) => (Array.isArray(v) ? v.length > 0 : v !== undefined));
}

/** The container's cgroup path: the parent's segments plus the name. */
export function containerCgroup(parent: string, name: string): string {
  return '/' + [...cgroupSegments(parent), ...cgroupSegments(name)].join('/');
}

export interface ContainerCgroup {
  path: string;
  /** Directories in every creation hierarchy. */
  dirs: string[];
  /** cgroup.procs files the helper joins (the unified one via CLONE_INTO_CGROUP). */
  procs: string[];
}

/** Creates the container's cgroup in every hierarchy (the parent delegates on v2). */
export function createCgroup(mounts: CgroupMounts, cgroupPath: string): ContainerCgroup {
  let dirs: string[];
  try {
    dirs = ensureCgroup(mounts, cgroupPath);
  } catch (err) {
    throw new CgroupSetupError(`cannot create the cgroup ${cgroupPath}: ${errnoWords(err)}`);
  }
  return { path: cgroupPath, dirs, procs: dirs.map((d) => path.join(d, 'cgroup.procs')) };
}

function readPids(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Process ids still in the container's cgroup, in any hierarchy (and below it). */
export function cgroupPids(mounts: CgroupMounts, cgroupPath: string): number[] {
  const pids = new Set<number>();
  for (const h of creationHierarchies(mounts)) {
    const visit = (dir: string): void => {
      for (const p of readPids(dir)) pids.add(p);
      let entries: fs.Dirent[] = [];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) if (e.isDirectory()) visit(path.join(dir, e.name));
    };
    visit(cgroupDir(h, cgroupPath));
  }
  return [...pids];
}

export function cgroupExists(mounts: CgroupMounts, cgroupPath: string): boolean {
  return creationHierarchies(mounts).some((h) => fs.existsSync(cgroupDir(h, cgroupPath)));
}

/** The file that counts the cgroup's OOM kills (v2 memory.events, v1 memory.oom_control), or null. */
export function oomKillsFile(mounts: CgroupMounts, cgroupPath: string): string | null {
  const h: Hierarchy | undefined =
    mounts.hierarchies.find((x) => x.kind === 'v1' && x.controllers.includes('memory')) ?? mounts.unified ?? undefined;
  if (!h) return null;
  return path.join(cgroupDir(h, cgroupPath), h.kind === 'v1' ? 'memory.oom_control' : 'memory.events');
}

/** OOM kills counted for the cgroup, or null. */
export function oomKills(mounts: CgroupMounts, cgroupPath: string): number | null {
  const file = oomKillsFile(mounts, cgroupPath);
  if (file === null) return null;
  try {
    const text = fs.readFileSync(file, 'utf8');
    const m = /(?:^|\n)oom_kill (\d+)/.exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Removes the cgroup from every hierarchy. Processes that are still leaving
 * (a PID namespace being torn down) make rmdir fail with EBUSY for a moment;
 * with `kill`, anything still inside is killed first.
 */
export async function destroyCgroup(
  mounts: CgroupMounts,
  cgroupPath: string,
  options: { kill?: boolean; timeoutMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  for (let attempt = 0; ; attempt++) {
    // With kill, the first attempt is a plain rmdir: it succeeds only when nothing
    // is inside, so there was nothing to kill (and no cgroup.procs to read at the
    // end of every run).
    if (options.kill && attempt > 0) {
      for (const pid of cgroupPids(mounts, cgroupPath)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
    try {
      removeCgroup(mounts, cgroupPath);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'EBUSY' && code !== 'ENOTEMPTY') || Date.now() > deadline) {
        throw new CgroupSetupError(`cannot remove the cgroup ${cgroupPath}: ${errnoWords(err)}`);
      }
      if (attempt > 0) await sleep(attempt < 10 ? 2 : 20);
    }
  }
}
