// Test cgroups on the real kernel, v1, v2 or hybrid alike. Everything lives
// under a parent named for the test process (tstop-test-<pid>) in every
// hierarchy; teardown kills what runs there and removes it all, even after a
// failed test. Nothing here writes to a cgroup the test did not create.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { creationHierarchies, dirsDeepestFirst, ensureCgroup, removeCgroup } from '../../src/cgroupfs/create.js';
import { detectCgroupMounts, type CgroupMounts, type Hierarchy } from '../../src/cgroupfs/mounts.js';
import { testloadPath } from './testload.js';

export interface Workload {
  child: ChildProcess;
  pid: number;
  /** Resolves when the workload has done its work (its --ready file exists). */
  ready: Promise<void>;
  stdout: () => string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor<T>(
  what: string,
  probe: () => T | null | undefined | false,
  timeoutMs = 10_000,
  stepMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

export class TestCgroups {
  readonly name: string;
  readonly mounts: CgroupMounts;
  /** The hierarchies the tests create cgroups in. */
  readonly hierarchies: Hierarchy[];
  private readonly children: ChildProcess[] = [];
  private readonly scratch: string;

  constructor(label = '') {
    this.name = `tstop-test-${process.pid}${label ? '-' + label : ''}`;
    this.mounts = detectCgroupMounts('/');
    this.hierarchies = creationHierarchies(this.mounts);
    this.scratch = fs.mkdtempSync(path.join(os.tmpdir(), `${this.name}-`));
    ensureCgroup(this.mounts, this.name, { inner: true });
  }

  get v2(): boolean {
    return this.mounts.mode === 'v2';
  }

  /** The cgroup id tstop reports for a test cgroup ("/tstop-test-123/a/b"). */
  id(rel = ''): string {
    return '/' + path.posix.join(this.name, rel).replace(/\/$/, '');
  }

  dir(h: Hierarchy, rel = ''): string {
    return path.join(h.mountPoint, this.name, rel);
  }

  /** The hierarchy where a controller lives (v1 mount, or unified on v2). */
  hierarchyOf(controller: string): Hierarchy {
    const v1 = this.hierarchies.find((h) => h.kind === 'v1' && h.controllers.includes(controller));
    if (v1) return v1;
    const v2 = this.hierarchies.find((h) => h.kind === 'v2');
    if (!v2) throw new Error(`no hierarchy for ${controller}`);
    return v2;
  }

  /** Directory of a test cgroup in the hierarchy of a controller. */
  controllerDir(controller: string, rel = ''): string {
    return this.dir(this.hierarchyOf(controller), rel);
  }

  /** A scratch directory for this test run (removed at cleanup). */
  tmp(name: string): string {
    return path.join(this.scratch, name);
  }

  /**
   * A filesystem root whose cgroup mounts are links to the test's parent
   * cgroup in each hierarchy (and whose /proc is the host's): a collector
   * given it sees the test cgroups only, not the rest of a shared host, so a
   * tick is quick.
   */
  isolatedRoot(): string {
    const root = this.tmp('root');
    fs.mkdirSync(root);
    fs.symlinkSync('/proc', path.join(root, 'proc'));
    for (const h of this.mounts.hierarchies) {
      const link = path.join(root, h.mountPoint);
      fs.mkdirSync(path.dirname(link), { recursive: true });
      if (fs.existsSync(this.dir(h))) fs.symlinkSync(this.dir(h), link);
    }
    return root;
  }

  /** Creates a test cgroup (and its missing parents) in every hierarchy; returns its id. */
  mkdir(rel: string, options: { inner?: boolean } = {}): string {
    ensureCgroup(this.mounts, this.id(rel), options);
    return this.id(rel);
  }

  /** Removes a test cgroup from every hierarchy (it must be empty). */
  rmdir(rel: string): void {
    removeCgroup(this.mounts, this.id(rel));
  }

  /** Writes a control file of a test cgroup (only ever one the test created). */
  write(controller: string, rel: string, file: string, value: string): void {
    fs.writeFileSync(path.join(this.controllerDir(controller, rel), file), value);
  }

  read(controller: string, rel: string, file: string): string {
    return fs.readFileSync(path.join(this.controllerDir(controller, rel), file), 'utf8').trim();
  }

  /** cgroup.procs of the test cgroup in every hierarchy. */
  procsFiles(rel: string): string[] {
    return this.hierarchies.map((h) => path.join(this.dir(h, rel), 'cgroup.procs'));
  }

  /**
   * Starts testload inside a test cgroup. With `wrap`, the given command
   * prefix (e.g. unshare ...) runs first and execs testload.
   */
  spawn(rel: string, args: string[], options: { wrap?: string[] } = {}): Workload {
    const readyFile = this.tmp(`ready-${this.children.length}-${Date.now()}`);
    const cgroupArgs = this.procsFiles(rel).flatMap((p) => ['--cgroup', p]);
    const argv = [...(options.wrap ?? []), testloadPath(), ...cgroupArgs, '--ready', readyFile, ...args];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    this.children.push(child);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (fs.existsSync(readyFile)) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
      child.once('exit', (code, signal) => {
        clearInterval(timer);
        if (!fs.existsSync(readyFile))
          reject(new Error(`workload ${args.join(' ')} exited (${code ?? signal}) before ready: ${err}`));
      });
      child.once('error', (e) => {
        clearInterval(timer);
        reject(new Error(`workload ${argv[0]} could not start: ${e.message}`));
      });
    });
    ready.catch(() => undefined);
    return { child, pid: child.pid ?? -1, ready, stdout: () => out };
  }

  /** Pids in a test cgroup (from the memory hierarchy, or unified on v2). */
  pids(rel: string): number[] {
    const text = fs.readFileSync(path.join(this.controllerDir('memory', rel), 'cgroup.procs'), 'utf8');
    return text.split('\n').filter(Boolean).map(Number);
  }

  /**
   * Resolves once every task of a test cgroup is asleep and its run time stands
   * still across two reads. A workload's ready file comes before its last steps
   * (the parent's pause, a forked child's first run), and on a slow guest those
   * can land between two reads that a test compares.
   */
  async settled(rel: string, timeoutMs = 10_000): Promise<void> {
    const runTimes = (): string | null => {
      const parts: string[] = [];
      for (const pid of this.pids(rel)) {
        try {
          const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          if (fields[0] !== 'S') return null;
          // Run time in ns where the kernel keeps schedstat, else utime and stime in ticks.
          const schedstat = `/proc/${pid}/schedstat`;
          parts.push(
            fs.existsSync(schedstat) ? fs.readFileSync(schedstat, 'utf8').split(' ')[0] : `${fields[11]}+${fields[12]}`,
          );
        } catch {
          return null; // a task came or went: look again
        }
      }
      return parts.join(',');
    };
    let last: string | null = null;
    await waitFor(
      `the tasks of ${rel} to sleep`,
      () => {
        const now = runTimes();
        const still = now !== null && now === last;
        last = now;
        return still;
      },
      timeoutMs,
      25,
    );
  }

  /** Kills the processes of one test cgroup (it stays, empty). */
  async cleanupProcesses(rel: string): Promise<void> {
    await killAll(this.hierarchies.map((h) => this.dir(h, rel)));
  }

  /** Kills everything in the test cgroups and removes them from every hierarchy. */
  async cleanup(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const h of this.hierarchies) await emptyAndRemove(this.dir(h));
    fs.rmSync(this.scratch, { recursive: true, force: true });
  }
}

function removeTree(dir: string): void {
  for (const d of dirsDeepestFirst(dir)) {
    try {
      fs.rmdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

function readPids(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Thaws, kills every process below dir, waits for them to leave, removes the tree. */
export async function emptyAndRemove(dir: string): Promise<void> {
  if (!fs.existsSync(dir)) return;
  await killAll(dirsDeepestFirst(dir));
  // rmdir can fail briefly with EBUSY while the last task is released.
  for (let attempt = 0; ; attempt++) {
    try {
      removeTree(dir);
      return;
    } catch (err) {
      if (attempt > 100) throw err;
      await sleep(20);
    }
  }
}

/** Thaws the cgroups and kills their processes until none is left. */
async function killAll(dirs: string[]): Promise<void> {
  for (const d of dirs) {
    for (const [file, value] of [
      ['freezer.state', 'THAWED'],
      ['cgroup.freeze', '0'],
    ]) {
      try {
        if (fs.existsSync(path.join(d, file))) fs.writeFileSync(path.join(d, file), value);
      } catch {
        // not frozen / not supported: fine
      }
    }
  }
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pids = dirs.flatMap(readPids);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (Date.now() > deadline) throw new Error(`processes ${pids.join(' ')} would not leave ${dirs[0]}`);
    await sleep(20);
  }
}

/** Removes test parents left by test processes that no longer exist (crashed workers). */
export async function removeStaleTestCgroups(): Promise<void> {
  const mounts = detectCgroupMounts('/');
  for (const h of mounts.hierarchies) {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(h.mountPoint);
    } catch {
      continue;
    }
    for (const e of entries) {
      const m = /^tstop-test-(\d+)/.exec(e);
      if (!m) continue;
      const pid = Number(m[1]);
      let alive = true;
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (!alive) await emptyAndRemove(path.join(h.mountPoint, e));
    }
  }
}
