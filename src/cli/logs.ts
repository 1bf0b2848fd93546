// `tstop logs`: flags to LogsOptions, then src/launcher/log-read.ts.
// Loaded lazily by src/cli/commands/logs.ts.

import { showLogs } from '../launcher/log-read.js';
import { UsageError } from '../util/errors.js';
import { parseTimeSpec } from '../util/time.js';
import { stringFlag, type ParsedFlags } from './command.js';

/** --tail N: a count of lines, or all. */
export function parseTail(value: string | undefined): number | null {
  if (value === undefined || value === 'all') return null;
  if (!/^\d{1,9}$/.test(value))
    throw new UsageError(`--tail '${value}': expected a number of lines (0 or more) or all`);
  return Number(value);
}

export function logsCli(flags: ParsedFlags, positionals: string[]): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('give one container (tstop logs [OPTIONS] <container>)');
  const since = stringFlag(flags, 'since');
  return showLogs(positionals[0], {
    follow: flags.follow === true,
    tail: parseTail(stringFlag(flags, 'tail')),
    sinceMs: since === undefined ? null : parseTimeSpec(since),
    timestamps: flags.timestamps === true,
  });
}
