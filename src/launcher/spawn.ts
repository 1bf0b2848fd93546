/**
 * Spawn native/build/tstop-helper with a spec: the spec goes to the
 * helper's fd 3, report lines come back on fd 4.
 */
import { spawn, type ChildProcess, type IOType } from 'node:child_process';
import fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { exitOrigin, helperBinaryPath, NET_FD, parseReport, type ReportEvent } from './helper.js';
import { serializeSpec, type LauncherSpec } from './spec.js';

const REPORT_FD = 4;
export { NET_FD };
/** For the detached run (./run.ts), which loads child_process only through this module when it spawns. */
export { spawn };

export interface HelperExit {
  /** The helper's exit code (workload code, 128+signal, or 125-127). */
  code: number;
  /** Set if the helper itself was killed. */
  signal: NodeJS.Signals | null;
  origin: 'helper' | 'workload';
  /** The failing step, e.g. "pivot_root(/x): Invalid argument (EINVAL)". */
  error?: string;
  events: ReportEvent[];
}

export interface HelperProcess {
  child: ChildProcess;
  /** Host pid of the container's PID 1 once its exec succeeded. */
  started: Promise<number>;
  exited: Promise<HelperExit>;
}

export interface SpawnHelperOptions {
  /** stdin, stdout, stderr of the helper (and so of the workload). */
  stdio?: [IOType, IOType, IOType];
  /** The helper's own environment (not the workload's: that is spec.env). */
  env?: NodeJS.ProcessEnv;
  helperPath?: string;
  /**
   * A file to pass the spec through instead of a pipe (written, opened as
   * the helper's fd 3, and unlinked at once): the helper reads it the moment
   * it starts instead of waiting for Node to write a pipe after spawn
   * returns. `tstop run` uses it; the file must not exist.
   */
  specFile?: string;
  /** --network container:NAME: an open netns fd, passed as the helper's NET_FD. */
  netnsFd?: number;
  /**
   * --network bridge: called with the child's pid when the helper reports
   * netns=; the workload starts once it resolves (a rejection ends the
   * launch: the helper exits 125).
   */
  onNetns?: (pid: number) => Promise<void>;
}

export function spawnHelper(spec: LauncherSpec, opts: SpawnHelperOptions = {}): HelperProcess {
  const net =
    spec.mode === 'run' && opts.netnsFd !== undefined
      ? { netnsFd: NET_FD }
      : spec.mode === 'run' && opts.onNetns
        ? { netWaitFd: NET_FD }
        : {};
  const buf = serializeSpec({ ...spec, ...net, reportFd: REPORT_FD });
  const [i, o, e] = opts.stdio ?? ['inherit', 'inherit', 'inherit'];
  let specFd: number | null = null;
  if (opts.specFile !== undefined) {
    specFd = fs.openSync(opts.specFile, 'wx+', 0o600);
    fs.unlinkSync(opts.specFile);
    fs.writeSync(specFd, buf, 0, buf.length, 0);
  }
  let child: ChildProcess;
  try {
    child = spawn(opts.helperPath ?? helperBinaryPath(), [], {
      stdio: [
        i,
        o,
        e,
        specFd ?? 'pipe',
        'pipe',
        ...(opts.netnsFd !== undefined ? [opts.netnsFd] : opts.onNetns ? ['pipe' as const] : []),
      ],
      env: opts.env ?? {},
    });
  } finally {
    if (specFd !== null) fs.closeSync(specFd);
  }
  if (specFd === null) (child.stdio[3] as Writable).end(buf);

  let report = '';
  let netStarted = false;
  let resolveStarted: (pid: number) => void = () => undefined;
  let rejectStarted: (err: Error) => void = () => undefined;
  const started = new Promise<number>((res, rej) => {
    resolveStarted = res;
    rejectStarted = rej;
  });
  started.catch(() => undefined); // callers that only await `exited` are fine
  (child.stdio[REPORT_FD] as Readable).on('data', (d: Buffer) => {
    report += d.toString();
    const events = parseReport(report);
    const ev = events.find((x) => x.kind === 'pid');
    if (ev?.kind === 'pid') resolveStarted(ev.pid);
    const netns = events.find((x) => x.kind === 'netns');
    if (netns?.kind === 'netns' && opts.onNetns && !netStarted) {
      netStarted = true;
      const pipe = (child.stdio as unknown as Writable[])[NET_FD];
      pipe.on('error', () => undefined); // the helper died meanwhile: its exit says so
      opts.onNetns(netns.pid).then(
        () => pipe.end('1'),
        () => pipe.destroy(),
      );
    }
  });

  const exited = new Promise<HelperExit>((resolve, reject) => {
    child.on('error', (err) => {
      rejectStarted(err);
      reject(err);
    });
    child.on('close', (code, signal) => {
      const events = parseReport(report);
      const error = events.find((x) => x.kind === 'error');
      const status = code ?? 128;
      rejectStarted(new Error(error?.kind === 'error' ? error.message : `tstop-helper exited with ${code ?? signal}`));
      resolve({
        code: status,
        signal,
        origin: exitOrigin(status, events),
        ...(error?.kind === 'error' ? { error: error.message } : {}),
        events,
      });
    });
  });
  return { child, started, exited };
}
