// Processes of a cgroup (cgroup.procs) and the oldest of them, its init
// process, whose start time comes from /proc/<pid>/stat.

import fs from 'node:fs';
import path from 'node:path';
import { cgroupFile, UNIFIED, type CgroupFileSpec } from '../src/cgroupfs/files.js';
import { forEachLine, parseNumber } from '../src/cgroupfs/parse.js';
import type { CgroupSource } from '../src/cgroupfs/source.js';
import type { CgroupCollector } from './api.js';

/**
 * USER_HZ: the kernel's unit for times it shows user space (clock ticks per
 * second: /proc/<pid>/stat, /proc/stat, v1 cpuacct.stat); sysconf(_SC_CLK_TCK),
 * 100 on every Linux architecture tstop runs on.
 */
export const USER_HZ = 100;

/**
 * Where to read cgroup.procs, in order: a process can sit in different
 * paths in different v1 hierarchies, so take the first hierarchy that has
 * this cgroup, preferring the ones containers are placed in.
 */
const PROCS: CgroupFileSpec[] = [
  'memory',
  'pids',
  'cpuacct',
  'cpu',
  'cpuset',
  'blkio',
  'devices',
  'freezer',
  UNIFIED,
  'name=systemd',
].map((h) => cgroupFile(h, 'cgroup.procs'));

/** Pure: cgroup.procs (one pid per line). */
export function parseProcs(buf: Uint8Array, len: number, start = 0): number[] {
  const pids: number[] = [];
  forEachLine(
    buf,
    len,
    (s, e) => {
      const pid = parseNumber(buf, s, e);
      if (!Number.isNaN(pid)) pids.push(pid);
    },
    start,
  );
  return pids;
}

/** The cgroup's processes, or null when no hierarchy has this cgroup's cgroup.procs. */
export function collectProcesses(src: CgroupSource): number[] | null {
  for (const file of PROCS) {
    if (!src.has(file)) continue;
    const n = src.read(file);
    if (n >= 0) return parseProcs(src.buf, src.end, src.start);
  }
  return null;
}

/** Pure: field 22 (starttime, in clock ticks since boot) of /proc/<pid>/stat. */
export function parseStartTicks(stat: string): number | null {
  // comm (field 2) may hold spaces and parentheses: fields resume after the last ")".
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const rest = stat.slice(close + 2).split(' ');
  const v = Number(rest[19]); // field 3 is rest[0]
  return Number.isFinite(v) ? v : null;
}

export function processStartTicks(root: string, pid: number): number | null {
  try {
    return parseStartTicks(fs.readFileSync(path.join(root, 'proc', String(pid), 'stat'), 'latin1'));
  } catch {
    return null; // exited: normal
  }
}

/** The oldest of the pids (earliest start), with its start ticks. */
export function oldestProcess(root: string, pids: number[]): { pid: number; startTicks: number } | null {
  let best: { pid: number; startTicks: number } | null = null;
  for (const pid of pids) {
    const t = processStartTicks(root, pid);
    if (t === null) continue;
    if (!best || t < best.startTicks || (t === best.startTicks && pid < best.pid)) best = { pid, startTicks: t };
  }
  return best;
}

/** Boot time (seconds since the epoch) from /proc/stat btime. */
export function bootTimeSeconds(root: string): number | null {
  try {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync(path.join(root, 'proc/stat'), 'latin1'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Shared by every empty cgroup (snapshots are read-only). */
const NO_PROCESSES: number[] = [];

export const processesCollector: CgroupCollector = {
  name: 'processes',
  fields: ['processes'],
  uses: ['pids'],
  collect(src, _context, out) {
    // pids.current counts every task below: at 0 there is no process to list (saves an open on v1).
    const list = out.pids?.current === 0 ? null : collectProcesses(src);
    out.processes = list && list.length > 0 ? list : NO_PROCESSES;
  },
};
