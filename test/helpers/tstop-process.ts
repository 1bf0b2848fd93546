// `tstop` as a child process, the way the launcher tests start it: its
// output kept, and tracked in the test's set of children (teardown kills
// what is left) until its pipes close.

import { spawn, type ChildProcess } from 'node:child_process';
import { TSTOP_BIN } from './limit.js';

export interface TstopResult {
  /** The exit code (-1 when a signal ended it). */
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface StartedTstop {
  child: ChildProcess;
  stdout: () => string;
  /** On 'close': every holder of the pipes is gone (a helper tstop left behind holds them). */
  done: Promise<TstopResult>;
  /** On 'exit' of tstop itself. */
  exited: Promise<void>;
}

export function startTstop(
  children: Set<ChildProcess>,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin: 'ignore' | 'pipe' = 'ignore',
): StartedTstop {
  const child = spawn(process.execPath, [TSTOP_BIN, ...args], { env, stdio: [stdin, 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<TstopResult>((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code: code ?? -1, signal, stdout, stderr });
    }),
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, stdout: () => stdout, done, exited };
}
