// Per-process detail for the dashboard's detail view: user, state, CPU %,
// resident memory and command line of the processes of one cgroup, from
// /proc/<pid>/{stat,status,cmdline}. Pure parsers plus a sampler that keeps
// each process's CPU ticks between calls to turn them into a percentage. A
// process that exits between listing and reading is skipped, never an error.

import fs from 'node:fs';
import path from 'node:path';
import { USER_HZ } from './processes.js';

export interface ProcStat {
  comm: string;
  /** One letter: R running, S sleeping, D disk sleep, Z zombie, T stopped, I idle, ... */
  state: string;
  ppid: number;
  /** utime + stime in clock ticks. */
  cpuTicks: number;
  threads: number;
  startTicks: number;
}

/** Pure: /proc/<pid>/stat. The comm (field 2) may hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3].
  if (rest.length < 20) return null;
  const num = (field: number): number => Number(rest[field - 3]);
  const utime = num(14);
  const stime = num(15);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return {
    comm: text.slice(open + 1, close),
    state: rest[0],
    ppid: num(4),
    cpuTicks: utime + stime,
    threads: num(20),
    startTicks: num(22),
  };
}

/** Pure: effective uid and resident set size (VmRSS, bytes; 0 for kernel threads and zombies) from /proc/<pid>/status. */
export function parseProcStatus(text: string): { uid: number | null; rssBytes: number } {
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(text);
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(text);
  return { uid: uid ? Number(uid[1]) : null, rssBytes: rss ? Number(rss[1]) * 1024 : 0 };
}

/** Pure: /proc/<pid>/cmdline (NUL-separated arguments) as one line; empty for kernel threads and zombies. */
export function parseCmdline(buf: Buffer): string {
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--;
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i <= end; i++) {
    if (i === end || buf[i] === 0) {
      parts.push(buf.toString('utf8', start, i));
      start = i + 1;
    }
  }
  return end === 0 ? '' : parts.join(' ');
}

/** Pure: uid → user name from /etc/passwd. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    if (Number.isInteger(uid) && !users.has(uid)) users.set(uid, f[0]);
  }
  return users;
}

export interface ProcessDetail {
  pid: number;
  user: string;
  state: string;
  /** 100 = one core; null on a process's first sample. */
  cpuPercent: number | null;
  rssBytes: number;
  threads: number;
  /** The command line, or "[comm]" when it has none (kernel thread, zombie). */
  command: string;
}

export interface ProcessSample {
  processes: ProcessDetail[];
  /** Processes in the cgroup (some may not have been read: see limit). */
  total: number;
}

/** Reads processes of one cgroup at a time; remembers CPU ticks to give CPU %. */
export class ProcessSampler {
  private previous = new Map<number, { ticks: number; start: number; at: number }>();
  private users: Map<number, string> | null = null;
  private usersReadAt = -Infinity;

  constructor(
    private readonly root = '/',
    private readonly now: () => number = () => performance.now() / 1000,
  ) {}

  private userName(uid: number | null): string {
    if (uid === null) return '?';
    const t = this.now();
    if (!this.users || t - this.usersReadAt > 60) {
      try {
        this.users = parsePasswd(fs.readFileSync(path.join(this.root, 'etc/passwd'), 'utf8'));
      } catch {
        this.users = new Map();
      }
      this.usersReadAt = t;
    }
    return this.users.get(uid) ?? String(uid);
  }

  /** Samples up to `limit` of the pids; CPU % is relative to this sampler's previous call. */
  sample(pids: readonly number[], limit = 200): ProcessSample {
    const at = this.now();
    const next = new Map<number, { ticks: number; start: number; at: number }>();
    const out: ProcessDetail[] = [];
    for (const pid of pids.slice(0, limit)) {
      const dir = path.join(this.root, 'proc', String(pid));
      let stat: ProcStat | null;
      let status: { uid: number | null; rssBytes: number };
      let cmdline: string;
      try {
        stat = parseProcStat(fs.readFileSync(path.join(dir, 'stat'), 'latin1'));
        status = parseProcStatus(fs.readFileSync(path.join(dir, 'status'), 'latin1'));
        cmdline = parseCmdline(fs.readFileSync(path.join(dir, 'cmdline')));
      } catch {
        continue; // exited while being read
      }
      if (!stat) continue;
      const prev = this.previous.get(pid);
      let cpuPercent: number | null = null;
      if (prev && prev.start === stat.startTicks && at > prev.at && stat.cpuTicks >= prev.ticks) {
        cpuPercent = ((stat.cpuTicks - prev.ticks) / USER_HZ / (at - prev.at)) * 100;
      }
      next.set(pid, { ticks: stat.cpuTicks, start: stat.startTicks, at });
      out.push({
        pid,
        user: this.userName(status.uid),
        state: stat.state,
        cpuPercent,
        rssBytes: status.rssBytes,
        threads: stat.threads,
        command: cmdline || `[${stat.comm}]`,
      });
    }
    this.previous = next;
    return { processes: out, total: pids.length };
  }

  /** Forgets the previous sample (another container is shown now). */
  reset(): void {
    this.previous.clear();
  }
}
