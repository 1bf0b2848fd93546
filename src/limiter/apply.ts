// Applying a plan all-or-nothing:
// 1. every target re-checked (known limit file, inside a cgroup mount, no
//    symlink, not the root) and re-read: a file that no longer holds the
//    plan's old value stops the change (someone else changed it);
// 2. a 'pending' record appended to the audit log and fsynced;
// 3. the writes, in the plan's order (plan.ts chose an order that keeps
//    every intermediate state valid), each in one write(2);
// 4. every value read back (freezing waits until the kernel says frozen);
// 5. on any failure, what was written is restored in reverse order and the
//    record says 'rolled-back' with the kernel's errno in words;
// 6. the 'applied' record appended and fsynced; only then is success
//    returned. If that append fails, the change is restored.

import fs from 'node:fs';
import path from 'node:path';
import type { CgroupMounts } from '../cgroupfs/mounts.js';
import {
  LimitError,
  type ChangeRecord,
  type Invocation,
  type LimitPlan,
  type LimitResult,
  type PlannedWrite,
} from './api.js';
import { actor, newChangeId, type AuditLog } from './audit.js';
import {
  checkTargetPath,
  errnoHint,
  errnoWords,
  readTarget,
  refused,
  verifyTarget,
  writeTarget,
  type LimitTarget,
} from './safety.js';
import { expectedDeviceList, normalizeDeviceList, restoreDeviceList, semanticsOf } from './values.js';
import { readNoFollow } from './cgroup.js';

export interface ApplyContext {
  mounts: CgroupMounts;
  audit: AuditLog;
  /** How long freezing may take before the change is rolled back. */
  freezeTimeoutMs?: number;
  /** Test hook (TSTOP_LIMIT_TEST_PAUSE_MS): pause between writes so a test can kill the process mid-change. */
  pauseMs?: number;
  /** The change's id, when the caller chose it before taking the cgroup's lock. */
  changeId?: string;
  /** The change this one waited for (lock.ts), to say so if the files changed meanwhile. */
  waitedFor?: { id: string; pid: number } | null;
}

export const DEFAULT_FREEZE_TIMEOUT_MS = 5_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The value a target's current content means, for comparing with a plan. */
export function currentValue(target: LimitTarget, newValue: string): string {
  const sem = semanticsOf(target.file);
  const content = sem.readFrom ? readRelated(target, sem.readFrom) : readTarget(target);
  return sem.current(content, newValue);
}

/** A read-only sibling file (devices.list, cgroup.events) of a checked target. */
export function readRelated(target: LimitTarget, name: 'devices.list' | 'cgroup.events' | string): string {
  if (name !== 'devices.list' && name !== 'cgroup.events') throw refused(`refusing to read ${name}`);
  verifyTarget(target);
  const p = path.join(path.dirname(target.path), name);
  const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    return fs.readFileSync(fd, 'utf8').replace(/\n+$/, '');
  } finally {
    fs.closeSync(fd);
  }
}

function isDeviceFile(file: string): boolean {
  return file === 'devices.allow' || file === 'devices.deny';
}

/** Whether the current value is the recorded old value (devices: the same list). */
function holds(target: LimitTarget, current: string, value: string): boolean {
  if (isDeviceFile(target.file)) return normalizeDeviceList(current) === normalizeDeviceList(value);
  return semanticsOf(target.file).satisfies(current, value);
}

/**
 * The value that restores a recorded old value of a target. The one case
 * that is not the old value itself: an empty v2 cpuset.cpus / cpuset.mems
 * ("use the parent's") cannot be written back while the cgroup has
 * processes (the kernel answers ENOSPC), so the parent's effective set is
 * written instead: the same CPUs or nodes, stated explicitly.
 */
export function restoreValue(target: LimitTarget, oldValue: string): { value: string; note: string | null } {
  const value = semanticsOf(target.file).restore(oldValue);
  if (target.hierarchy.kind !== 'v2' || value.trim() !== '' || !/^cpuset\.(cpus|mems)$/.test(target.file)) {
    return { value, note: null };
  }
  const events = readRelated(target, 'cgroup.events');
  if (!/(?:^|\n)populated 1/.test(events)) return { value, note: null };
  const parent = readNoFollow(path.join(path.dirname(path.dirname(target.path)), `${target.file}.effective`))?.trim();
  if (!parent) return { value, note: null };
  return {
    value: parent,
    note: `${target.path} was empty (the parent's set); a cgroup with processes cannot go back to empty, so it gets the parent's ${parent}`,
  };
}

/**
 * Restores written values in reverse order; device rules as one list.
 * Returns what failed. With onlyOwn (a rollback), a file that no longer
 * holds the value this change wrote is left alone: someone else wrote it
 * since, and restoring the old value over theirs would lose their change.
 */
export function restore(written: { target: LimitTarget; write: PlannedWrite }[], onlyOwn = false): string[] {
  const failures: string[] = [];
  const devices = written.filter((w) => isDeviceFile(w.target.file));
  const others = written.filter((w) => !isDeviceFile(w.target.file));
  if (devices.length > 0) {
    const first = devices[0];
    try {
      const current = readRelated(first.target, 'devices.list');
      for (const [file, value] of restoreDeviceList(first.write.oldValue, current)) {
        const t = { ...first.target, file, path: path.join(path.dirname(first.target.path), file) };
        writeTarget(t, value);
      }
    } catch (err) {
      failures.push(`${path.dirname(first.target.path)}/devices.list: ${errnoWords(err)}`);
    }
  }
  for (const { target, write } of [...others].reverse()) {
    try {
      if (onlyOwn && target.file !== 'freezer.state' && target.file !== 'cgroup.freeze') {
        const current = currentValue(target, write.newValue);
        if (!semanticsOf(target.file).satisfies(current, write.newValue)) {
          failures.push(
            `${target.path}: left alone, it holds ${JSON.stringify(current)} written by someone else since, not this change's ${JSON.stringify(write.newValue)}`,
          );
          continue;
        }
      }
      writeTarget(target, restoreValue(target, write.oldValue).value);
    } catch (err) {
      failures.push(`${target.path}: ${errnoWords(err)}`);
    }
  }
  return failures;
}

/** Waits for a freezer write to take effect; returns the state seen last. */
async function waitFreezer(
  target: LimitTarget,
  value: string,
  timeoutMs: number,
): Promise<{ ok: boolean; seen: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let seen: string;
    let ok: boolean;
    if (target.file === 'freezer.state') {
      seen = readTarget(target).trim();
      ok = seen === value.trim();
    } else {
      const events = readRelated(target, 'cgroup.events');
      const frozen = /(?:^|\n)frozen (\d)/.exec(events)?.[1] ?? '?';
      seen = `frozen ${frozen}`;
      ok = frozen === value.trim();
    }
    if (ok || Date.now() > deadline) return { ok, seen };
    await sleep(10);
  }
}

export function makeRecord(
  id: string,
  plan: LimitPlan,
  invocation: Invocation,
  extra: Partial<ChangeRecord> = {},
): ChangeRecord {
  return {
    type: 'change',
    v: 1,
    id,
    time: new Date().toISOString(),
    ...actor(),
    via: invocation.via,
    remoteAddress: invocation.remoteAddress ?? null,
    ...(invocation.rule !== undefined ? { rule: invocation.rule } : {}),
    ...(invocation.tokenName !== undefined ? { tokenName: invocation.tokenName } : {}),
    action: plan.action ?? 'limit',
    undoes: plan.undoes ?? null,
    container: { id: plan.container.id, name: plan.container.name },
    writes: plan.writes.map((w) => ({ path: w.path, oldValue: w.oldValue, newValue: w.newValue })),
    signal: null,
    pids: null,
    result: 'pending',
    error: null,
    notes: plan.notes,
    ...(plan.forMs !== undefined ? { expiresAt: new Date(Date.now() + plan.forMs).toISOString() } : {}),
    ...(plan.allowSystem ? { allowSystem: true } : {}),
    ...(plan.expired ? { expired: true } : {}),
    ...extra,
  };
}

/** Who changed a file since a plan was made, from the audit log, for the loser's message. */
function lastWriter(ctx: ApplyContext, file: string, current: string): string {
  const sem = semanticsOf(path.basename(file));
  let changes: ChangeRecord[] = [];
  try {
    changes = ctx.audit.changes();
  } catch {
    // the message goes without it
  }
  const last = changes
    .filter((r) => r.result === 'applied' || r.result === 'pending')
    .reverse()
    .find((r) => r.writes.some((w) => w.path === file && sem.satisfies(current, w.newValue)));
  if (last) {
    const waited = ctx.waitedFor?.id === last.id ? ', while this one waited for it' : '';
    return ` (by change ${last.id} of pid ${last.pid}${waited})`;
  }
  return ctx.waitedFor
    ? ` (change ${ctx.waitedFor.id} of pid ${ctx.waitedFor.pid} ran while this one waited for it)`
    : ' (not by tstop: no change in the audit log wrote this value)';
}

function appendOrFail(ctx: ApplyContext, record: ChangeRecord, what: string): void {
  try {
    ctx.audit.append(record);
  } catch (err) {
    if (err instanceof LimitError) throw err;
    throw new LimitError(`cannot write the audit log ${ctx.audit.file} (${errnoWords(err)}); ${what}`, 1, 'failed');
  }
}

export function pauseFromEnv(): number {
  const v = Number(process.env.TSTOP_LIMIT_TEST_PAUSE_MS ?? 0);
  return Number.isFinite(v) && v > 0 ? Math.min(v, 10_000) : 0;
}

export async function applyPlan(plan: LimitPlan, invocation: Invocation, ctx: ApplyContext): Promise<LimitResult> {
  if (plan.writes.length === 0) {
    throw new LimitError(`nothing to change for ${plan.container.name}: every value is already set`, 2, 'invalid');
  }
  // 1. checks and the compare step
  const targets = plan.writes.map((w) => checkTargetPath(ctx.mounts, w.path));
  for (const t of targets) {
    if (t.cgroupId !== plan.container.id) {
      throw refused(`refusing to write ${t.path}: it is not a file of ${plan.container.id}`);
    }
  }
  plan.writes.forEach((w, i) => {
    const t = targets[i];
    let current: string;
    try {
      current = currentValue(t, w.newValue);
    } catch (err) {
      if (err instanceof LimitError) throw err;
      throw new LimitError(`cannot read ${t.path}: ${errnoWords(err)}; nothing was changed`, 1, 'failed');
    }
    if (!holds(t, current, w.oldValue)) {
      const by = lastWriter(ctx, t.path, current);
      throw new LimitError(
        `${t.path} changed since the change was planned${by}: it holds ${JSON.stringify(current)}, the plan expected ${JSON.stringify(w.oldValue)}; nothing was changed: plan again`,
        2,
        'conflict',
      );
    }
  });

  // 2. intent
  const id = ctx.changeId ?? newChangeId();
  const record = makeRecord(id, plan, invocation);
  appendOrFail(ctx, record, 'nothing was changed');

  // 3. and 4. writes and read-back
  const written: { target: LimitTarget; write: PlannedWrite }[] = [];
  const pauseMs = ctx.pauseMs ?? 0;
  const notes = [...plan.notes];
  try {
    for (let i = 0; i < plan.writes.length; i++) {
      const w = plan.writes[i];
      const t = targets[i];
      if (i > 0 && pauseMs > 0) await sleep(pauseMs);
      try {
        writeTarget(t, w.newValue);
        written.push({ target: t, write: w });
      } catch (err) {
        if (err instanceof LimitError) throw err;
        const hint = errnoHint(t.file, err);
        throw new LimitError(
          `writing ${JSON.stringify(w.newValue)} to ${t.path} failed: ${errnoWords(err)}${hint ? `: ${hint}` : ''}`,
          1,
          'failed',
        );
      }
    }
    for (let i = 0; i < plan.writes.length; i++) {
      const w = plan.writes[i];
      const t = targets[i];
      if (t.file === 'freezer.state' || t.file === 'cgroup.freeze') {
        const timeout = ctx.freezeTimeoutMs ?? DEFAULT_FREEZE_TIMEOUT_MS;
        const r = await waitFreezer(t, w.newValue, timeout);
        if (!r.ok) {
          throw new LimitError(
            `${t.path}: the kernel still reports ${r.seen} after ${timeout} ms (a task stuck in the kernel?)`,
            1,
            'failed',
          );
        }
        continue;
      }
      if (isDeviceFile(t.file)) continue; // checked as one list below
      const sem = semanticsOf(t.file);
      const current = currentValue(t, w.newValue);
      if (!sem.satisfies(current, w.newValue)) {
        throw new LimitError(
          `${t.path}: wrote ${JSON.stringify(w.newValue)} but the kernel reports ${JSON.stringify(current)}` +
            (isDeviceFile(t.file) ? ' (a broader rule still grants it? deny the broader rule)' : ''),
          1,
          'failed',
        );
      }
    }
    const devices = plan.writes.map((w, i) => ({ w, t: targets[i] })).filter(({ t }) => isDeviceFile(t.file));
    if (devices.length > 0) {
      const expected = expectedDeviceList(
        devices[0].w.oldValue,
        devices.map(({ w, t }) => [t.file, w.newValue]),
      );
      const actual = normalizeDeviceList(readRelated(devices[0].t, 'devices.list'));
      if (actual !== expected) {
        throw new LimitError(
          `${path.join(path.dirname(devices[0].t.path), 'devices.list')}: expected ${JSON.stringify(expected)} after the rules, the kernel reports ${JSON.stringify(actual)} (a deny only removes a rule with exactly the same type and numbers; deny the broader rule)`,
          1,
          'failed',
        );
      }
    }
  } catch (err) {
    const failures = restore(written, true);
    const message = err instanceof Error ? err.message : String(err);
    const restoredNote =
      failures.length === 0 ? 'everything written was restored' : `not everything was restored: ${failures.join('; ')}`;
    let audited = true;
    try {
      ctx.audit.append({
        ...record,
        time: new Date().toISOString(),
        result: 'rolled-back',
        error: `${message}; ${restoredNote}`,
      });
    } catch {
      audited = false;
    }
    const code = err instanceof LimitError ? err.exitCode : 1;
    const reason = err instanceof LimitError ? err.reason : 'failed';
    throw new LimitError(
      `${message}; ${restoredNote}${audited ? '' : ' (and the audit log could not record it)'}`,
      code,
      reason,
    );
  }

  // 6. confirmation (the device list was checked with the other read-backs above)
  try {
    ctx.audit.append({ ...record, time: new Date().toISOString(), result: 'applied', notes });
  } catch (err) {
    const failures = restore(written, true);
    throw new LimitError(
      `the change could not be recorded in the audit log ${ctx.audit.file} (${errnoWords(err)}), so it was ${failures.length === 0 ? 'rolled back' : `rolled back except ${failures.join('; ')}`}`,
      1,
      'failed',
    );
  }
  return {
    changeId: id,
    writes: plan.writes,
    notes,
    ...(record.expiresAt !== undefined ? { expiresAt: record.expiresAt } : {}),
  };
}

export interface RecoveryHooks {
  /** Whether the writer of a pending record still runs (then it is not ours to finish). */
  alive: (r: ChangeRecord) => boolean;
  /** Takes the record's cgroup lock; null when another change holds it (skip the record this time). */
  lock?: (r: ChangeRecord) => { release(): void } | null;
  /**
   * The policy a new write to the record's cgroup would meet (root, confinement, containers
   * only without --allow-system): a reason to leave the record pending, or null.
   */
  policy?: (r: ChangeRecord) => string | null;
}

export interface RecoveryResult {
  handled: string[];
  /** Pending records of dead processes left pending, and why. */
  skipped: { id: string; reason: string }[];
}

/**
 * Finishes the changes of processes that died between their 'pending' and
 * their result record: each file still holding the change's new value gets
 * its old value back, files holding something else are left alone, and an
 * 'interrupted' record says which. Each record is handled under its
 * cgroup's lock and only if the log, read again under the lock, still says
 * pending (another tstop may have finished it meanwhile). A record goes
 * through the policy a new write would (hooks.policy): a forged record
 * naming a cgroup that is not a container changes nothing.
 */
export function recoverInterrupted(mounts: CgroupMounts, audit: AuditLog, hooks: RecoveryHooks): RecoveryResult {
  const handled: string[] = [];
  const skipped: RecoveryResult['skipped'] = [];
  for (const candidate of audit.changes()) {
    if (candidate.result !== 'pending' || hooks.alive(candidate)) continue;
    const refusal = hooks.policy?.(candidate) ?? null;
    if (refusal) {
      skipped.push({ id: candidate.id, reason: refusal });
      continue;
    }
    const lock = hooks.lock ? hooks.lock(candidate) : { release: () => {} };
    if (!lock) continue;
    try {
      const r = audit.changes().find((x) => x.id === candidate.id);
      if (!r || r.result !== 'pending' || hooks.alive(r)) continue;
      recoverOne(mounts, audit, r);
      handled.push(r.id);
    } finally {
      lock.release();
    }
  }
  return { handled, skipped };
}

function recoverOne(mounts: CgroupMounts, audit: AuditLog, r: ChangeRecord): void {
  const restored: string[] = [];
  const leftAlone: string[] = [];
  if (r.action === 'kill') {
    leftAlone.push('signals cannot be taken back');
  } else {
    const toRestore: { target: LimitTarget; write: PlannedWrite }[] = [];
    let devicesSeen = false;
    for (const w of r.writes) {
      let t: LimitTarget;
      try {
        t = checkTargetPath(mounts, w.path);
        if (t.cgroupId !== r.container.id) {
          leftAlone.push(`${w.path} (not a file of ${r.container.id}, the record's cgroup)`);
          continue;
        }
        if (isDeviceFile(t.file)) {
          if (devicesSeen) continue;
          devicesSeen = true;
          const list = readRelated(t, 'devices.list');
          if (normalizeDeviceList(list) !== normalizeDeviceList(w.oldValue) || list.trim() === 'a *:* rwm') {
            toRestore.push({ target: t, write: w });
            restored.push(path.join(path.dirname(w.path), 'devices.list'));
          }
          continue;
        }
        const sem = semanticsOf(t.file);
        const current = currentValue(t, w.newValue);
        if (sem.satisfies(current, w.oldValue)) continue; // never written, or already restored
        if (sem.satisfies(current, w.newValue) || t.file === 'freezer.state' || t.file === 'cgroup.freeze') {
          toRestore.push({ target: t, write: w });
          restored.push(w.path);
        } else leftAlone.push(`${w.path} (now ${JSON.stringify(current)})`);
      } catch (err) {
        leftAlone.push(`${w.path} (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    const failures = restore(toRestore);
    leftAlone.push(...failures);
  }
  const note =
    `process ${r.pid} died before confirming this change; ` +
    (restored.length ? `restored the old value of ${restored.join(', ')}` : 'no file held its new value') +
    (leftAlone.length ? `; left alone: ${leftAlone.join('; ')}` : '');
  audit.append({
    ...r,
    time: new Date().toISOString(),
    result: 'interrupted',
    error: null,
    notes: [...r.notes, note],
  });
}
