/**
 * Test harness for native/build/tstop-helper: runs the real binary with
 * specs from src/launcher/spec.ts, builds a busybox rootfs, and manages
 * test-only cgroups under `tstop-test-<pid>`.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  closeSync,
  readFileSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Writable } from 'node:stream';
import type { ReportEvent } from '../../src/launcher/helper.js';
import { spawnHelper } from '../../src/launcher/spawn.js';
import { resolveCapabilities, type ExecSpec, type RunSpec } from '../../src/launcher/spec.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HELPER = join(repo, 'native', 'build', 'tstop-helper');

export const isRoot = process.platform === 'linux' && process.getuid?.() === 0;

/** Build the helper once if `npm install` has not. */
export function ensureHelper(): void {
  if (existsSync(HELPER)) return;
  const r = spawnSync(process.execPath, [join(repo, 'native', 'build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building native/build/tstop-helper failed');
}

export const DOCKER_CAPS = resolveCapabilities();
export const PATH_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

/** Namespaces of a typical container (no user namespace). */
export const CONTAINER_NS: RunSpec['namespaces'] = ['mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup'];

/** A run spec with Docker-like defaults; override what a test needs. */
export function runSpec(overrides: Partial<RunSpec> & Pick<RunSpec, 'argv'>): RunSpec {
  return { mode: 'run', env: PATH_ENV, namespaces: CONTAINER_NS, capabilities: DOCKER_CAPS, ...overrides };
}

export function execSpec(pid: number, overrides: Partial<ExecSpec> & Pick<ExecSpec, 'argv'>): ExecSpec {
  return { mode: 'exec', pid, env: PATH_ENV, capabilities: DOCKER_CAPS, ...overrides };
}

export interface HelperResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: ReportEvent[];
}

export interface RunningHelper {
  child: ChildProcess;
  /** Host pid of the container's PID 1 (from the report fd). */
  pid: Promise<number>;
  done: Promise<HelperResult>;
  /** Output so far (the workload's stdout/stderr go straight to these pipes). */
  stdout: () => string;
}

// Helpers still running when the test worker exits (a test timed out, an
// assertion threw before cleanup) are killed rather than left behind.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface HelperOptions {
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  /** Another copy of the helper binary (default: native/build/tstop-helper). */
  helperPath?: string;
}

/** A probe's output ("KEY VALUE" per line) as a record. */
export const probeFields = (out: string): Record<string, string> =>
  Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(' ', 2) as [string, string]),
  );

/** Compile a test probe (test/native/probes/NAME.c) as a static binary into DIR. */
export function buildProbe(name: string, dir: string): string {
  const out = join(dir, name);
  const src = join(repo, 'test', 'native', 'probes', `${name}.c`);
  const r = spawnSync('cc', ['-static', '-O2', '-Wall', '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building ${src} failed: ${r.stderr}`);
  return out;
}

/** Spawn the helper through src/launcher/spawn.ts with piped stdio. */
export function startHelper(spec: RunSpec | ExecSpec, opts: HelperOptions = {}): RunningHelper {
  ensureHelper();
  const h = spawnHelper(spec, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: opts.env ?? {},
    helperPath: opts.helperPath ?? HELPER,
  });
  const { child } = h;
  live.add(child);
  void h.exited.finally(() => live.delete(child)).catch(() => undefined);
  const stdin = child.stdin as Writable;
  stdin.on('error', () => undefined); // the workload may exit without reading
  stdin.end(opts.stdin ?? '');

  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close' (which resolves h.exited) fires after stdout/stderr have ended.
  const done = h.exited.then((x) => ({ code: x.code, signal: x.signal, stdout, stderr, events: x.events }));
  return { child, pid: h.started, done, stdout: () => stdout };
}

export async function runHelper(spec: RunSpec | ExecSpec, opts: HelperOptions = {}): Promise<HelperResult> {
  return startHelper(spec, opts).done;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll until `fn` returns a value (not undefined) or time runs out. */
export async function waitFor<T>(fn: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await sleep(20);
  }
}

export function readProc(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Field of /proc/<pid>/status, e.g. "Uid". */
export function procStatus(pid: number, field: string): string {
  const line = readProc(`/proc/${pid}/status`)
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  if (!line) throw new Error(`no ${field} in /proc/${pid}/status`);
  return line.slice(field.length + 1).trim();
}

/** Children of a process and their states (R, S, Z...). */
export function childStates(pid: number): Array<{ pid: number; state: string }> {
  const text = readProc(`/proc/${pid}/task/${pid}/children`).trim();
  if (!text) return [];
  return text.split(/\s+/).map((c) => {
    const stat = readProc(`/proc/${c}/stat`);
    return { pid: Number(c), state: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] };
  });
}

// ---------------------------------------------------------------- busybox

function isStaticElf(path: string): boolean {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(8192);
  readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  return !/ld-linux|ld-musl/.test(head.toString('latin1'));
}

export function findBusybox(): string | undefined {
  const found = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p) && isStaticElf(p));
  if (!found && process.env.CI) {
    throw new Error('a static busybox is required for the rootfs tests: apt-get install busybox-static');
  }
  return found;
}

/** A throwaway rootfs: /bin/busybox plus one symlink per applet. */
export function makeBusyboxRootfs(busybox: string): { dir: string; rootfs: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tstop-native-'));
  chmodSync(dir, 0o755); // a user-namespaced root (host uid 100000) must reach the rootfs
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  mkdirSync(join(rootfs, 'tmp'), { mode: 0o1777 });
  // Mount points, as every image has: a user-namespaced root (host uid
  // 100000) could not create them in a directory owned by host root.
  for (const d of ['proc', 'sys', 'dev']) mkdirSync(join(rootfs, d));
  mkdirSync(join(rootfs, 'etc'));
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n');
  writeFileSync(join(rootfs, 'etc', 'marker'), 'busybox-rootfs\n');
  copyFileSync(busybox, join(rootfs, 'bin', 'busybox'));
  chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
  const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout.split('\n');
  for (const a of applets) {
    if (a && a !== 'busybox' && !a.includes('/')) symlinkSync('busybox', join(rootfs, 'bin', a));
  }
  return { dir, rootfs, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------- cgroups

/**
 * Test cgroups, ONLY under /sys/fs/cgroup/<hierarchy>/tstop-test-<pid>.
 * Nothing else on the machine is ever written.
 */
export class TestCgroups {
  readonly parentName = `tstop-test-${process.pid}`;
  private created: string[] = [];

  constructor(private readonly root = '/sys/fs/cgroup') {}

  available(hierarchy: string): boolean {
    return existsSync(join(this.root, hierarchy, 'cgroup.procs'));
  }

  /** Create <hierarchy>/tstop-test-<pid>/<name>; returns its directory. */
  create(hierarchy: string, name: string): string {
    const parent = join(this.root, hierarchy, this.parentName);
    if (!existsSync(parent)) {
      mkdirSync(parent);
      this.created.push(parent);
    }
    const dir = join(parent, name);
    mkdirSync(dir);
    this.created.push(dir);
    return dir;
  }

  procs(dir: string): number[] {
    return readProc(join(dir, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
  }

  /** rmdir children first; a cgroup is busy until its processes are gone. */
  async cleanup(): Promise<void> {
    for (const dir of [...this.created].reverse()) {
      for (let attempt = 0; existsSync(dir); attempt++) {
        try {
          rmdirSync(dir);
        } catch (e) {
          if (attempt >= 100) throw e;
          await sleep(50);
        }
      }
    }
    this.created = [];
  }
}
