// A foreground `tstop run` ends by becoming its helper: once everything is
// prepared (checks, state file, cgroup, limits, devices), tstop execs
// native/build/tstop-helper in its own place (native/exec/exec.c, an execve
// Node 20 lacks) instead of spawning it and waiting. The helper then owns
// the container (native/src/owner.c): it writes the running and the exited
// state, removes the cgroup, honours --rm, and its exit code is the
// workload's. Node thereby skips the spawn, the wait in its event loop and
// its own exit: ~20 ms of CPU per launch (docs/benchmarks.md, "Launcher").
//
// Only for what needs nothing of Node after the start: no network to
// release, no image overlay. Only when the process is the CLI itself
// (bin/tstop: allowExecInPlace), never inside tests that call runContainer.

import fs from 'node:fs';
import os from 'node:os';
import { oomKillsFile } from './cgroup.js';
import type { CgroupMounts } from '../cgroupfs/mounts.js';
import { helperBinaryPath, loadExecAddon } from './helper.js';
import type { RunOptions } from './options.js';
import { serializeSpec, type RunSpec } from './spec.js';
import {
  LaunchError,
  logPath,
  processRefOf,
  reportPath,
  statePath,
  stopFlagPath,
  type ContainerState,
} from './state.js';

let allowed = false;

/** bin/tstop's entry: this process is the CLI, and may become the helper. */
export function allowExecInPlace(): void {
  allowed = true;
}

/** The state as JSON up to the fields the helper writes (native/src/owner.c), without the closing brace. */
export function ownerStateJson(state: ContainerState): string {
  const {
    pid: _pid,
    pidStart: _pidStart,
    started: _started,
    finished: _finished,
    status: _status,
    exitCode: _exitCode,
    error: _error,
    oomKills: _oomKills,
    ...kept
  } = state;
  return JSON.stringify(kept).slice(0, -1);
}

/**
 * Execs the helper for a prepared foreground container (the caller, run.ts,
 * picks which launches qualify). Returns when this process may not or
 * cannot (the caller spawns the helper instead); throws after `undo` when
 * the exec itself failed; does not return otherwise.
 */
export async function execInPlace(
  spec: RunSpec,
  opts: RunOptions,
  state: ContainerState,
  dir: string,
  mounts: CgroupMounts,
  helperEnv: NodeJS.ProcessEnv,
  undo: () => Promise<void>,
  trace: (event: string) => void,
): Promise<void> {
  if (!allowed) return;
  let helperPath: string;
  try {
    helperPath = helperBinaryPath();
  } catch {
    return; // the spawn path says why
  }
  trace('helper-found');
  const addon = loadExecAddon(helperPath);
  trace('addon-loaded');
  if (addon === null) return;
  state.helper = processRefOf('self'); // the same process from here on
  const owned: RunSpec = {
    ...spec,
    owner: {
      stateFile: statePath(dir, state.name),
      stateJson: ownerStateJson(state),
      oomFile: oomKillsFile(mounts, state.cgroup),
      remove: [logPath(dir, state.name), reportPath(dir, state.name), stopFlagPath(dir, state.name)],
      autoRemove: opts.rm,
      stdinNull: !(opts.interactive || opts.tty),
    },
  };
  trace('owner-spec');
  let fd = -1;
  let errno: number;
  try {
    const buf = serializeSpec(owned);
    trace('spec-serialized');
    const specFile = `${dir}/${state.name}.spec`;
    fd = fs.openSync(specFile, 'wx+', 0o600);
    fs.unlinkSync(specFile);
    fs.writeSync(fd, buf, 0, buf.length, 0);
    const env = Object.entries(helperEnv).map(([k, v]) => `${k}=${v ?? ''}`);
    (process as NodeJS.EventEmitter).emit('tstop-before-exec'); // bin/tstop-launch.cjs writes its code caches now: no exit event follows
    trace('exec');
    // From its sealed memfd copy at once: the helper, finding the seals, does not re-exec itself.
    errno = addon.exec(helperPath, ['tstop-helper', '--spec-fd', String(fd)], env, fd, 'tstop-helper');
  } catch (err) {
    if (fd >= 0) fs.closeSync(fd);
    await undo();
    throw err;
  }
  fs.closeSync(fd);
  await undo();
  const name = Object.entries(os.constants.errno).find(([, n]) => n === errno)?.[0] ?? `errno ${errno}`;
  throw new LaunchError(`cannot start ${helperPath}: execve: ${name}`);
}
