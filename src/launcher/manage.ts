// tstop ps / stop / rm, and the clean-up behind them: a container whose
// helper is gone while its state still says running (tstop or the helper was
// killed, or a detached container ended) is recorded as exited, with the
// exit code from its report file when there is one, and its cgroup removed;
// with --rm it is removed altogether.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cgroupDir, creationHierarchies } from '../cgroupfs/create.js';
import { detectCgroupMounts, type CgroupMounts } from '../cgroupfs/mounts.js';
import { renderTable } from '../util/format.js';
import { cgroupExists, cgroupPids, destroyCgroup, oomKills } from './cgroup.js';
import { releaseNetwork, sweepLeases } from './network/index.js';
import { reportFailure } from './report.js';
import {
  alive,
  LaunchError,
  listNames,
  NAME_RE,
  processStart,
  processStartMs,
  readReport,
  reportPath,
  stopFlagPath,
  readState,
  removeStateFiles,
  runDir,
  runParent,
  writeState,
  type ContainerState,
} from './state.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether the container still runs: its helper (the container's parent) is alive. */
export function isRunning(st: ContainerState): boolean {
  return st.status !== 'exited' && alive(st.helper);
}

/**
 * Brings one container's state in line with reality; returns the state, or
 * null when there is none (any more). Leaves a container alone while its
 * helper lives, or while the foreground tstop that owns it is still there
 * (it records the end itself).
 */
export async function reconcile(dir: string, name: string, mounts: CgroupMounts): Promise<ContainerState | null> {
  const st = readState(dir, name);
  if (st === null) return null;
  if (st.status === 'exited') {
    if (cgroupExists(mounts, st.cgroup) && cgroupPids(mounts, st.cgroup).length === 0) {
      await destroyCgroup(mounts, st.cgroup).catch(() => undefined);
    }
    await releaseNetwork(dir, name);
    return st;
  }
  if (alive(st.helper)) {
    if (st.detached && refreshFromReport(dir, st)) writeState(dir, st);
    return st;
  }
  if (alive(st.owner)) return st;
  const report = readReport(dir, name);
  const oom = oomKills(mounts, st.cgroup);
  let error: string | null;
  if (st.helper === null) error = 'tstop was stopped before the container started';
  else if (report.error !== null) error = report.error;
  else if (report.exit !== null) error = null;
  else if (st.detached) error = 'tstop-helper was killed; the container died with it';
  else error = 'tstop was killed while the container ran; its exit code is unknown';
  await destroyCgroup(mounts, st.cgroup, { kill: true }).catch((err: Error) => {
    error = `${error ? `${error}; ` : ''}${err.message}`;
  });
  for (const problem of await releaseNetwork(dir, name)) error = `${error ? `${error}; ` : ''}${problem}`;
  if (st.autoRemove) {
    removeStateFiles(dir, name);
    return null;
  }
  const done: ContainerState = {
    ...st,
    restartCount: report.restarts,
    restarting: false,
    status: 'exited',
    exitCode: report.exit,
    error,
    oomKills: oom,
    finished: new Date().toISOString(),
  };
  writeState(dir, done);
  return done;
}

/**
 * A running detached container's state from its helper's report: the pid of
 * the workload's latest start (its start time as `started`), the restart
 * count, and while a restart waits its last exit. Returns whether it changed.
 */
function refreshFromReport(dir: string, st: ContainerState): boolean {
  const r = readReport(dir, st.name);
  const before = JSON.stringify(st);
  if (r.pid !== null && r.pid !== st.pid) {
    const restarted = st.pid !== null;
    st.pid = r.pid;
    st.pidStart = processStart(r.pid);
    const startMs = st.pidStart === null ? null : processStartMs(st.pidStart);
    if (restarted) st.started = new Date(startMs ?? Date.now()).toISOString();
  }
  st.restartCount = r.restarts;
  st.restarting = r.restarting;
  if (r.restarting) {
    st.exitCode = r.exit;
    st.finished = reportTime(dir, st.name);
  } else if (st.status === 'running') {
    st.exitCode = null;
    st.finished = null;
  }
  return JSON.stringify(st) !== before;
}

/** When the helper last wrote its report (for a restarting container: the workload's exit). */
function reportTime(dir: string, name: string): string | null {
  try {
    return fs.statSync(reportPath(dir, name)).mtime.toISOString();
  } catch {
    return null;
  }
}

/** Reconciles every container, and removes empty cgroups under the parent that no state file claims. */
export async function reconcileAll(dir: string, mounts: CgroupMounts, parent: string): Promise<ContainerState[]> {
  const names = listNames(dir);
  const out: ContainerState[] = [];
  for (const n of names) {
    const st = await reconcile(dir, n, mounts);
    if (st) out.push(st);
  }
  const live = new Set(out.filter((s) => s.status !== 'exited').map((s) => s.name));
  await sweepLeases(dir, (name) => live.has(name));
  const claimed = new Set(out.map((s) => s.cgroup));
  const seen = new Set<string>();
  for (const h of creationHierarchies(mounts)) {
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(cgroupDir(h, parent), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (!e.isDirectory() || !NAME_RE.test(e.name)) continue;
      const cg = `${parent}/${e.name}`;
      if (claimed.has(cg) || seen.has(cg)) continue;
      seen.add(cg);
      // A state file may appear meanwhile (a run between reserving and creating): look again.
      if (fs.existsSync(path.join(dir, `${e.name}.json`))) continue;
      if (cgroupPids(mounts, cg).length === 0) await destroyCgroup(mounts, cg).catch(() => undefined);
    }
  }
  return out;
}

function ago(iso: string | null, now: number): string {
  if (iso === null) return '?';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} hour${h === 1 ? '' : 's'}`;
  const d = Math.round(h / 24);
  return `${d} days`;
}

export function statusText(st: ContainerState, now = Date.now()): string {
  if (st.status === 'created') return 'Created';
  const n = st.restartCount ?? 0;
  const restarts = n > 0 ? `, ${n} restart${n === 1 ? '' : 's'}` : '';
  const code = st.exitCode === null ? '?' : String(st.exitCode);
  if (st.status === 'running' && st.restarting) return `Restarting (${code}) ${ago(st.finished, now)} ago${restarts}`;
  if (st.status === 'running') return `Up ${ago(st.started, now)}${restarts}`;
  const oom = st.oomKills ? `, ${st.oomKills} OOM kill${st.oomKills === 1 ? '' : 's'}` : '';
  return `Exited (${code}${oom}) ${ago(st.finished, now)} ago${restarts}`;
}

/** The limits as typed, in docker's flag words ("memory 64m, cpus 0.5, pids 10"). */
export function limitsText(st: ContainerState): string {
  const l = st.limits;
  const parts: string[] = [];
  const add = (label: string, v: string | string[] | undefined): void => {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) return;
    parts.push(`${label} ${Array.isArray(v) ? v.join(',') : v}`);
  };
  add('memory', l.memory);
  add('swap', l.memorySwap);
  add('reservation', l.memoryReservation);
  add('memory-high', l.memoryHigh);
  add('cpus', l.cpus);
  add('shares', l.cpuShares);
  add('weight', l.cpuWeight);
  add('cpuset', l.cpusetCpus);
  add('mems', l.cpusetMems);
  add('pids', l.pidsLimit);
  add('blkio-weight', l.blkioWeight);
  add('read-bps', l.deviceReadBps);
  add('write-bps', l.deviceWriteBps);
  add('read-iops', l.deviceReadIops);
  add('write-iops', l.deviceWriteIops);
  add('device-allow', l.deviceAllow);
  add('device-deny', l.deviceDeny);
  return parts.length > 0 ? parts.join(', ') : '-';
}

function commandText(argv: string[]): string {
  const s = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

export interface PsOptions {
  all: boolean;
  json: boolean;
  quiet: boolean;
}

/** `tstop ps`: the containers tstop started, reconciled with what still runs. */
export async function printContainers(opts: PsOptions): Promise<number> {
  try {
    const dir = runDir();
    const mounts = detectCgroupMounts('/');
    const all = await reconcileAll(dir, mounts, runParent());
    const shown = opts.all ? all : all.filter((s) => s.status !== 'exited');
    if (opts.json) {
      process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
    } else if (opts.quiet) {
      process.stdout.write(shown.map((s) => `${s.name}\n`).join(''));
    } else {
      const now = Date.now();
      const rows = shown.map((s) => [
        s.name,
        s.status === 'exited' || s.pid === null ? '-' : String(s.pid),
        statusText(s, now),
        limitsText(s),
        commandText(s.command),
      ]);
      process.stdout.write(renderTable(['NAME', 'PID', 'STATUS', 'LIMITS', 'COMMAND'], rows, [false, true]));
    }
    return 0;
  } catch (err) {
    return reportFailure('ps', err);
  }
}

/** The state of a tstop container by name (the name is also its id); not found: LaunchError(notFoundExitCode). */
export function lookup(dir: string, ref: string, notFoundExitCode = 125): ContainerState {
  if (!NAME_RE.test(ref)) throw new LaunchError(`'${ref}' is not a container name`, 2);
  const st = readState(dir, ref);
  if (st !== null) return st;
  // A unique prefix, as docker accepts for ids.
  const matches = listNames(dir).filter((n) => n.startsWith(ref));
  if (matches.length === 1) {
    const m = readState(dir, matches[0]);
    if (m) return m;
  }
  if (matches.length > 1) {
    throw new LaunchError(`'${ref}' is ambiguous: ${matches.slice(0, 10).join(', ')}; give the whole name`);
  }
  throw new LaunchError(`no tstop container '${ref}' (tstop ps -a lists them)`, notFoundExitCode);
}

async function waitGone(st: ContainerState, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(st.helper)) {
    if (Date.now() >= deadline) return false;
    await sleep(10);
  }
  return true;
}

function signalPid1(st: ContainerState, signal: number): void {
  if (st.pid === null || !alive(st.pidStart === null ? null : { pid: st.pid, start: st.pidStart })) return;
  try {
    process.kill(st.pid, signal);
  } catch {
    // gone meanwhile
  }
}

/** Tells a detached helper not to restart the workload (native/src/supervisor.c looks for the file). */
function requestStop(dir: string, st: ContainerState): void {
  if (!st.detached) return;
  const { O_WRONLY, O_CREAT, O_NOFOLLOW } = fs.constants;
  fs.closeSync(fs.openSync(stopFlagPath(dir, st.name), O_WRONLY | O_CREAT | O_NOFOLLOW, 0o600));
}

/**
 * The signal to PID 1, and again to a PID 1 the helper started meanwhile
 * (a restart just before the stop flag existed); true once the helper is gone.
 */
async function signalUntilGone(dir: string, st: ContainerState, signal: number, ms: number): Promise<boolean> {
  signalPid1(st, signal);
  const deadline = Date.now() + ms;
  while (alive(st.helper)) {
    if (Date.now() >= deadline) return false;
    await sleep(10);
    const pid = st.detached ? readReport(dir, st.name).pid : null;
    if (pid !== null && pid !== st.pid) {
      st.pid = pid;
      st.pidStart = processStart(pid);
      signalPid1(st, signal);
    }
  }
  return true;
}

/** SIGKILL to PID 1 (its PID namespace dies with it), and to anything left in the cgroup. */
async function kill(st: ContainerState, mounts: CgroupMounts): Promise<void> {
  signalPid1(st, os.constants.signals.SIGKILL);
  if (!(await waitGone(st, 5_000))) {
    for (const pid of cgroupPids(mounts, st.cgroup)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (st.helper) {
      try {
        process.kill(st.helper.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await waitGone(st, 5_000);
  }
}

/** Waits for a foreground `tstop run` to record the end (it removes the cgroup and writes the state). */
async function waitOwner(st: ContainerState): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (alive(st.owner) && Date.now() < deadline) await sleep(10);
}

export interface StopOptions {
  /** Seconds to wait after the signal before SIGKILL. */
  timeoutSeconds: number;
  signal: number;
}

/** `tstop stop`: the signal to PID 1, SIGKILL after the timeout, then the clean-up. */
export async function stopContainers(refs: string[], opts: StopOptions): Promise<number> {
  let code = 0;
  const dir = runDir();
  const mounts = detectCgroupMounts('/');
  for (const ref of refs) {
    try {
      let st = lookup(dir, ref);
      st = (await reconcile(dir, st.name, mounts)) ?? st; // the pid of the latest restart
      if (isRunning(st)) {
        requestStop(dir, st);
        if (!(await signalUntilGone(dir, st, opts.signal, opts.timeoutSeconds * 1000))) await kill(st, mounts);
        await waitOwner(st);
      }
      await reconcile(dir, st.name, mounts);
      process.stdout.write(`${st.name}\n`);
    } catch (err) {
      code = reportFailure('stop', err);
    }
  }
  return code;
}

/** `tstop rm`: the cgroup and the state files of exited containers (running ones too with force). */
export async function removeContainers(refs: string[], opts: { force: boolean }): Promise<number> {
  let code = 0;
  const dir = runDir();
  const mounts = detectCgroupMounts('/');
  for (const ref of refs) {
    try {
      let st = lookup(dir, ref);
      st = (await reconcile(dir, st.name, mounts)) ?? st;
      if (st.status !== 'exited' && (alive(st.helper) || alive(st.owner))) {
        if (!opts.force) {
          throw new LaunchError(`container '${st.name}' is running: stop it first (tstop stop ${st.name}) or use -f`);
        }
        requestStop(dir, st);
        await kill(st, mounts);
        await waitOwner(st);
      }
      await destroyCgroup(mounts, st.cgroup, { kill: true });
      const left = await releaseNetwork(dir, st.name);
      if (left.length > 0) throw new LaunchError(`container '${st.name}': network: ${left.join('; ')}`);
      removeStateFiles(dir, st.name);
      process.stdout.write(`${st.name}\n`);
    } catch (err) {
      code = reportFailure('rm', err);
    }
  }
  return code;
}

/** For tests and `tstop exec`: the state of a container by name, if tstop started it. */
export function findTstopContainer(ref: string, dir = runDir()): ContainerState | null {
  if (!NAME_RE.test(ref)) return null;
  const st = readState(dir, ref);
  if (st?.detached && st.status !== 'exited' && alive(st.helper)) refreshFromReport(dir, st); // after a restart
  return st;
}
