// A detached container's log, <run dir>/<name>.log: capped and rotated by
// the helper's logger (native/src/logger.c), as docker's json-file driver
// with --log-opt max-size / max-file; one CRI record per line (read by
// ./log-read.ts). The default is a cap, not docker's
// unbounded file: the run dir is /run, a tmpfs in memory.

import { ExpectedError } from '../util/errors.js';

/** Default --log-opt max-size=10m max-file=3: at most 30 MiB of memory per container. */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 3;
export const MAX_LOG_FILES = 100;
/** Room for a record (native/src/logger.c: 41 bytes of time, stream and tag) with some text. */
export const MIN_LOG_BYTES = 100;

export interface LogOptions {
  maxBytes: number;
  maxFiles: number;
}

/** A malformed --log-opt (exit 2, before anything exists). */
export class LogOptError extends ExpectedError {
  constructor(message: string) {
    super(message, 2);
  }
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** --log-opt max-size=SIZE (k, m, g: binary, as docker) and max-file=N. */
export function parseLogOpts(values: readonly string[]): LogOptions {
  const out: LogOptions = { maxBytes: DEFAULT_LOG_MAX_BYTES, maxFiles: DEFAULT_LOG_MAX_FILES };
  for (const v of values) {
    const size = /^max-size=(\d{1,12})([bkmg]?)$/i.exec(v);
    const files = /^max-file=(\d{1,3})$/.exec(v);
    if (size) {
      out.maxBytes = Number(size[1]) * UNITS[size[2].toLowerCase()];
      if (out.maxBytes < MIN_LOG_BYTES || out.maxBytes > 2 ** 40) {
        throw new LogOptError(
          `--log-opt '${v}': from ${MIN_LOG_BYTES} bytes (a line's time, stream and tag take 41) to 1t`,
        );
      }
    } else if (files) {
      out.maxFiles = Number(files[1]);
      if (out.maxFiles < 1 || out.maxFiles > MAX_LOG_FILES) {
        throw new LogOptError(`--log-opt '${v}': from 1 to ${MAX_LOG_FILES} files`);
      }
    } else {
      throw new LogOptError(`--log-opt '${v}': tstop knows max-size=SIZE (e.g. 10m) and max-file=N`);
    }
  }
  return out;
}

/** The rotated files of a log: NAME.log.1 ... NAME.log.N (file names in its directory). */
export function rotatedLogNames(entries: readonly string[], logName: string): string[] {
  return entries.filter((f) => f.startsWith(`${logName}.`) && /^\d{1,3}$/.test(f.slice(logName.length + 1)));
}
