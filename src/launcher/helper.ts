/**
 * Small pieces tstop needs around native/build/tstop-helper: where the
 * binary is, how to read its report fd, and what its exit code means.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The network fd of the helper (./network/): the other container's netns, or the pipe the helper waits on. */
export const NET_FD = 5;

/** Exit codes of the helper itself (as docker run / env use them). */
export const HELPER_FAILED = 125;
export const CANNOT_EXEC = 126;
export const NOT_FOUND = 127;

/**
 * Locate native/build/tstop-helper by walking up from this module (works
 * from src/ under vitest and from dist/src/ after tsc).
 */
export function helperBinaryPath(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const candidate = join(dir, 'native', 'build', 'tstop-helper');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error('native/build/tstop-helper not found: run `npm run build:native` (needs a C compiler)');
    }
    dir = parent;
  }
}

export type ReportEvent =
  | { kind: 'pid'; pid: number }
  | { kind: 'exit'; code: number }
  | { kind: 'error'; message: string }
  /** --network bridge: the child waits, its netns ready for tstop's veth. */
  | { kind: 'netns'; pid: number };

/** One line of the report fd: `pid=N`, `exit=N` or `error=TEXT`. */
export function parseReportLine(line: string): ReportEvent | null {
  const eq = line.indexOf('=');
  if (eq < 0) return null;
  const key = line.slice(0, eq);
  const value = line.slice(eq + 1);
  if (key === 'error') return { kind: 'error', message: value };
  if (key !== 'pid' && key !== 'exit' && key !== 'netns') return null;
  if (!/^\d+$/.test(value)) return null;
  const n = Number(value);
  if (key === 'netns') return { kind: 'netns', pid: n };
  return key === 'pid' ? { kind: 'pid', pid: n } : { kind: 'exit', code: n };
}

export function parseReport(text: string): ReportEvent[] {
  return text
    .split('\n')
    .map(parseReportLine)
    .filter((e): e is ReportEvent => e !== null);
}

/**
 * Whether an exit code came from the workload or from the helper. The
 * codes 125-127 are ambiguous on their own; the report fd settles it: an
 * `error=` line means the helper failed, a `pid=` line means the workload
 * started (so any code after it is the workload's).
 */
export function exitOrigin(code: number, events: readonly ReportEvent[]): 'helper' | 'workload' {
  if (events.some((e) => e.kind === 'error')) return 'helper';
  if (events.some((e) => e.kind === 'pid')) return 'workload';
  return code >= HELPER_FAILED && code <= NOT_FOUND ? 'helper' : 'workload';
}

/** native/build/tstop-exec.node (native/exec/exec.c): execve for Node 20. */
export interface ExecAddon {
  /**
   * Returns only on failure, with errno; keepFd survives the exec. With sealedName the program runs
   * from a sealed memfd copy so named (the helper's own defence, native/src/sealed.c, done before the exec).
   */
  exec(path: string, argv: readonly string[], env: readonly string[], keepFd: number, sealedName?: string): number;
}

/** The addon beside the helper binary, or null when the build made none (no node_api.h) or it does not load. */
export function loadExecAddon(helperPath: string): ExecAddon | null {
  const file = join(dirname(helperPath), 'tstop-exec.node');
  if (!existsSync(file)) return null;
  const m = { exports: {} as Partial<ExecAddon> };
  try {
    process.dlopen(m, file);
  } catch {
    return null; // built for another node: the spawned helper does the same, slower
  }
  return typeof m.exports.exec === 'function' ? (m.exports as ExecAddon) : null;
}
