// `tstop exec <container> CMD`: run a command inside a running container,
// tstop's own (by name) or any other runtime's (the limiter's references: a
// name, an id or a unique prefix, a cgroup path). The helper's exec mode
// joins the target's namespaces, root and cgroups, then forks so the command
// is inside the PID namespace too.

import fs from 'node:fs';
import os from 'node:os';
import { stringFlag, listFlag, UsageError, type ParsedFlags } from '../cli/command.js';
import { creationHierarchies } from '../cgroupfs/create.js';
import type { CollectorOptions } from '../collect/collector.js';
import { detectCgroupMounts, type CgroupMounts, type Hierarchy } from '../cgroupfs/mounts.js';
import { LimitError } from '../limiter/api.js';
import { isRunning } from './manage.js';
import { buildEnv, DEFAULT_PATH, parseEnvFlags, resolveUser } from './options.js';
import { reportFailure } from './run.js';
import { spawnHelper } from './spawn.js';
import { resolveCapabilities, type ExecSpec } from './spec.js';
import { LaunchError, NAME_RE, readState, runDir } from './state.js';
import path from 'node:path';

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export interface ExecTarget {
  pid: number;
  /** The container's cgroup path (for messages). */
  cgroup: string;
  capabilities: number[];
  noNewPrivs: boolean;
}

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

function sameControllers(h: Hierarchy, list: string): boolean {
  const want = list
    .split(',')
    .filter((c) => !c.startsWith('name='))
    .sort()
    .join(',');
  return h.kind === 'v1' && [...h.controllers].sort().join(',') === want && want !== '';
}

/** cgroup.procs files of the target process's own cgroups, in the hierarchies tstop creates cgroups in. */
export function targetCgroupProcs(mounts: CgroupMounts, pid: number): string[] {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return [];
  }
  const hierarchies = creationHierarchies(mounts);
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const h =
      m[1] === '' ? hierarchies.find((x) => x.kind === 'v2') : hierarchies.find((x) => sameControllers(x, m[1]));
    if (!h) continue;
    let rel = m[2];
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
    const st = readState(runDir(), ref);
    if (st !== null) {
      if (!isRunning(st) || st.pid === null) throw new LaunchError(`container '${ref}' is not running`);
      return { pid: st.pid, cgroup: st.cgroup, capabilities: st.capabilities, noNewPrivs: st.noNewPrivs };
    }
  }
  const { CgroupLimiter } = await import('../limiter/limiter.js');
  const c = new CgroupLimiter({ mounts, collector }).resolve(ref);
  const pid = pickPid(mounts, c.id);
  if (pid === null) throw new LaunchError(`container '${ref}' (${c.id}) has no processes to enter by`);
  return { pid, cgroup: c.id, capabilities: resolveCapabilities(), noNewPrivs: true };
}

/** `collector`: where the runtimes' state is (the CLI's --docker-root and friends), for names. */
export async function execCli(
  flags: ParsedFlags,
  positionals: string[],
  collector?: CollectorOptions,
): Promise<number> {
  const [ref, ...argv] = positionals;
  if (ref === undefined) throw new UsageError('give the container and the command (tstop exec <container> CMD)');
  if (argv.length === 0 || argv[0] === '') throw new UsageError('give the command to run in the container');
  const envFlags = parseEnvFlags(listFlag(flags, 'env'));
  const workdir = stringFlag(flags, 'workdir');
  if (workdir !== undefined && !path.isAbsolute(workdir)) {
    throw new UsageError(`--workdir '${workdir}': must be an absolute path`);
  }
  const interactive = flags.interactive === true;
  const tty = flags.tty === true;
  try {
    const mounts = detectCgroupMounts('/');
    const target = await resolveTarget(ref, mounts, collector);
    const user = resolveUser(stringFlag(flags, 'user'), `/proc/${target.pid}/root`);
    const base = processEnv(target.pid) ?? { PATH: DEFAULT_PATH };
    if (tty) base.TERM ??= 'xterm';
    const spec: ExecSpec = {
      mode: 'exec',
      pid: target.pid,
      argv,
      env: buildEnv(base, envFlags),
      ...(workdir !== undefined ? { cwd: workdir } : {}),
      ...(user ? { user } : {}),
      capabilities: target.capabilities,
      noNewPrivs: target.noNewPrivs,
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
