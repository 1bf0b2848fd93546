// Running the real `tstop` CLI against the test's own cgroups: every run gets
// the test's audit log and TSTOP_LIMIT_CONFINE set to the test parent, so
// even a bug cannot make it write outside the cgroups the test created.

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dirsDeepestFirst } from '../../src/cgroupfs/create.js';
import { KNOWN_LIMIT_FILES } from '../../src/limiter/safety.js';
import type { TestCgroups } from './cgroups.js';

export const TSTOP_BIN = path.resolve(__dirname, '../../bin/tstop.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function limitEnv(cg: TestCgroups, auditLog: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, TSTOP_AUDIT_LOG: auditLog, TSTOP_LIMIT_CONFINE: cg.id(), ...extra };
}

/** Runs `tstop ARGS` and resolves with its exit code and output (never rejects on a non-zero exit). */
export function runTstop(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  const start = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSTOP_BIN, ...args],
      { env, encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : -1
          : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - start });
      },
    );
  });
}

/** Starts `tstop ARGS` and returns the child (for the crash tests). */
export function startTstop(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [TSTOP_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

const ALSO_HASHED = new Set(['devices.list', 'cgroup.subtree_control']);

/** Every readable limit file (and devices.list) of the test's cgroups, path -> sha256 of its content. */
export function hashLimitFiles(cg: TestCgroups): Map<string, string> {
  const out = new Map<string, string>();
  for (const h of cg.hierarchies) {
    for (const dir of dirsDeepestFirst(cg.dir(h))) {
      for (const name of fs.readdirSync(dir)) {
        if (!KNOWN_LIMIT_FILES[h.kind].has(name) && !ALSO_HASHED.has(name)) continue;
        const file = path.join(dir, name);
        let content: string;
        try {
          content = fs.readFileSync(file, 'utf8');
        } catch {
          continue; // write-only (devices.allow, cgroup.kill)
        }
        out.set(file, crypto.createHash('sha256').update(content).digest('hex'));
      }
    }
  }
  return out;
}

/** Runs fn over items with at most `limit` running at once. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}

/** A shell that moves itself into the test cgroup and then execs a command (for dd and friends). */
export function spawnInCgroup(cg: TestCgroups, rel: string, command: string[]): ChildProcess {
  const procs = cg.procsFiles(rel);
  const script =
    'for f in "$@"; do [ "$f" = -- ] && break; echo $$ > "$f"; done; shift $(( $# - ' +
    command.length +
    ' )); exec "$@"';
  return spawn('sh', ['-c', script, 'sh', ...procs, '--', ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A loop block device over a file of zeros, with no filesystem (the v2 lane's
 * kernel has no ext4 module loaded, and O_DIRECT reads of the device itself
 * are what a throttle test needs).
 */
export class RawLoop {
  private constructor(
    readonly device: string,
    readonly major: number,
    readonly minor: number,
    private readonly image: string,
  ) {}

  static create(cg: TestCgroups, mib: number): RawLoop {
    const image = cg.tmp(`raw-loop-${Date.now()}.img`);
    fs.writeFileSync(image, '');
    fs.truncateSync(image, mib * 1024 * 1024);
    const device = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
    const [major, minor] = fs
      .readFileSync(`/sys/class/block/${path.basename(device)}/dev`, 'utf8')
      .trim()
      .split(':')
      .map(Number);
    return new RawLoop(device, major, minor, image);
  }

  destroy(): void {
    execFileSync('losetup', ['-d', this.device]);
    fs.rmSync(this.image, { force: true });
  }
}

/**
 * Kills the detached reverter (`tstop limit __expire`) a test's --for changes
 * started for its audit log, if one still runs (a pending expiry outlives the test).
 */
export function killReverter(auditLog: string): void {
  let pid: number;
  try {
    pid = (JSON.parse(fs.readFileSync(`${auditLog}.reverter.lock`, 'utf8')) as { pid: number }).pid;
  } catch {
    return; // never started
  }
  try {
    // Only that process: the pid must still be a reverter of this very audit log.
    if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(auditLog)) process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}
