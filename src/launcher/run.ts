// `tstop run`: check everything, reserve the name (state file), create the
// cgroup and write its limits, hand the spec to native/build/tstop-helper,
// which creates the namespaces and execs the workload as PID 1 inside the
// cgroup; then wait, forward signals, record the end and remove the cgroup.
// With -d the helper runs in its own session, its output in <name>.log and
// its report lines in <name>.report, and tstop returns once it started.
//
// Only what run needs is imported here (no collectors, no prom-client, no
// blessed, no child_process until a helper is spawned): `tstop run` is
// measured against `node -e 0` (bench/launch.ts).

import fs from 'node:fs';
import os from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { detectCgroupMounts, type CgroupMounts } from '../cgroupfs/mounts.js';
import { containerCgroup, hasLimits, createCgroup, destroyCgroup, oomKills, type ContainerCgroup } from './cgroup.js';
import {
  applyDeviceRules,
  DEFAULT_DEVICE_RULES,
  nodeRecord,
  nodeRule,
  resolveDevice,
  type DeviceNode,
} from './devices.js';
import { execInPlace } from './exec-in-place.js';
import { helperBinaryPath, NET_FD } from './helper.js';
import { rootFileReader } from './root-files.js';
import { buildEnv, DEFAULT_PATH, resolveUser, type RunOptions } from './options.js';
import type { HelperExit } from './spawn.js';
import type { PreparedNetwork } from './network/index.js';
import { loadSeccomp, seccompCacheDir } from './seccomp.js';
import { serializeSpec, type Namespace, type RunSpec } from './spec.js';
import { restartText } from './restart.js';
import {
  LaunchError,
  logPath,
  processRefOf,
  readReport,
  readState,
  removeStateFiles,
  reportPath,
  reserveState,
  runDir,
  runParent,
  STATE_VERSION,
  stopFlagPath,
  writeState,
  type ContainerState,
} from './state.js';

/** Signals `tstop run` passes to the helper, which passes them to the container's PID 1. */
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Environment the helper itself gets (its debug knobs only; the workload's is in the spec). */
function helperEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const k of ['TSTOP_HELPER_TRACE', 'TSTOP_HELPER_NO_CLONE3']) if (env[k]) out[k] = env[k];
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * TSTOP_RUN_TRACE=1: `tstop-run-trace <CLOCK_MONOTONIC ns> <event>` lines on
 * stderr, the helper's clock and format (TSTOP_HELPER_TRACE), so
 * bench/launch.ts can split a launch into tstop's and the helper's phases.
 */
const TRACE = process.env.TSTOP_RUN_TRACE;
export function trace(event: string): void {
  // fs.writeSync: process.stderr's first use builds a stream (~4 ms when stderr is a pipe), which the stamps would count.
  if (TRACE === '1') fs.writeSync(2, `tstop-run-trace ${process.hrtime.bigint()} tstop ${event}\n`);
  // TSTOP_RUN_TRACE=cpu: this process's CPU time (user + system, µs) at each stamp.
  else if (TRACE === 'cpu') {
    const { user, system } = process.cpuUsage();
    fs.writeSync(2, `tstop-run-cpu ${user + system} tstop ${event}\n`);
  }
}
trace('run-module-loaded');

function checkPaths(opts: RunOptions): void {
  if (opts.rootfs !== null && !opts.image) {
    let st: fs.Stats;
    try {
      st = fs.statSync(opts.rootfs);
    } catch {
      throw new LaunchError(`--rootfs ${opts.rootfs}: no such directory`);
    }
    if (!st.isDirectory()) throw new LaunchError(`--rootfs ${opts.rootfs}: not a directory`);
  }
  for (const v of opts.volumes) {
    if (!fs.existsSync(v.source)) throw new LaunchError(`--volume ${v.source}:${v.target}: ${v.source} does not exist`);
  }
}

/** --device nodes looked up on the host; without a rootfs the container sees the host's /dev, so no other path. */
function resolveDevices(opts: RunOptions): DeviceNode[] {
  return opts.devices.map((req) => {
    if (opts.rootfs === null && req.containerPath !== req.hostPath) {
      throw new LaunchError(
        `--device ${req.hostPath}:${req.containerPath}: a path of its own in the container needs --rootfs`,
      );
    }
    const node = resolveDevice(req, (m) => new LaunchError(m));
    if (opts.rootfs !== null) nodeRecord(node); // checks the paths before anything exists
    return node;
  });
}

export function buildSpec(opts: RunOptions, cgroupProcs: string[]): RunSpec {
  const namespaces: Namespace[] = [];
  if (opts.userns) namespaces.push('user');
  namespaces.push('mnt', 'uts', 'ipc', 'pid', 'cgroup');
  if (opts.network === 'none' || opts.network === 'bridge') namespaces.push('net');
  // A rootfs's etc files are read inside it (./root-files.ts): its symlinks do not lead onto the host.
  const user = resolveUser(
    opts.user,
    opts.rootfs ?? '/',
    opts.rootfs !== null && opts.user !== undefined && !/^\d+(:\d+)?$/.test(opts.user)
      ? rootFileReader(opts.rootfs)
      : undefined,
  );
  const base: Record<string, string> = {
    PATH: DEFAULT_PATH,
    HOSTNAME: opts.hostname,
    HOME: (user?.uid ?? 0) === 0 ? '/root' : '/',
  };
  if (opts.tty) base.TERM = 'xterm';
  return {
    mode: 'run',
    argv: opts.argv,
    env: buildEnv(base, opts.env),
    ...(opts.workdir !== undefined ? { cwd: opts.workdir } : {}),
    ...(user ? { user } : {}),
    capabilities: opts.capabilities,
    noNewPrivs: opts.noNewPrivs,
    seccomp: loadSeccomp(opts.seccomp, opts.capabilities),
    oomScoreAdj: opts.oomScoreAdj,
    rlimits: opts.rlimits,
    tty: opts.tty,
    cgroupProcs,
    namespaces,
    hostname: opts.hostname,
    ...(opts.userns ? { uidMap: [opts.userns], gidMap: [opts.userns] } : {}),
    ...(opts.rootfs !== null ? { rootfs: opts.rootfs, readonlyRootfs: opts.readOnly, volumes: opts.volumes } : {}),
    init: opts.init,
  };
}

export function initialState(opts: RunOptions, cgroupPath: string, spec?: RunSpec): ContainerState {
  return {
    version: STATE_VERSION,
    name: opts.name,
    image: opts.rootfs,
    pid: null,
    pidStart: null,
    cgroup: cgroupPath,
    command: opts.argv,
    created: new Date().toISOString(),
    started: null,
    finished: null,
    status: 'created',
    exitCode: null,
    error: null,
    oomKills: null,
    limits: opts.limits,
    hostname: opts.hostname,
    network: opts.network,
    userns: opts.userns ? `${opts.userns.outside}:${opts.userns.count}` : null,
    capabilities: opts.capabilities,
    noNewPrivs: opts.noNewPrivs,
    seccomp: spec?.seccomp ?? null,
    oomScoreAdj: opts.oomScoreAdj,
    rlimits: opts.rlimits,
    init: opts.init,
    autoRemove: opts.rm,
    detached: opts.detach,
    helper: null,
    owner: opts.detach ? null : processRefOf('self'),
    restartPolicy: restartText(opts.restart),
    restartCount: 0,
  };
}

/** Reserves the name; a stale state under it (a dead container started with --rm) is cleaned first. */
async function reserve(dir: string, state: ContainerState, mounts: CgroupMounts): Promise<void> {
  try {
    reserveState(dir, state);
  } catch (err) {
    if (!(err instanceof LaunchError) || readState(dir, state.name) === null) throw err;
    const { reconcile } = await import('./manage.js');
    await reconcile(dir, state.name, mounts);
    reserveState(dir, state);
  }
}

export async function runContainer(given: RunOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const uid = process.getuid?.() ?? 0;
  // --image: its config applied to the options, the rootfs its overlay's mount point (./image/run.ts).
  const imageRun = given.image ? await import('./image/run.js') : null;
  const image = imageRun ? imageRun.imageLaunch(given, runDir(env), env) : null;
  const opts = image ? image.opts : given;
  if (uid !== 0 && opts.userns === null) {
    throw new LaunchError(
      'tstop run needs root: it creates namespaces and cgroups (rootless containers, --userns self without root, are not supported yet)',
    );
  }
  // The limiter's modules load only when there are limits (LimitError, exit 2, before anything exists).
  const limits = hasLimits(opts.limits) ? await import('./limits.js') : null;
  const parsedLimits = limits ? limits.checkLimits(opts.limits) : null;
  checkPaths(opts);
  const devices = resolveDevices(opts);
  const dir = runDir(env);
  const cgroupPath = containerCgroup(runParent(env), opts.name);
  trace('paths-devices');
  const spec = buildSpec(opts, []); // validates -u against the rootfs before anything exists
  trace('spec-built');
  if (spec.seccomp) spec.seccompCache = seccompCacheDir(dir);
  const mounts = detectCgroupMounts('/');
  if (opts.network.startsWith('container:')) {
    (await import('./network/index.js')).joinableContainer(dir, opts.network.slice('container:'.length));
  }
  trace('checked');
  const state = initialState(opts, cgroupPath, spec);
  if (image) Object.assign(state, { image: image.display, imageId: image.imageId });
  await reserve(dir, state, mounts);
  trace('state-reserved');

  let cg: ContainerCgroup | null = null;
  let network: PreparedNetwork | null = null;
  const undo = async (): Promise<void> => {
    if (cg) await destroyCgroup(mounts, cgroupPath, { kill: true }).catch(() => undefined);
    await network?.release().catch(() => undefined);
    removeStateFiles(dir, opts.name);
  };
  try {
    if (imageRun && image) spec.rootfsOverlay = imageRun.prepareOverlay(image, dir, opts.name, env);
    cg = createCgroup(mounts, cgroupPath);
    trace('cgroup-created');
    if (limits && parsedLimits) limits.applyLimits(mounts, cgroupPath, parsedLimits);
    trace('limits-written');
    const deviceRules = [...DEFAULT_DEVICE_RULES, ...opts.deviceRules, ...devices.map(nodeRule)];
    const filterCgroup = applyDeviceRules(mounts, cgroupPath, deviceRules);
    if (filterCgroup !== null) Object.assign(spec, { deviceCgroup: filterCgroup, deviceAllow: deviceRules });
    if (opts.rootfs !== null) spec.deviceNodes = devices.map(nodeRecord);
    trace('device-rules');
    network = await prepareNetwork(opts, dir, env);
    // First: a user's own -v onto /etc/hosts or /etc/resolv.conf is mounted later and wins, as in docker.
    if (network && network.volumes.length > 0) spec.volumes = [...network.volumes, ...(spec.volumes ?? [])];
    if (network?.eth0) Object.assign(spec, { netAddress: network.eth0.address, netGateway: network.eth0.gateway });
    trace('network-prepared');
  } catch (err) {
    await undo();
    throw err;
  }
  spec.cgroupProcs = cg.procs;
  // Returns only when this launch needs Node after the start (or cannot exec): then the spawned helper.
  if (!opts.detach && network === null && !image)
    await execInPlace(spec, opts, state, dir, mounts, helperEnv(env), undo, trace);
  if (opts.detach) return runDetached(spec, opts, state, dir, mounts, env, undo, network);
  return runForeground(spec, opts, state, dir, mounts, env, undo, network);
}

/** The network module loads only for a network beyond none/host (or /etc files to write). */
async function prepareNetwork(opts: RunOptions, dir: string, env: NodeJS.ProcessEnv): Promise<PreparedNetwork | null> {
  const req = opts.net ?? { mode: opts.network, publish: [], dns: [], addHosts: [] };
  if ((req.mode === 'none' || req.mode === 'host') && req.dns.length === 0 && req.addHosts.length === 0) return null;
  const { prepareNetwork: prepare } = await import('./network/index.js');
  return prepare(req, {
    name: opts.name,
    hostname: opts.hostname,
    rootfs: opts.rootfs,
    userns: opts.userns !== null,
    runDir: dir,
    env,
  });
}

/** eth0 set up while the child waits; the reason is printed here (the helper only says it was not). */
function attachOrSay(network: PreparedNetwork | null): ((pid: number) => Promise<void>) | undefined {
  const attach = network?.attach;
  if (!attach) return undefined;
  return async (pid) => {
    try {
      await attach(pid);
    } catch (err) {
      process.stderr.write(`tstop: run: network: ${(err as Error).message}\n`);
      throw err;
    }
  };
}

async function finish(
  state: ContainerState,
  dir: string,
  mounts: CgroupMounts,
  exit: { code: number | null; error: string | null },
): Promise<void> {
  state.oomKills = oomKills(mounts, state.cgroup);
  let cleanupError: string | null = null;
  try {
    await destroyCgroup(mounts, state.cgroup, { kill: true });
  } catch (err) {
    cleanupError = (err as Error).message;
  }
  if (state.autoRemove) removeStateFiles(dir, state.name);
  else {
    writeState(dir, {
      ...state,
      status: 'exited',
      exitCode: exit.code,
      error: exit.error,
      finished: new Date().toISOString(),
    });
  }
  if (cleanupError) process.stderr.write(`tstop: run: ${cleanupError}\n`);
}

async function runForeground(
  spec: RunSpec,
  opts: RunOptions,
  state: ContainerState,
  dir: string,
  mounts: CgroupMounts,
  env: NodeJS.ProcessEnv,
  undo: () => Promise<void>,
  network: PreparedNetwork | null,
): Promise<number> {
  const onNetns = attachOrSay(network);
  // child_process (with node:net, ~3 ms to load) only when tstop waits for its helper.
  const { spawnHelper } = await import('./spawn.js');
  const h = spawnHelper(spec, {
    stdio: [opts.interactive || opts.tty ? 'inherit' : 'ignore', 'inherit', 'inherit'],
    env: helperEnv(env),
    specFile: `${dir}/${state.name}.spec`,
    ...(network?.netnsFd != null ? { netnsFd: network.netnsFd } : {}),
    ...(onNetns ? { onNetns } : {}),
  });
  trace('helper-spawned');
  const forward = (sig: NodeJS.Signals): void => {
    h.child.kill(sig);
  };
  for (const s of FORWARDED) process.on(s, forward);
  state.helper = h.child.pid !== undefined ? processRefOf(h.child.pid) : null;
  let exit: HelperExit;
  try {
    const pid = await h.started.catch(() => null);
    if (pid !== null) {
      state.pid = pid;
      state.pidStart = processRefOf(pid)?.start ?? null;
      state.started = new Date().toISOString();
      state.status = 'running';
      trace('started');
      writeState(dir, state);
      trace('state-running');
    }
    exit = await h.exited;
    trace('helper-exited');
  } catch (err) {
    await undo();
    throw new LaunchError(`cannot start ${helperDescription()}: ${(err as Error).message}`);
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
  if (exit.origin === 'helper' && state.pid === null) {
    // Nothing ran: the helper said why on stderr. Leave no trace, as a failed docker run leaves a created container; we leave none.
    await undo();
    return exit.code;
  }
  const code = exit.signal ? 128 + (os.constants.signals[exit.signal] ?? 0) : exit.code;
  await network?.release().catch((err: Error) => process.stderr.write(`tstop: run: network: ${err.message}\n`));
  await finish(state, dir, mounts, {
    code,
    error: exit.signal ? `tstop-helper was killed by ${exit.signal}` : null,
  });
  trace('finished');
  return code;
}

/** The helper's netns=PID report line (--network bridge), once written. */
function reportedNetns(dir: string, name: string): number | null {
  try {
    const m = /^netns=(\d+)$/m.exec(fs.readFileSync(reportPath(dir, name), 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function helperDescription(): string {
  try {
    return helperBinaryPath();
  } catch (err) {
    return `tstop-helper (${(err as Error).message})`;
  }
}

async function runDetached(
  spec: RunSpec,
  opts: RunOptions,
  state: ContainerState,
  dir: string,
  mounts: CgroupMounts,
  env: NodeJS.ProcessEnv,
  undo: () => Promise<void>,
  network: PreparedNetwork | null,
): Promise<number> {
  const REPORT_FD = 4;
  const log = { path: logPath(dir, state.name), maxBytes: opts.log.maxBytes, maxFiles: opts.log.maxFiles };
  const restart =
    opts.restart.name === 'no'
      ? {}
      : {
          restart: {
            policy: opts.restart.name,
            maxRetries: opts.restart.maxRetries,
            stopFlag: stopFlagPath(dir, state.name),
          },
        };
  fs.rmSync(stopFlagPath(dir, state.name), { force: true }); // a stale one would end the restarts at once

  const onNetns = attachOrSay(network);
  const netFd = network?.netnsFd ?? null;
  const net = netFd !== null ? { netnsFd: NET_FD } : onNetns ? { netWaitFd: NET_FD } : {};
  const buf = serializeSpec({ ...spec, ...net, reportFd: REPORT_FD, log, ...restart });
  const early = fs.openSync(logPath(dir, state.name), 'a', 0o640); // the helper's own words until its logger runs
  const report = fs.openSync(reportPath(dir, state.name), 'w', 0o640);
  let helperPath: string;
  try {
    helperPath = helperBinaryPath();
  } catch (err) {
    await undo();
    throw new LaunchError((err as Error).message);
  }
  // Its own session: the terminal's signals and hang-up do not reach it; it
  // outlives tstop and stays the container's parent.
  const { spawn } = await import('./spawn.js');
  const child = spawn(helperPath, [], {
    detached: true,
    stdio: ['ignore', early, early, 'pipe', report, ...(netFd !== null ? [netFd] : onNetns ? ['pipe' as const] : [])],
    env: helperEnv(env),
  });
  fs.closeSync(early);
  fs.closeSync(report);
  (child.stdio[3] as Writable).end(buf);
  let exited: number | null = null;
  child.on('exit', (code, signal) => {
    exited = code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0);
  });
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));
  let failed: Error | null = null;
  void spawnError.then((e) => (failed = e));
  state.helper = child.pid !== undefined ? processRefOf(child.pid) : null;

  const deadline = Date.now() + 30_000;
  let attaching = false;
  const netPipe = (child.stdio as unknown as Array<Writable | null>)[NET_FD] ?? null;
  netPipe?.on('error', () => undefined);
  for (;;) {
    const netnsPid = onNetns && !attaching ? reportedNetns(dir, state.name) : null;
    if (onNetns && netnsPid !== null) {
      attaching = true;
      onNetns(netnsPid).then(
        () => netPipe?.end('1'),
        () => netPipe?.destroy(),
      );
    }
    const r = readReport(dir, state.name);
    if (r.pid !== null) {
      state.pid = r.pid;
      state.pidStart = processRefOf(r.pid)?.start ?? null;
      state.started = new Date().toISOString();
      state.status = 'running';
      writeState(dir, state);
      break;
    }
    const why =
      r.error ??
      (failed ? `cannot start ${helperPath}: ${(failed as Error).message}` : null) ??
      (exited !== null ? `tstop-helper exited with ${exited} before the workload started` : null) ??
      (Date.now() > deadline ? 'the workload did not start within 30 s' : null);
    if (why !== null) {
      child.kill('SIGKILL');
      await undo();
      throw new LaunchError(why, exited !== null && exited >= 125 && exited <= 127 ? exited : 125);
    }
    await sleep(2);
  }
  child.unref();
  (child.stdio[3] as Readable | Writable | null)?.destroy();
  if (netPipe && !netPipe.writableFinished) await new Promise((r) => netPipe.once('finish', r).once('close', r));
  netPipe?.destroy();
  process.stdout.write(`${state.name}\n`);
  void mounts;
  return 0;
}
