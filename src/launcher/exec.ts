// `tstop exec <container> CMD`: run a command inside a running container,
// tstop's own (by name) or any other runtime's (the limiter's references: a
// name, an id or a unique prefix, a cgroup path). The helper's exec mode
// joins the target's namespaces, root and cgroups, then forks so the command
// is inside the PID namespace too.

import fs from 'node:fs';
import os from 'node:os';
import type { CollectorOptions } from '../collect/collector.js';
import { detectCgroupMounts, type CgroupMounts, type Hierarchy } from '../cgroupfs/mounts.js';
import { LimitError } from '../limiter/api.js';
import { findTstopContainer, isRunning } from './manage.js';
import { buildEnv, DEFAULT_PATH, resolveUser } from './options.js';
import { reportFailure } from './report.js';
import { spawnHelper } from './spawn.js';
import { loadSeccomp, seccompCacheDir } from './seccomp.js';
import { capabilitiesFromMask, capabilityNumber, type CompiledSeccomp, type ExecSpec, type Rlimit } from './spec.js';
import { LaunchError, NAME_RE, runDir } from './state.js';
import path from 'node:path';

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** What the container's own processes run with; `tstop exec` enters with the same. */
export interface ExecTarget {
  pid: number;
  /** The container's cgroup path (for messages). */
  cgroup: string;
  capabilities: number[];
  noNewPrivs: boolean;
  /** The filter as loaded at run time; null: unconfined. */
  seccomp: CompiledSeccomp | null;
  /** Supplementary groups of the target process (used without -u). */
  groups: number[];
  oomScoreAdj: number | undefined;
  rlimits: Rlimit[];
}

/** Fields of /proc/<pid>/status, or an empty map if it is gone. */
function procStatus(pid: number): Map<string, string> {
  const out = new Map<string, string>();
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1).trim());
    }
  } catch {
    // gone: the helper's own open of /proc/<pid>/ns reports it
  }
  return out;
}

function readOomScoreAdj(pid: number): number | undefined {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

const groupsOf = (status: Map<string, string>): number[] =>
  (status.get('Groups') ?? '').split(/\s+/).filter(Boolean).map(Number);

function readPids(file: string): number[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The last NSpid of a process is 1 when it is the init of its PID namespace. */
function isNamespaceInit(pid: number): boolean {
  try {
    const line = fs
      .readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('NSpid:'));
    const ids = line?.slice(6).trim().split(/\s+/) ?? [];
    return ids.length > 1 && ids[ids.length - 1] === '1';
  } catch {
    return false;
  }
}

/** A process of a cgroup to enter by: its PID namespace's init if one is there, else the lowest pid. */
export function pickPid(mounts: CgroupMounts, cgroupId: string): number | null {
  const hierarchies = [
    ...mounts.hierarchies.filter((h) => h.kind === 'v1' && h.controllers.includes('memory')),
    ...(mounts.unified ? [mounts.unified] : []),
    ...mounts.hierarchies.filter((h) => h.kind === 'v1'),
  ];
  for (const h of hierarchies) {
    const pids = readPids(path.join(h.mountPoint, cgroupId, 'cgroup.procs')).sort((a, b) => a - b);
    if (pids.length === 0) continue;
    return pids.find(isNamespaceInit) ?? pids[0];
  }
  return null;
}

/** The hierarchy a /proc/<pid>/cgroup line names: "" is v2, "name=systemd" a named v1 one, else v1 controllers. */
function hierarchyOf(hierarchies: readonly Hierarchy[], list: string): Hierarchy | undefined {
  if (list === '') return hierarchies.find((h) => h.kind === 'v2');
  const named = /(?:^|,)name=([^,]+)/.exec(list)?.[1];
  const controllers = list
    .split(',')
    .filter((c) => !c.startsWith('name='))
    .sort()
    .join(',');
  return hierarchies.find(
    (h) =>
      h.kind === 'v1' && (h.name ?? null) === (named ?? null) && [...h.controllers].sort().join(',') === controllers,
  );
}

/** hierarchy -> cgroup path, from /proc/<pid>/cgroup. */
function cgroupLines(pid: number | 'self'): Array<[string, string]> {
  try {
    return fs
      .readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .map((l) => /^\d+:([^:]*):(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]);
  } catch {
    return [];
  }
}

/**
 * cgroup.procs files of the target process's cgroups in every mounted
 * hierarchy, named v1 ones (name=systemd) included, so an exec'd process is
 * where the container's own processes are. Hierarchies where we already are
 * in the same cgroup are left alone, and a root cgroup is never joined.
 */
export function targetCgroupProcs(mounts: CgroupMounts, pid: number): string[] {
  const own = new Map(cgroupLines('self'));
  const out: string[] = [];
  for (const [list, cgroupPath] of cgroupLines(pid)) {
    const h = hierarchyOf(mounts.hierarchies, list);
    if (!h || own.get(list) === cgroupPath) continue;
    let rel = cgroupPath;
    if (h.mountRoot !== '/') {
      if (!rel.startsWith(h.mountRoot)) continue;
      rel = rel.slice(h.mountRoot.length) || '/';
    }
    if (rel === '/' || rel.includes('/../') || rel.endsWith('/..')) continue; // never the root cgroup
    out.push(path.join(h.mountPoint, rel, 'cgroup.procs'));
  }
  return out;
}

/** The environment of a process (NUL-separated /proc/<pid>/environ), or null if unreadable. */
function processEnv(pid: number): Record<string, string> | null {
  let raw: string;
  try {
    raw = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return null;
  }
  const env: Record<string, string> = {};
  for (const kv of raw.split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

export async function resolveTarget(
  ref: string,
  mounts: CgroupMounts,
  collector?: CollectorOptions,
): Promise<ExecTarget> {
  if (NAME_RE.test(ref)) {
    const st = findTstopContainer(ref);
    if (st !== null) {
      if (!isRunning(st) || st.pid === null) throw new LaunchError(`container '${ref}' is not running`);
      if (st.restarting) throw new LaunchError(`container '${ref}' is restarting: wait until it runs`);
      return {
        pid: st.pid,
        cgroup: st.cgroup,
        capabilities: st.capabilities,
        noNewPrivs: st.noNewPrivs,
        // A state file of an older tstop has no seccomp field: its container runs without a filter.
        seccomp: st.seccomp ?? null,
        groups: groupsOf(procStatus(st.pid)),
        oomScoreAdj: st.oomScoreAdj ?? readOomScoreAdj(st.pid),
        rlimits: st.rlimits ?? [],
      };
    }
  }
  const { CgroupLimiter } = await import('../limiter/limiter.js');
  const c = new CgroupLimiter({ mounts, collector }).resolve(ref);
  const pid = pickPid(mounts, c.id);
  if (pid === null) throw new LaunchError(`container '${ref}' (${c.id}) has no processes to enter by`);
  return foreignTarget(pid, c.id);
}

/**
 * Another runtime's container: what its process shows in /proc. The
 * bounding set is the container's capability set; a process under a
 * seccomp filter (Seccomp: 2) gets tstop's default profile, since the
 * kernel does not show the filter itself.
 */
export function foreignTarget(pid: number, cgroup: string): ExecTarget {
  const status = procStatus(pid);
  const bounding = status.get('CapBnd');
  const capabilities = bounding ? capabilitiesFromMask(bounding).map(capabilityNumber) : [];
  return {
    pid,
    cgroup,
    capabilities,
    noNewPrivs: status.get('NoNewPrivs') !== '0',
    seccomp: status.get('Seccomp') === '0' ? null : loadSeccomp(undefined, capabilities),
    groups: groupsOf(status),
    oomScoreAdj: readOomScoreAdj(pid),
    rlimits: [],
  };
}

export interface ExecOptions {
  /** -e as given (checked by parseEnvFlags). */
  env: string[];
  workdir: string | undefined;
  user: string | undefined;
  interactive: boolean;
  tty: boolean;
  /** Where the runtimes' state is (--docker-root and friends), to find containers by name. */
  collector?: CollectorOptions;
}

/** `tstop exec`: argv in the container `ref`, with its namespaces, root and cgroups. */
export async function execInContainer(ref: string, argv: string[], opts: ExecOptions): Promise<number> {
  const { workdir, interactive, tty } = opts;
  try {
    const mounts = detectCgroupMounts('/');
    const target = await resolveTarget(ref, mounts, opts.collector);
    const root = `/proc/${target.pid}/root`;
    const userFlag = opts.user;
    // Names are looked up inside the container's root (never through its symlinks onto the host, never a FIFO).
    const readEtc =
      userFlag !== undefined && !/^\d+(:\d+)?$/.test(userFlag)
        ? (await import('./root-files.js')).rootFileReader(root)
        : undefined;
    const user = resolveUser(userFlag, root, readEtc);
    const base = processEnv(target.pid) ?? { PATH: DEFAULT_PATH };
    if (tty) base.TERM ??= 'xterm';
    const spec: ExecSpec = {
      mode: 'exec',
      pid: target.pid,
      argv,
      env: buildEnv(base, opts.env),
      ...(workdir !== undefined ? { cwd: workdir } : {}),
      // Without -u: root, with the container's supplementary groups (as its own processes have).
      user: user ?? { uid: 0, gid: 0, groups: target.groups },
      capabilities: target.capabilities,
      noNewPrivs: target.noNewPrivs,
      seccomp: target.seccomp,
      ...(target.seccomp ? { seccompCache: seccompCacheDir(runDir()) } : {}), // the program tstop run generated
      ...(target.oomScoreAdj !== undefined ? { oomScoreAdj: target.oomScoreAdj } : {}),
      rlimits: target.rlimits,
      tty,
      cgroupProcs: targetCgroupProcs(mounts, target.pid),
    };
    const h = spawnHelper(spec, {
      stdio: [interactive || tty ? 'inherit' : 'ignore', 'inherit', 'inherit'],
      env: process.env.TSTOP_HELPER_TRACE ? { TSTOP_HELPER_TRACE: '1' } : {},
    });
    const forward = (sig: NodeJS.Signals): void => {
      h.child.kill(sig);
    };
    for (const s of FORWARDED) process.on(s, forward);
    try {
      const exit = await h.exited;
      return exit.signal ? 128 + (os.constants.signals[exit.signal] ?? 0) : exit.code;
    } finally {
      for (const s of FORWARDED) process.off(s, forward);
    }
  } catch (err) {
    if (err instanceof LimitError) {
      process.stderr.write(`tstop: exec: ${err.message}\n`);
      return err.reason === 'not-found' || err.reason === 'ambiguous' ? 125 : 2;
    }
    return reportFailure('exec', err);
  }
}
