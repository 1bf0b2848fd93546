// The state of tstop's containers: one JSON file per container in the run
// directory (<runDir>/<name>.json, what src/discovery/runtimes/tstop.ts
// readTstopState reads for the dashboard and the exporter), plus, for a
// detached container, <name>.log (its stdout and stderr) and <name>.report
// (the helper's report lines: pid=, error=, exit=).
//
// The state file is the name's reservation: it is created with O_EXCL before
// anything else exists, so two `tstop run --name x` cannot both win. It is
// replaced atomically (write a temporary file, rename) on every change.

import fs from 'node:fs';
import path from 'node:path';
import type { LimitRequest } from '../limiter/api.js';
import { rotatedLogNames } from './logs.js';
import { ExpectedError } from '../util/errors.js';
import type { CompiledSeccomp, Rlimit } from './spec.js';

export const STATE_VERSION = 1;
export const DEFAULT_RUN_DIR = '/run/tstop';
/** The parent cgroup of tstop's containers, in every hierarchy. */
export const DEFAULT_PARENT = '/tstop';

export type ContainerStatus = 'created' | 'running' | 'exited';

/** A process identified by pid and start time (clock ticks since boot), so a reused pid is not mistaken for it. */
export interface ProcessRef {
  pid: number;
  start: number;
}

export interface ContainerState {
  version: number;
  name: string;
  /** The rootfs directory, or null for the host's root (the dashboard's "image" column); NAME:TAG with --image. */
  image: string | null;
  /** --image: the image id ("sha256:..."); tstop rmi refuses the image while a state names it. */
  imageId?: string;
  /** Host pid of the container's PID 1 (the workload, or tstop-init with --init); null until it started. */
  pid: number | null;
  pidStart: number | null;
  /** The cgroup path, the same in every hierarchy ("/tstop/web"). */
  cgroup: string;
  command: string[];
  /** ISO 8601 times. */
  created: string;
  started: string | null;
  finished: string | null;
  status: ContainerStatus;
  /** The workload's exit code (128+n for a signal); null while running or when unknown. */
  exitCode: number | null;
  /** Why the container ended outside the workload's own exit (tstop was killed, the helper failed). */
  error: string | null;
  /** OOM kills the cgroup counted, read when the container ended. */
  oomKills: number | null;
  /** The limits as typed (docker flag names). */
  limits: LimitRequest;
  hostname: string;
  /** --network as given (src/launcher/network/flags.ts NetworkMode). */
  network: 'none' | 'host' | 'bridge' | `container:${string}`;
  /** "100000:65536" when a user namespace maps root to that range; null without one. */
  userns: string | null;
  /** Capability numbers given to the workload (tstop exec gives the same). */
  capabilities: number[];
  noNewPrivs: boolean;
  /**
   * What `tstop exec` must apply to match the container's own processes:
   * the seccomp filter as loaded (null: unconfined), OOM score, rlimits.
   * Absent in state files of older tstop versions (exec then uses the defaults).
   */
  seccomp?: CompiledSeccomp | null;
  oomScoreAdj?: number;
  rlimits?: Rlimit[];
  init: boolean;
  /** --rm: remove the state (and cgroup) when the container ends. */
  autoRemove: boolean;
  detached: boolean;
  /** The helper: the container's parent on the host; if it dies the container dies. */
  helper: ProcessRef | null;
  /** The foreground `tstop run` that owns the container and will record its end; null when detached. */
  owner: ProcessRef | null;
  /** --restart as typed ("on-failure:3"); absent in older state files (no restarts). */
  restartPolicy?: string;
  /** Restarts the helper made (from its report); 0 without a policy. */
  restartCount?: number;
  /** Between a workload's exit and its restart (backoff). */
  restarting?: boolean;
}

export class LaunchError extends ExpectedError {
  constructor(message: string, exitCode = 125) {
    super(message, exitCode);
  }
}

/** Container names as docker allows them: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters here. */
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function runDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.TSTOP_RUN_DIR;
  if (dir === undefined || dir === '') return DEFAULT_RUN_DIR;
  if (!path.isAbsolute(dir)) throw new LaunchError(`TSTOP_RUN_DIR '${dir}' must be an absolute path`);
  return path.normalize(dir);
}

/** The parent cgroup of the containers: TSTOP_RUN_PARENT (tests use their own), else /tstop. */
export function runParent(env: NodeJS.ProcessEnv = process.env): string {
  const p = env.TSTOP_RUN_PARENT;
  if (p === undefined || p === '') return DEFAULT_PARENT;
  const segments = p.split('/').filter((x) => x !== '');
  if (
    !p.startsWith('/') ||
    segments.length === 0 ||
    segments.some((x) => x === '.' || x === '..' || /[\x00-\x1f]/.test(x))
  ) {
    throw new LaunchError(`TSTOP_RUN_PARENT '${p}' must be a cgroup path below the root, such as /tstop`);
  }
  return '/' + segments.join('/');
}

export function statePath(dir: string, name: string): string {
  return path.join(dir, `${name}.json`);
}
export function logPath(dir: string, name: string): string {
  return path.join(dir, `${name}.log`);
}
export function reportPath(dir: string, name: string): string {
  return path.join(dir, `${name}.report`);
}
/** Created by tstop stop / rm -f: the detached helper (native/src/supervisor.c) restarts no more. */
export function stopFlagPath(dir: string, name: string): string {
  return path.join(dir, `${name}.stop`);
}

function ensureDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new LaunchError(`cannot create the state directory ${dir}: ${(err as Error).message}`);
  }
}

/** Creates the state file, failing if the name is taken. */
export function reserveState(dir: string, state: ContainerState): void {
  ensureDir(dir);
  let fd: number;
  try {
    fd = fs.openSync(statePath(dir, state.name), 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new LaunchError(
        `the container name '${state.name}' is already in use (tstop ps -a lists it; tstop rm ${state.name} removes it)`,
      );
    }
    throw new LaunchError(`cannot create ${statePath(dir, state.name)}: ${(err as Error).message}`);
  }
  try {
    fs.writeSync(fd, JSON.stringify(state) + '\n');
  } finally {
    fs.closeSync(fd);
  }
}

/** Replaces the state file atomically. */
export function writeState(dir: string, state: ContainerState): void {
  const file = statePath(dir, state.name);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state) + '\n', { mode: 0o644 });
  fs.renameSync(tmp, file);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function processRef(v: unknown): ProcessRef | null {
  if (!isRecord(v) || typeof v.pid !== 'number' || typeof v.start !== 'number') return null;
  return { pid: v.pid, start: v.start };
}

/** A state file's content, or null when it is missing or not a tstop state. */
export function readState(dir: string, name: string): ContainerState | null {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(statePath(dir, name), 'utf8'));
  } catch {
    return null;
  }
  if (!isRecord(raw) || raw.name !== name || typeof raw.cgroup !== 'string') return null;
  const s = raw as unknown as ContainerState;
  return { ...s, helper: processRef(raw.helper), owner: processRef(raw.owner) };
}

/** Names of the containers with a state file, sorted. */
export function listNames(dir: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .filter((n) => NAME_RE.test(n))
    .sort();
}

export function removeStateFiles(dir: string, name: string): void {
  let rotated: string[] = [];
  try {
    rotated = rotatedLogNames(fs.readdirSync(dir), path.basename(logPath(dir, name))).map((f) => path.join(dir, f));
  } catch {
    // no run dir: nothing to remove
  }
  for (const f of [
    statePath(dir, name),
    logPath(dir, name),
    ...rotated,
    reportPath(dir, name),
    stopFlagPath(dir, name),
  ]) {
    fs.rmSync(f, { force: true });
  }
  // --image: the container's overlay upper and work directories (mounted only in its own namespace).
  fs.rmSync(path.join(dir, `${name}.fs`), { recursive: true, force: true });
}

/** Start time of a process (field 22 of /proc/<pid>/stat), or null when it does not exist. */
export function processStart(pid: number | 'self'): number | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]);
  return Number.isFinite(start) ? start : null;
}

/** A process start time (clock ticks since boot, as in ProcessRef) in epoch ms, from /proc/stat's btime; null when unknown. */
export function processStartMs(startTicks: number): number | null {
  let btime: number;
  try {
    btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1] ?? NaN);
  } catch {
    return null;
  }
  // USER_HZ is 100 on every Linux architecture's ABI.
  return Number.isFinite(btime) ? btime * 1000 + startTicks * 10 : null;
}

export function processRefOf(pid: number | 'self'): ProcessRef | null {
  const start = processStart(pid);
  if (start === null) return null;
  return { pid: pid === 'self' ? process.pid : pid, start };
}

/** Whether the process still exists (and is not a zombie) with the same start time. */
export function alive(ref: ProcessRef | null): boolean {
  if (ref === null) return false;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${ref.pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] !== 'Z' && fields[0] !== 'X' && Number(fields[19]) === ref.start;
}

export interface Report {
  /** The workload's pid of the last start. */
  pid: number | null;
  /** The last exit code. */
  exit: number | null;
  /** The last failure, unless a start followed it. */
  error: string | null;
  /** restart=K lines: restarts the helper scheduled. */
  restarts: number;
  /** The last line is a restart=: the workload is gone and its restart is waiting (backoff). */
  restarting: boolean;
}

/** The helper's report lines of a detached container (pid=, exit=, error=, restart=; native/src/supervisor.c). */
export function readReport(dir: string, name: string): Report {
  let text = '';
  try {
    text = fs.readFileSync(reportPath(dir, name), 'utf8');
  } catch {
    // no report: not detached, or the helper never started
  }
  let pid: number | null = null;
  let exit: number | null = null;
  let error: string | null = null;
  let restarts = 0;
  let restarting = false;
  for (const line of text.split('\n')) {
    const m = /^(pid|exit|error|restart)=(.*)$/.exec(line);
    if (!m) continue;
    restarting = false;
    if (m[1] === 'pid' && /^\d+$/.test(m[2])) {
      pid = Number(m[2]);
      error = null; // a restart that failed to start, then one that did
    } else if (m[1] === 'exit' && /^\d+$/.test(m[2])) exit = Number(m[2]);
    else if (m[1] === 'error') error = m[2];
    else if (m[1] === 'restart' && /^\d+$/.test(m[2])) {
      restarts = Number(m[2]);
      restarting = true;
    }
  }
  return { pid, exit, error, restarts, restarting };
}
