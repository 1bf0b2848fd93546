// Running expiries (see expiry.ts): the revert of one expired change, the
// loop of the detached reverter (`tstop limit __expire`), and `tstop limit
// keep`. The loop an agent (record, export, guard) runs beside its own work
// is expiry-agent.ts: it loads this module once an expiry is pending.
// A revert is its own audited change ('undo', expired: true). A file that
// someone else changed since our change keeps their value: the revert is
// recorded as 'skipped' with the values found (planUndo's conflict check,
// the one rule for every undo).

import fs from 'node:fs';
import path from 'node:path';
import { formatDurationMs } from '../util/duration.js';
import { LimitError, UndoConflictError, type ChangeRecord, type Invocation, type LimitPlan } from './api.js';
import { applyPlan, makeRecord } from './apply.js';
import { ExpiryLock, PendingExpiryReader, pendingExpiries, type PendingExpiry } from './expiry.js';
import type { CgroupLimiter } from './limiter.js';

export type ExpiryOutcome =
  | { kind: 'reverted'; changeId: string }
  | { kind: 'skipped'; changeId: string; reason: string; found: NonNullable<ChangeRecord['found']> }
  /** Kept, undone or reverted by someone else meanwhile: nothing to do. */
  | { kind: 'resolved' };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function cgroupGone(r: ChangeRecord): boolean {
  return r.writes.length > 0 && r.writes.every((w) => !fs.existsSync(path.dirname(w.path)));
}

/** Reverts one expired change under its cgroup's lock, or records why it was skipped. */
export async function revertExpired(limiter: CgroupLimiter, changeId: string): Promise<ExpiryOutcome> {
  const first = limiter.findChange(changeId);
  return limiter.underLock(first.container.id, 'expire', async (id, ctx): Promise<ExpiryOutcome> => {
    // Read again under the lock: a keep or an undo may have come first.
    const r = pendingExpiries(limiter.audit.changes()).find((p) => p.change.id === changeId)?.change;
    if (!r) return { kind: 'resolved' };
    const invocation: Invocation = { via: 'expiry', ...(r.rule !== undefined ? { rule: r.rule } : {}) };
    const skip = (reason: string, found: NonNullable<ChangeRecord['found']>): ExpiryOutcome => {
      const plan: LimitPlan = { action: 'undo', undoes: r.id, container: r.container, writes: [], notes: [reason] };
      ctx.audit.append(makeRecord(id, plan, invocation, { result: 'skipped', expired: true, found }));
      return { kind: 'skipped', changeId: id, reason, found };
    };
    if (cgroupGone(r)) return skip(`expired; ${r.container.id} no longer exists: nothing to restore`, []);
    let plan: LimitPlan;
    try {
      plan = await limiter.planUndo(r.id, { allowSystem: r.allowSystem === true });
    } catch (err) {
      if (err instanceof UndoConflictError) {
        const found = err.found.map((f) => `${f.path} holds ${JSON.stringify(f.value)}`).join('; ');
        return skip(`expired; left alone, changed since by someone else: ${found}`, err.found);
      }
      // Every file already holds its old value: there is nothing to restore.
      if (err instanceof LimitError && err.reason === 'invalid') return skip(`expired; ${err.message}`, []);
      throw err;
    }
    const result = await applyPlan({ ...plan, expired: true }, invocation, ctx);
    return { kind: 'reverted', changeId: result.changeId };
  });
}

/** One line for a log: what happened to an expiry. */
export function outcomeText(change: ChangeRecord, o: ExpiryOutcome): string {
  const what = `expiry of change ${change.id} on ${change.container.name || change.container.id}`;
  if (o.kind === 'reverted') return `${what}: expired, reverted (change ${o.changeId})`;
  if (o.kind === 'skipped') return `${what}: expired, skipped (change ${o.changeId}): ${o.reason}`;
  return `${what}: kept, undone or reverted meanwhile`;
}

export interface ExpiryRunnerOptions {
  /** reverter, record, export, guard (written into the lock file, shown by `tstop limit expiries`). */
  role: string;
  log: (line: string) => void;
}

/** Runs the due expiries of one audit log while holding its runner lock. */
export class ExpiryRunner {
  readonly lock: ExpiryLock;
  private readonly retryAt = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly reader: PendingExpiryReader;

  constructor(
    readonly limiter: CgroupLimiter,
    private readonly options: ExpiryRunnerOptions,
  ) {
    this.lock = new ExpiryLock(limiter.audit.file);
    this.reader = new PendingExpiryReader(limiter.audit);
  }

  /** The pending expiries (the log is read again only when it changed). */
  pending(): PendingExpiry[] {
    return this.reader.read();
  }

  /** Runs every expiry past its deadline; returns the next time (ms) something is due, or null. */
  async runDue(): Promise<number | null> {
    for (const p of this.pending()) {
      const now = Date.now();
      if (p.deadlineMs > now) break;
      if ((this.retryAt.get(p.change.id) ?? 0) > now) continue;
      try {
        this.options.log(outcomeText(p.change, await revertExpired(this.limiter, p.change.id)));
        this.retryAt.delete(p.change.id);
      } catch (err) {
        // The kernel or the lock said no (the rolled-back undo is audited): try again later.
        const n = (this.failures.get(p.change.id) ?? 0) + 1;
        this.failures.set(p.change.id, n);
        const waitMs = Math.min(300_000, 5_000 * 2 ** (n - 1));
        this.retryAt.set(p.change.id, Date.now() + waitMs);
        const why = err instanceof Error ? err.message : String(err);
        this.options.log(
          `expiry of change ${p.change.id}: revert failed (${why}); trying again in ${formatDurationMs(waitMs)}`,
        );
      }
    }
    const times = this.pending().map((p) => Math.max(p.deadlineMs, this.retryAt.get(p.change.id) ?? 0));
    return times.length === 0 ? null : Math.min(...times);
  }
}

/**
 * The detached reverter's loop (one per audit log: it exits at once if
 * another runs). While an agent runs, it stands by without the runner lock;
 * otherwise it holds it, sleeps until each deadline and runs what is due.
 * It exits when nothing is pending, after letting go of its own lock and
 * looking once more, so a change made with --for meanwhile (whose command
 * saw a reverter still running) is never left without one.
 */
export async function runReverter(limiter: CgroupLimiter, log: (line: string) => void): Promise<void> {
  const runner = new ExpiryRunner(limiter, { role: 'reverter', log });
  const lock = runner.lock;
  if (!lock.takeReverter()) return;
  let standingBy = false;
  for (;;) {
    if (runner.pending().length === 0) {
      lock.release();
      lock.releaseReverter();
      if (runner.pending().length === 0 || !lock.takeReverter()) return;
      continue;
    }
    let waitMs = 1_000;
    if (lock.agentPresent()) {
      if (!standingBy) log('an agent (tstop record, export or guard) runs the expiries; standing by');
      standingBy = true;
      lock.release();
    } else if (lock.tryTake('reverter')) {
      standingBy = false;
      const next = await runner.runDue();
      if (next !== null) waitMs = Math.min(1_000, Math.max(10, next - Date.now()));
    }
    // Wake at the deadline, and at least every second to see changes to the log (a keep, a new expiry).
    await sleep(waitMs);
  }
}

/** `tstop limit keep ID`: cancels a pending expiry, audited as its own change ('keep'). */
export async function keepChange(limiter: CgroupLimiter, changeId: string, invocation: Invocation): Promise<string> {
  const r = limiter.findChange(changeId);
  return limiter.underLock(r.container.id, 'keep', async (id, ctx) => {
    const pending = pendingExpiries(limiter.audit.changes()).some((p) => p.change.id === r.id);
    if (!pending) {
      throw new LimitError(
        r.expiresAt === undefined
          ? `change ${r.id} has no expiry (it was not made with --for)`
          : `change ${r.id} has no pending expiry: it was reverted, kept or undone already`,
        2,
        'refused',
      );
    }
    const plan: LimitPlan = { action: 'keep', container: r.container, writes: [], notes: [] };
    ctx.audit.append(makeRecord(id, plan, invocation, { result: 'applied', keeps: r.id }));
    return id;
  });
}
