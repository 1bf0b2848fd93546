// The command-line face of limits that expire (src/limiter/expiry.ts):
// `tstop limit C ... --for D`, `limit expiries`, `limit keep ID`, the hidden
// `limit __expire` (the detached reverter), and how history shows expiries.

import type { ChangeRecord } from '../limiter/api.js';
import { parseForDuration, pendingExpiries } from '../limiter/expiry.js';
import { keepChange, runReverter } from '../limiter/expiry-runner.js';
import type { CgroupLimiter } from '../limiter/limiter.js';
import { formatDurationMs } from '../util/duration.js';
import { printable, renderTable } from '../util/format.js';
import { sanitizeJson } from '../util/sanitize.js';
import { stringFlag, type ParsedFlags } from './command.js';

const jsonText = (value: unknown): string => sanitizeJson(JSON.stringify(value));

/** --for, in ms (undefined when not given); a bad value is the limiter's exit-2 error naming --for. */
export function forFlag(flags: ParsedFlags): number | undefined {
  const text = stringFlag(flags, 'for');
  return text === undefined ? undefined : parseForDuration(text);
}

/** "HH:MM:SSZ" of an ISO time, for tables. */
function shortTime(iso: string): string {
  return iso.replace(/^.*T/, '').replace(/\.\d+Z$/, 'Z');
}

/** A time left, whole seconds, e.g. "29m58s" ("due" when past). */
export function timeLeftText(ms: number): string {
  return ms <= 0 ? 'due' : formatDurationMs(Math.ceil(ms / 1000) * 1000);
}

export function expiryText(changeId: string, expiresAt: string): string {
  return `expires at ${expiresAt} (in ${timeLeftText(Date.parse(expiresAt) - Date.now())}): the old values come back then; keep them with: tstop limit keep ${changeId}`;
}

/** The RESULT column of `limit history`: expiries spelled out. */
export function historyResult(r: ChangeRecord): string {
  if (r.expired) return r.result === 'applied' ? 'expired, reverted' : `expired, ${r.result}`;
  if (r.action === 'keep') return r.result === 'applied' ? 'kept' : r.result;
  if (r.expiresAt !== undefined && r.result === 'applied') return `applied, expires ${shortTime(r.expiresAt)}`;
  return r.result;
}

/** A skipped revert's CHANGES column: the values found, left alone. */
export function foundText(found: NonNullable<ChangeRecord['found']>): string {
  return found.map((f) => `${f.path.split('/').pop()}: found ${JSON.stringify(f.value)}, left alone`).join(', ');
}

function fieldsText(r: ChangeRecord): string {
  return r.writes.map((w) => `${w.path.split('/').pop()}: ${w.oldValue.trim() || '""'} -> ${w.newValue}`).join(', ');
}

/** `tstop limit expiries`: the pending ones, soonest first, and who runs them. */
export function runExpiries(limiter: CgroupLimiter, json: boolean): number {
  const pending = pendingExpiries(limiter.audit.changes());
  const holder = limiter.expiryHolder();
  const now = Date.now();
  if (json) {
    const rows = pending.map((p) => ({
      id: p.change.id,
      container: p.change.container,
      writes: p.change.writes,
      expiresAt: p.change.expiresAt,
      leftMs: Math.max(0, p.deadlineMs - now),
    }));
    process.stdout.write(jsonText({ pending: rows, runner: holder }) + '\n');
    return 0;
  }
  if (pending.length === 0) {
    process.stdout.write(`no pending expiries in ${limiter.audit.file}\n`);
    return 0;
  }
  const rows = pending.map((p) => [
    p.change.id,
    printable(p.change.container.name === p.change.container.id ? p.change.container.id : p.change.container.name),
    printable(fieldsText(p.change)),
    p.change.expiresAt!.replace(/\.\d+Z$/, 'Z'),
    timeLeftText(p.deadlineMs - now),
  ]);
  process.stdout.write(renderTable(['ID', 'CONTAINER', 'FIELDS', 'DEADLINE', 'LEFT'], rows));
  process.stdout.write(
    holder
      ? `run by ${holder.role} (pid ${holder.pid}, since ${holder.since})\n`
      : 'nobody runs them now: the next tstop limit, record, export or guard starts a reverter\n',
  );
  return 0;
}

/** `tstop limit keep ID`. */
export async function runKeep(limiter: CgroupLimiter, changeId: string, json: boolean): Promise<number> {
  const r = limiter.findChange(changeId);
  const id = await keepChange(limiter, r.id, { via: 'cli' });
  process.stdout.write(
    json
      ? jsonText({ changeId: id, action: 'keep', keeps: r.id, container: r.container }) + '\n'
      : `kept change ${r.id} on ${printable(r.container.name)}: its values stay (change ${id})\n`,
  );
  return 0;
}

/** `tstop limit __expire`: the detached reverter (started by the limiter, not by people). */
export async function runExpireCommand(limiter: CgroupLimiter): Promise<number> {
  const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${printable(line)}\n`);
  await runReverter(limiter, log);
  return 0;
}
