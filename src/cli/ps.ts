// `tstop ps`, `tstop stop`, `tstop rm`: their flags to options, then the
// launcher's container management (src/launcher/manage.ts). Loaded lazily
// by src/cli/commands/ps.ts.

import os from 'node:os';
import { printContainers, removeContainers, stopContainers } from '../launcher/manage.js';
import { UsageError } from '../util/errors.js';
import { stringFlag, type ParsedFlags } from './command.js';

export function psCli(flags: ParsedFlags): Promise<number> {
  return printContainers({ all: flags.all === true, json: flags.json === true, quiet: flags.quiet === true });
}

/** --signal as a number: TERM, SIGTERM or 15. */
export function parseSignal(text: string): number {
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const signal = /^\d+$/.test(upper) ? Number(upper) : (os.constants.signals as Record<string, number>)[name];
  if (signal === undefined || signal < 1 || signal > 64) {
    throw new UsageError(`--signal '${text}': not a signal (examples: TERM, INT, 15)`);
  }
  return signal;
}

export function stopCli(flags: ParsedFlags, refs: string[]): Promise<number> {
  if (refs.length === 0) throw new UsageError('give the containers to stop');
  const t = stringFlag(flags, 'time') ?? '10';
  if (!/^\d+(\.\d+)?$/.test(t)) throw new UsageError(`--time '${t}': expected seconds (e.g. 10, 0.5)`);
  const signal = parseSignal(stringFlag(flags, 'signal') ?? 'TERM');
  return stopContainers(refs, { timeoutSeconds: Number(t), signal });
}

export function rmCli(flags: ParsedFlags, refs: string[]): Promise<number> {
  if (refs.length === 0) throw new UsageError('give the containers to remove');
  return removeContainers(refs, { force: flags.force === true });
}
