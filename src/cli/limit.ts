// `tstop limit`, `limit history`, `limit undo`, `limit recover`, `freeze`,
// `thaw`, `kill`: the command-line face of src/limiter. Errors are one line
// on stderr with the limiter's exit code (2: bad input or refused, nothing
// written; 1: the kernel or the audit log said no, everything restored).

import readline from 'node:readline';
import type { ChangeRecord, LimitPlan, LimitResult, Limiter, PlannedWrite } from '../limiter/api.js';
import { LimitError } from '../limiter/api.js';
import { createLimiter, type CgroupLimiter } from '../limiter/limiter.js';
import { LIMIT_FIELDS } from '../limiter/fields.js';
import { printable, renderTable } from '../util/format.js';
import { sanitizeJson } from '../util/sanitize.js';
import { collectorOptions } from './collection-flags.js';
import { limitRequestFromFlags } from './limit-request.js';
import { remoteLimiterFromFlags } from './limit-remote.js';
import { durationFlag, stringFlag, type ParsedFlags } from './command.js';
import { UsageError } from '../util/errors.js';

/** JSON for stdout: names come from containers, so bidi and C1 controls are escaped too. */
const jsonText = (value: unknown): string => sanitizeJson(JSON.stringify(value));

/** The flags that only `tstop limit <container>` takes. */
const VALUE_FLAGS = LIMIT_FIELDS.map((f) => f.flag);

/** Flags given that a subcommand does not take. */
function rejectFlags(flags: ParsedFlags, allowed: string[], sub: string): void {
  for (const [name, v] of Object.entries(flags)) {
    if (v === undefined || allowed.includes(name)) continue;
    throw new UsageError(`--${name} does not apply to '${sub}'`);
  }
}

const COLLECTION = ['root', 'docker-root', 'runc-root', 'podman-root', 'containerd-root', 'crio-root'];

function limiterFor(flags: ParsedFlags, timeoutMs?: number): CgroupLimiter {
  const collector = collectorOptions(flags);
  const lockTimeoutMs = durationFlag(flags, 'lock-timeout', '10s');
  if (lockTimeoutMs < 0 || lockTimeoutMs > 3_600_000) throw new UsageError('--lock-timeout: must be at most 1h');
  return createLimiter({
    root: collector.root,
    collector,
    auditLog: stringFlag(flags, 'audit-log'),
    freezeTimeoutMs: timeoutMs,
    lockTimeoutMs,
  });
}

function shown(value: string): string {
  return printable(value.replace(/\n/g, '; ')) || '""';
}

function writeLines(writes: PlannedWrite[]): string[] {
  return writes.map((w) => `  ${w.path}: ${shown(w.oldValue)} -> ${shown(w.newValue)}`);
}

function who(c: { id: string; name: string }): string {
  return c.name && c.name !== c.id ? `${printable(c.name)} (${c.id})` : c.id;
}

function planText(plan: LimitPlan, heading: string): string {
  const lines = [`${heading} ${who(plan.container)}:`, ...writeLines(plan.writes)];
  for (const n of plan.notes) lines.push(`note: ${n}`);
  return lines.join('\n') + '\n';
}

function resultText(verb: string, plan: LimitPlan, result: LimitResult, where = ''): string {
  const lines = [`${verb} ${who(plan.container)}: change ${result.changeId}`, ...writeLines(result.writes)];
  for (const n of result.notes ?? []) lines.push(`note: ${n}`);
  if (plan.action !== 'kill') lines.push(`undo with: tstop limit undo ${result.changeId}${where}`);
  return lines.join('\n') + '\n';
}

/** Asks on the terminal; true for y/yes. */
async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(question, resolve);
      rl.once('close', () => resolve(''));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

function failed(err: unknown, command: string): number {
  if (err instanceof LimitError) {
    process.stderr.write(`tstop: ${command}: ${printable(err.message)}\n`);
    return err.exitCode;
  }
  throw err;
}

/** Shows, asks (on a terminal, without --yes), applies, prints. */
async function planAndApply(
  limiter: Limiter,
  plan: LimitPlan,
  flags: ParsedFlags,
  verb: string,
  /** Where the change was made, for the undo hint (" on node:9338"); '' for this host. */
  where = '',
): Promise<number> {
  const json = flags.json === true;
  if (flags['dry-run']) {
    process.stdout.write(
      json
        ? jsonText({ dryRun: true, ...plan }) + '\n'
        : planText(plan, 'planned writes for') + 'dry run: nothing was written\n',
    );
    return 0;
  }
  if (plan.writes.length === 0) {
    const msg = `nothing to change for ${who(plan.container)}: every value is already set`;
    process.stdout.write(
      json ? jsonText({ changeId: null, ...plan }) + '\n' : msg + '\n' + plan.notes.map((n) => `note: ${n}\n`).join(''),
    );
    return 0;
  }
  if (!flags.yes && process.stdin.isTTY) {
    process.stderr.write(planText(plan, 'planned writes for'));
    const n = plan.writes.length;
    if (!(await confirm(`apply ${n} write${n === 1 ? '' : 's'} to ${who(plan.container)}? [y/N] `))) {
      process.stderr.write('not applied: nothing was written\n');
      return 1;
    }
  }
  const result = await limiter.apply(plan, { via: 'cli' });
  process.stdout.write(
    json
      ? jsonText({ ...result, action: plan.action, undoes: plan.undoes ?? null, container: plan.container }) + '\n'
      : resultText(verb, plan, result, where),
  );
  return 0;
}

function historyTable(changes: ChangeRecord[]): string {
  const header = ['ID', 'TIME', 'WHO', 'CONTAINER', 'ACTION', 'RESULT', 'CHANGES'];
  const rows = changes.map((r) => {
    const user = r.sudoUser ? `${r.sudoUser} (${r.user})` : r.user;
    const via = r.via === 'http' && r.remoteAddress ? `http ${r.remoteAddress}` : r.via;
    const changes =
      r.action === 'kill'
        ? `${r.signal ?? '?'} to ${r.pids?.length ?? 0} processes`
        : r.writes.map((w) => `${w.path.split('/').pop()}: ${shown(w.oldValue)} -> ${shown(w.newValue)}`).join(', ');
    return [
      r.id,
      r.time.replace(/\.\d+Z$/, 'Z'),
      printable(`${user} via ${via}`),
      printable(r.container.name === r.container.id ? r.container.id : r.container.name),
      r.action + (r.undoes ? ` ${r.undoes}` : ''),
      r.result,
      changes,
    ];
  });
  return renderTable(header, rows);
}

export async function runLimit(flags: ParsedFlags, positionals: string[]): Promise<number> {
  const [first, second, ...extra] = positionals;
  if (flags['what-if'] !== undefined) return (await import('./whatif.js')).runWhatIf(flags, positionals);
  if (flags.store !== undefined)
    throw new UsageError('--store goes with --what-if (tstop limit C --memory 512m --what-if 24h)');
  try {
    if (first === undefined)
      throw new UsageError('give a container (name, id or /cgroup/path), or history, undo or recover');
    if (first === 'history') {
      if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
      rejectFlags(flags, ['json', 'last', 'audit-log', ...COLLECTION], 'limit history');
      const lastText = stringFlag(flags, 'last') ?? '20';
      if (!/^\d+$/.test(lastText) || Number(lastText) < 1)
        throw new UsageError(`--last: '${lastText}' is not a positive whole number`);
      const limiter = limiterFor(flags);
      const changes = await limiter.history({ ref: second, last: Number(lastText) });
      if (flags.json) process.stdout.write(jsonText(changes) + '\n');
      else if (changes.length === 0)
        process.stdout.write(`no changes${second ? ` for ${printable(second)}` : ''} in ${limiter.audit.file}\n`);
      else process.stdout.write(historyTable(changes));
      const torn = limiter.audit.read().tornBytes;
      if (torn > 0)
        process.stderr.write(
          `note: the audit log ends in a torn record (${torn} bytes, a crash mid-append); ignored, and cut off at the next change\n`,
        );
      return 0;
    }
    if (first === 'undo') {
      if (second === undefined) throw new UsageError('undo needs a change id (see tstop limit history)');
      if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
      rejectFlags(
        flags,
        ['json', 'yes', 'dry-run', 'force', 'allow-system', 'audit-log', 'lock-timeout', ...COLLECTION],
        'limit undo',
      );
      const limiter = limiterFor(flags);
      const plan = await limiter.planUndo(second, {
        force: flags.force === true,
        allowSystem: flags['allow-system'] === true,
      });
      return await planAndApply(limiter, plan, flags, `undid ${plan.undoes} on`);
    }
    if (first === 'recover') {
      if (second !== undefined) throw new UsageError(`unexpected argument '${second}'`);
      rejectFlags(flags, ['json', 'allow-system', 'audit-log', ...COLLECTION], 'limit recover');
      const limiter = limiterFor(flags);
      const ids = limiter.recover({ allowSystem: flags['allow-system'] === true });
      const skipped = limiter.lastRecoverySkipped;
      process.stdout.write(
        flags.json
          ? jsonText({ recovered: ids, skipped }) + '\n'
          : (ids.length
              ? `restored the interrupted changes ${ids.join(', ')}\n`
              : 'no interrupted changes restored\n') +
              skipped.map((x) => `left pending: ${x.id}: ${printable(x.reason)}\n`).join(''),
      );
      return 0;
    }
    if (second !== undefined) throw new UsageError(`unexpected argument '${second}' (one container at a time)`);
    if (flags.last !== undefined) throw new UsageError("--last applies to 'limit history' only");
    const request = limitRequestFromFlags(flags);
    if (!VALUE_FLAGS.some((f) => flags[f] !== undefined)) {
      throw new UsageError(
        'nothing to change: give at least one limit (for example --memory 512m or --cpus 1.5; see tstop limit --help)',
      );
    }
    const remote = remoteLimiterFromFlags(flags);
    if (remote) {
      const plan = await remote.plan(first, request, {
        force: flags.force === true,
        allowSystem: flags['allow-system'] === true,
      });
      return await planAndApply(remote, plan, flags, 'applied to', ` on ${remote.base.host}`);
    }
    const limiter = limiterFor(flags);
    const plan = await limiter.plan(first, request, {
      force: flags.force === true,
      allowSystem: flags['allow-system'] === true,
    });
    return await planAndApply(limiter, plan, flags, 'applied to');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    return failed(err, 'limit');
  }
}

function onePositional(positionals: string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`give the container to ${what} (name, id or /cgroup/path)`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (one container at a time)`);
  return positionals[0];
}

export async function runFreeze(flags: ParsedFlags, positionals: string[], frozen: boolean): Promise<number> {
  const verb = frozen ? 'freeze' : 'thaw';
  const ref = onePositional(positionals, verb);
  const timeoutMs = durationFlag(flags, 'timeout', '5s');
  if (timeoutMs <= 0 || timeoutMs > 3_600_000) throw new UsageError('--timeout: must be above 0 and at most 1h');
  try {
    const limiter = limiterFor(flags, timeoutMs);
    const result = await limiter.setFrozen(
      ref,
      frozen,
      { via: 'cli' },
      { allowSystem: flags['allow-system'] === true, force: flags.force === true, timeoutMs },
    );
    const c = limiter.audit.changes().find((r) => r.id === result.changeId)?.container ?? { id: ref, name: ref };
    if (flags.json) process.stdout.write(jsonText({ ...result, action: verb, container: c }) + '\n');
    else {
      process.stdout.write(`${frozen ? 'froze' : 'thawed'} ${who(c)}: change ${result.changeId}\n`);
      for (const note of result.notes ?? []) process.stdout.write(`note: ${note}\n`);
    }
    return 0;
  } catch (err) {
    return failed(err, verb);
  }
}

export async function runKill(flags: ParsedFlags, positionals: string[]): Promise<number> {
  const ref = onePositional(positionals, 'signal');
  try {
    const limiter = limiterFor(flags);
    const result = await limiter.kill(
      ref,
      stringFlag(flags, 'signal') ?? 'KILL',
      { via: 'cli' },
      { allowSystem: flags['allow-system'] === true },
    );
    const r = limiter.audit.changes().find((x) => x.id === result.changeId);
    if (flags.json) process.stdout.write(jsonText(r ?? result) + '\n');
    else {
      const n = r?.pids?.length ?? 0;
      process.stdout.write(
        `sent ${r?.signal ?? 'the signal'} to ${n} process${n === 1 ? '' : 'es'} of ${who(r?.container ?? { id: ref, name: ref })}: change ${result.changeId}\n`,
      );
      for (const note of result.notes ?? []) process.stdout.write(`note: ${note}\n`);
    }
    return 0;
  } catch (err) {
    return failed(err, 'kill');
  }
}
