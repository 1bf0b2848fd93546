// The Limiter: resolve a reference, validate and plan, apply with audit, undo,
// freeze, kill. One instance serves the CLI (one call per process), the
// dashboard (with its own latest snapshot for resolving names) and the HTTP
// write API.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cgroupSegments } from '../cgroupfs/create.js';
import { detectCgroupMounts, type CgroupMounts, type Hierarchy } from '../cgroupfs/mounts.js';
import { dirsDeepestFirst } from '../cgroupfs/create.js';
import { classifyCgroupPath } from '../discovery/classify.js';
import type { CollectorOptions } from '../collect/collector.js';
import { identityFromPath, listCgroups, withDescription } from '../discovery/listing.js';
import { RuntimeStateReader } from '../discovery/runtime-state.js';
import type { Snapshot } from '../model/types.js';
import {
  LimitError,
  type ChangeRecord,
  type Invocation,
  type LimitOptions,
  type LimitPlan,
  type LimitRequest,
  type LimitResult,
  type Limiter,
  type LimiterHistory,
  type PlannedWrite,
} from './api.js';
import {
  applyPlan,
  currentValue,
  makeRecord,
  pauseFromEnv,
  readRelated,
  recoverInterrupted,
  restoreValue,
  type RecoveryResult,
  type ApplyContext,
} from './apply.js';
import { AuditLog, auditLogPath, newChangeId, writerAlive } from './audit.js';
import { CgroupFiles } from './cgroup.js';
import { ChangeLocks, DEFAULT_LOCK_TIMEOUT_MS, type HeldLock } from './lock.js';
import { readHostFacts, type HostFacts } from './host.js';
import { planFreeze, planLimit } from './plan.js';
import { parseRequest } from './plan/request.js';
import { parseRef, resolveRef, type Candidate } from './resolve.js';
import {
  checkCgroupPolicy,
  checkNotOwnCgroup,
  checkTargetPath,
  errnoWords,
  refused,
  validCgroupId,
  verifyTarget,
  writeTarget,
} from './safety.js';
import { parseSignal, quote } from './units.js';
import { expectedDeviceList, normalizeDeviceList, restoreDeviceList, semanticsOf } from './values.js';

export interface LimiterOptions {
  /** Filesystem root of the host (as --root). */
  root?: string;
  /** The audit log file (default: TSTOP_AUDIT_LOG or /var/log/tstop/audit.jsonl). */
  auditLog?: string;
  /** Where names come from when no snapshot is given (the CLI's collection flags). */
  collector?: CollectorOptions;
  /** The caller's latest snapshot (the dashboard's), used to resolve names instead of collecting. */
  snapshot?: () => Snapshot;
  mounts?: CgroupMounts;
  host?: HostFacts;
  freezeTimeoutMs?: number;
  /** How long a change waits while another change to the same cgroup runs (--lock-timeout). */
  lockTimeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class CgroupLimiter implements Limiter, LimiterHistory {
  readonly mounts: CgroupMounts;
  readonly host: HostFacts;
  readonly audit: AuditLog;
  readonly locks: ChangeLocks;
  private readonly options: LimiterOptions;

  constructor(options: LimiterOptions = {}) {
    this.options = options;
    this.mounts = options.mounts ?? detectCgroupMounts(options.root ?? '/');
    this.host = options.host ?? readHostFacts(options.root ?? '/');
    this.audit = new AuditLog(auditLogPath(options.auditLog));
    this.locks = new ChangeLocks(this.audit.file);
  }

  /**
   * Runs one change under its cgroup's lock (lock.ts), after finishing the
   * interrupted changes of dead processes; the lock is held until the
   * change's last audit record is written.
   */
  private async locked<T>(
    cgroupId: string,
    action: string,
    run: (id: string, lock: HeldLock) => Promise<T>,
  ): Promise<T> {
    const id = newChangeId();
    const lock = await this.locks.acquire(
      cgroupId,
      { id, action },
      this.options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    );
    try {
      this.recoverWith(cgroupId);
      return await run(id, lock);
    } finally {
      lock.release();
    }
  }

  private get ctx(): ApplyContext {
    return {
      mounts: this.mounts,
      audit: this.audit,
      freezeTimeoutMs: this.options.freezeTimeoutMs,
      pauseMs: pauseFromEnv(),
    };
  }

  /** The cgroup's directory in a hierarchy, if it exists there as a real directory. */
  private dirIn(h: Hierarchy, id: string): string | null {
    let p = h.mountPoint;
    for (const s of cgroupSegments(id)) {
      p = path.join(p, s);
      try {
        if (!fs.lstatSync(p).isDirectory()) return null;
      } catch {
        return null;
      }
    }
    return p;
  }

  /**
   * Every cgroup with the name and id the snapshot would give it, without
   * reading any statistics: discovery's listing (the classifier and the
   * runtimes' state files, what Collector does for names).
   */
  private candidates(): Candidate[] {
    if (this.options.snapshot) return this.options.snapshot().containers;
    return listCgroups(this.mounts, new RuntimeStateReader(this.options.collector ?? {}));
  }

  /** A reference to one existing cgroup. Paths are checked on disk (no collection needed). */
  resolve(ref: string): Candidate {
    const parsed = parseRef(ref);
    if (parsed.kind === 'path') {
      const exists = this.mounts.hierarchies.some((h) => this.dirIn(h, parsed.id) !== null);
      if (!exists) throw new LimitError(`no cgroup ${parsed.id} on this host`, 2, 'not-found');
      const known = this.options.snapshot?.().containers.find((c) => c.id === parsed.id);
      if (known) return known;
      const classification = classifyCgroupPath(parsed.id);
      const state = new RuntimeStateReader(this.options.collector ?? {});
      const { name, containerId, runtime, runtimeConfig } = withDescription(
        identityFromPath(parsed.id, classification),
        state.describe(classification, parsed.id),
      );
      return { id: parsed.id, name, containerId, runtime, runtimeConfig };
    }
    return resolveRef(ref, this.candidates());
  }

  async plan(ref: string, request: LimitRequest, options: LimitOptions = {}): Promise<LimitPlan> {
    const parsed = parseRequest(request, this.host.lookupDevice);
    const c = this.resolve(ref);
    checkCgroupPolicy(c.id, c.name, options);
    const files = new CgroupFiles(this.mounts, c.id);
    const out = planLimit(parsed, files, this.host, options, c.name === c.id ? c.id : `${c.name} (${c.id})`);
    for (const w of out.writes) verifyTarget(checkTargetPath(this.mounts, w.path));
    return { action: 'limit', container: { id: c.id, name: c.name }, writes: out.writes, notes: out.notes };
  }

  /** Restores the changes of tstop processes that died mid-change (see apply.ts). */
  recover(options: { allowSystem?: boolean } = {}): string[] {
    const result = this.recoverWith(null, options.allowSystem === true);
    this.lastRecoverySkipped = result.skipped;
    return result.handled;
  }

  /** Pending records of dead processes the last recover() left pending, and why. */
  lastRecoverySkipped: RecoveryResult['skipped'] = [];

  /**
   * Recovery while holding the lock of one cgroup (its records need no other
   * lock). A record passes the policy a new write would: the cgroup this
   * command was allowed to change (the plan passed the policy with the
   * user's flags), otherwise a container, or any cgroup with allowSystem
   * (`tstop limit recover --allow-system`).
   */
  private recoverWith(heldCgroup: string | null, allowSystem = false): RecoveryResult {
    return recoverInterrupted(this.mounts, this.audit, {
      alive: (r) => writerAlive(r) || !this.confined(r.container.id),
      policy: (r) => {
        try {
          checkCgroupPolicy(r.container.id, r.container.name, {
            allowSystem: allowSystem || r.container.id === heldCgroup,
          });
          return null;
        } catch (err) {
          if (err instanceof LimitError) return err.message;
          throw err;
        }
      },
      lock: (r) =>
        r.container.id === heldCgroup
          ? { release: () => {} }
          : this.locks.tryAcquire(r.container.id, { id: r.id, action: 'recover' }),
    });
  }

  private confined(id: string): boolean {
    const confine = process.env.TSTOP_LIMIT_CONFINE;
    if (!confine) return true;
    const root = validCgroupId(confine, 'TSTOP_LIMIT_CONFINE');
    return id === root || id.startsWith(root + '/');
  }

  async apply(plan: LimitPlan, invocation: Invocation): Promise<LimitResult> {
    checkCgroupPolicy(plan.container.id, plan.container.name, { allowSystem: true });
    return this.locked(plan.container.id, plan.action ?? 'limit', (changeId, lock) =>
      applyPlan(plan, invocation, { ...this.ctx, changeId, waitedFor: lock.waitedFor }),
    );
  }

  async setFrozen(
    ref: string,
    frozen: boolean,
    invocation: Invocation,
    options: LimitOptions & { timeoutMs?: number } = {},
  ): Promise<LimitResult> {
    const c = this.resolve(ref);
    checkCgroupPolicy(c.id, c.name, options);
    if (frozen) checkNotOwnCgroup(c.id, 'freeze');
    const dockerNote = checkDockerPause(c, frozen, options);
    const out = planFreeze(new CgroupFiles(this.mounts, c.id), frozen);
    if (dockerNote !== null) out.notes.push(dockerNote);
    const plan: LimitPlan = {
      action: frozen ? 'freeze' : 'thaw',
      container: { id: c.id, name: c.name },
      writes: out.writes,
      notes: out.notes,
    };
    return this.locked(c.id, plan.action ?? 'freeze', (changeId, lock) =>
      applyPlan(plan, invocation, {
        ...this.ctx,
        changeId,
        waitedFor: lock.waitedFor,
        freezeTimeoutMs: options.timeoutMs ?? this.options.freezeTimeoutMs,
      }),
    );
  }

  /** Process ids in a cgroup and its descendants, from one hierarchy. */
  private subtreePids(dir: string): number[] {
    const pids = new Set<number>();
    for (const d of dirsDeepestFirst(dir)) {
      let text = '';
      try {
        const fd = fs.openSync(path.join(d, 'cgroup.procs'), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
        try {
          text = fs.readFileSync(fd, 'utf8');
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        continue; // removed meanwhile
      }
      for (const l of text.split('\n')) if (l) pids.add(Number(l));
    }
    return [...pids];
  }

  async kill(ref: string, signal: string, invocation: Invocation, options: LimitOptions = {}): Promise<LimitResult> {
    const sig = parseSignal('--signal', signal, os.constants.signals as Record<string, number>);
    const c = this.resolve(ref);
    checkCgroupPolicy(c.id, c.name, options);
    checkNotOwnCgroup(c.id, 'kill');
    return this.locked(c.id, 'kill', (id) => this.killLocked(c, sig, invocation, id));
  }

  private async killLocked(
    c: Candidate,
    sig: { name: string; number: number },
    invocation: Invocation,
    id: string,
  ): Promise<LimitResult> {
    const order = ['memory', 'pids', 'cpu', 'freezer', 'cpuacct'];
    const v1 = order
      .map((ctrl) => this.mounts.hierarchies.find((h) => h.kind === 'v1' && h.controllers.includes(ctrl)))
      .filter((h): h is Hierarchy => h !== undefined);
    const unifiedDir = this.mounts.unified ? this.dirIn(this.mounts.unified, c.id) : null;
    const plan: LimitPlan = { action: 'kill', container: { id: c.id, name: c.name }, writes: [], notes: [] };

    // Pure v2 and SIGKILL: cgroup.kill kills the whole subtree atomically, forks included.
    if (
      this.mounts.mode === 'v2' &&
      sig.name === 'SIGKILL' &&
      unifiedDir &&
      fs.existsSync(path.join(unifiedDir, 'cgroup.kill'))
    ) {
      const t = checkTargetPath(this.mounts, path.join(unifiedDir, 'cgroup.kill'));
      const pids = this.subtreePids(unifiedDir);
      const write: PlannedWrite = { path: t.path, oldValue: '', newValue: '1' };
      const record = makeRecord(id, { ...plan, writes: [write] }, invocation, { signal: sig.name, pids });
      this.appendOrFail(record, 'nothing was signalled');
      try {
        writeTarget(t, '1');
      } catch (err) {
        this.audit.append({ ...record, time: new Date().toISOString(), result: 'rolled-back', error: errnoWords(err) });
        throw new LimitError(`writing 1 to ${t.path} failed: ${errnoWords(err)}`, 1, 'failed');
      }
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline && /(?:^|\n)populated 1/.test(readRelated(t, 'cgroup.events'))) await sleep(10);
      const notes = /(?:^|\n)populated 1/.test(readRelated(t, 'cgroup.events'))
        ? ['processes are still leaving after 5 s']
        : [];
      this.appendOrFail(
        { ...record, time: new Date().toISOString(), result: 'applied', notes },
        'the processes were killed',
      );
      return { changeId: id, writes: [write], notes };
    }

    const dirs = [...v1.map((h) => this.dirIn(h, c.id)), unifiedDir].filter((d): d is string => d !== null);
    if (dirs.length === 0) throw new LimitError(`no cgroup ${c.id} on this host`, 2, 'not-found');
    const pidsNow = (): number[] => [...new Set(dirs.flatMap((d) => this.subtreePids(d)))];
    let pids = pidsNow();
    if (pids.length === 0) throw new LimitError(`${c.id} has no processes: nothing to signal`, 2, 'refused');
    const record = makeRecord(id, plan, invocation, { signal: sig.name, pids });
    this.appendOrFail(record, 'nothing was signalled');
    const signalled = new Set<number>();
    const send = (list: number[]): void => {
      for (const pid of list) {
        try {
          process.kill(pid, sig.number);
          signalled.add(pid);
        } catch {
          // already gone
        }
      }
    };
    send(pids);
    const notes: string[] = [];
    if (sig.name === 'SIGKILL') {
      // Children forked while we signalled: keep going until the cgroup is empty.
      const deadline = Date.now() + 5_000;
      for (;;) {
        pids = pidsNow();
        if (pids.length === 0 || Date.now() > deadline) break;
        send(pids.filter((p) => !signalled.has(p)));
        await sleep(10);
      }
      if (pids.length > 0) notes.push(`${pids.length} processes still present after 5 s`);
    }
    this.appendOrFail(
      { ...record, time: new Date().toISOString(), result: 'applied', pids: [...signalled], notes },
      'the signal was sent',
    );
    return { changeId: id, writes: [], notes };
  }

  private appendOrFail(record: ChangeRecord, what: string): void {
    try {
      this.audit.append(record);
    } catch (err) {
      if (err instanceof LimitError) throw err;
      throw new LimitError(`cannot write the audit log ${this.audit.file} (${errnoWords(err)}); ${what}`, 1, 'failed');
    }
  }

  async history(filter: { ref?: string; last?: number } = {}): Promise<ChangeRecord[]> {
    let changes = this.audit.changes();
    const ref = filter.ref;
    if (ref !== undefined) {
      const p = ref.startsWith('/') ? parseRef(ref) : null;
      const id = p?.kind === 'path' ? p.id : null;
      changes = changes.filter(
        (r) =>
          (id !== null && r.container.id === id) ||
          r.container.name === ref ||
          (/^[0-9a-f]{4,}$/.test(ref) && (r.container.id.split('/').pop() ?? '').includes(ref)),
      );
    }
    if (filter.last !== undefined) changes = changes.slice(-filter.last);
    return changes;
  }

  /** The change an id or unique prefix names. */
  findChange(changeId: string): ChangeRecord {
    if (!/^[0-9a-f]{1,12}$/.test(changeId)) {
      throw new LimitError(
        `change id ${quote(changeId)} is not an id (12 hex digits, or a unique prefix)`,
        2,
        'invalid',
      );
    }
    const all = this.audit.changes();
    const matches = all.filter((r) => r.id.startsWith(changeId));
    if (matches.length === 0)
      throw new LimitError(`no change ${quote(changeId)} in ${this.audit.file}`, 2, 'not-found');
    if (matches.length > 1) {
      throw new LimitError(
        `change id ${quote(changeId)} is ambiguous: ${matches.map((m) => m.id).join(', ')}`,
        2,
        'ambiguous',
      );
    }
    return matches[0];
  }

  async planUndo(changeId: string, options: LimitOptions = {}): Promise<LimitPlan> {
    const r = this.findChange(changeId);
    if (r.action === 'kill') throw refused(`change ${r.id} sent ${r.signal ?? 'a signal'}; signals cannot be undone`);
    if (r.result !== 'applied') {
      throw refused(`change ${r.id} was not applied (${r.result}); there is nothing to undo`);
    }
    const undoneBy = this.audit.changes().find((x) => x.undoes === r.id && x.result === 'applied');
    if (undoneBy && !options.force) throw refused(`change ${r.id} was already undone by ${undoneBy.id}`);
    checkCgroupPolicy(r.container.id, r.container.name, options);
    const writes: PlannedWrite[] = [];
    const notes: string[] = [];
    const changedSince: string[] = [];
    const devices = r.writes.filter((w) => /\/devices\.(allow|deny)$/.test(w.path));
    for (const w of [...r.writes].reverse()) {
      const t = checkTargetPath(this.mounts, w.path);
      if (t.cgroupId !== r.container.id)
        throw refused(`refusing to undo: ${w.path} is not a file of ${r.container.id}`);
      if (t.file === 'devices.allow' || t.file === 'devices.deny') continue;
      const sem = semanticsOf(t.file);
      let current: string;
      try {
        current = currentValue(t, w.newValue);
      } catch (err) {
        if (err instanceof LimitError) throw err;
        throw new LimitError(`cannot read ${w.path}: ${errnoWords(err)}`, 1, 'failed');
      }
      const restored = restoreValue(t, w.oldValue);
      const restoreTo = restored.value;
      if (restored.note) notes.push(restored.note);
      if (sem.satisfies(current, w.oldValue) || (restored.note && sem.satisfies(current, restoreTo))) {
        notes.push(`${w.path} already holds its old value ${w.oldValue}`);
        continue;
      }
      if (!sem.satisfies(current, w.newValue))
        changedSince.push(`${w.path} (now ${JSON.stringify(current)}, the change set ${JSON.stringify(w.newValue)})`);
      writes.push({ path: w.path, oldValue: current, newValue: restoreTo });
    }
    if (devices.length > 0) {
      const first = devices[0];
      const t = checkTargetPath(this.mounts, first.path);
      const list = readRelated(t, 'devices.list');
      const same = normalizeDeviceList(list) === normalizeDeviceList(first.oldValue);
      const expected = expectedDeviceList(
        first.oldValue,
        devices.map((w) => [path.basename(w.path), w.newValue]),
      );
      if (!same && normalizeDeviceList(list) !== expected) {
        changedSince.push(
          `${path.join(path.dirname(first.path), 'devices.list')} (now ${JSON.stringify(list)}, the change left ${JSON.stringify(expected)})`,
        );
      }
      if (same && list.trim() !== 'a *:* rwm')
        notes.push(`${path.join(path.dirname(first.path), 'devices.list')} already holds its old rules`);
      else
        for (const [file, value] of restoreDeviceList(first.oldValue, list)) {
          writes.push({ path: path.join(path.dirname(first.path), file), oldValue: list, newValue: value });
        }
    }
    if (changedSince.length > 0 && !options.force) {
      throw new LimitError(
        `not undoing ${r.id}: changed since by someone else: ${changedSince.join('; ')}; pass --force to restore the old values anyway`,
        2,
        'conflict',
      );
    }
    for (const w of writes) verifyTarget(checkTargetPath(this.mounts, w.path));
    if (writes.length === 0)
      throw new LimitError(`nothing to undo: every file of ${r.id} already holds its old value`, 2, 'invalid');
    return { action: 'undo', undoes: r.id, container: r.container, writes, notes };
  }
}

export function createLimiter(options: LimiterOptions = {}): CgroupLimiter {
  return new CgroupLimiter(options);
}

/**
 * docker keeps its own pause state and does not see the freezer tstop sets:
 * after tstop freeze, docker ps says Up and docker exec, pause and unpause
 * fail; after docker pause, tstop thaw leaves docker saying Paused. A thaw of
 * what docker paused is refused (--force does it anyway); a freeze says so.
 */
function checkDockerPause(c: Candidate, frozen: boolean, options: LimitOptions): string | null {
  const rc = c.runtimeConfig ?? null;
  if (rc === null) return null;
  if (!frozen && rc.paused) {
    if (!options.force) {
      throw refused(
        `${c.name} was paused by docker (docker pause): docker unpause ${c.name} thaws it and keeps docker's state true; ` +
          'tstop thaw would leave docker saying Paused and refusing exec (--force thaws it anyway)',
      );
    }
    return `docker still says ${c.name} is Paused: run docker unpause ${c.name} to set its state right`;
  }
  if (frozen && !rc.paused) {
    return (
      `docker does not see this freeze: docker ps keeps saying Up, and docker exec, pause and unpause fail ` +
      `until tstop thaw ${c.name} (docker pause ${c.name} is docker's own freeze)`
    );
  }
  return null;
}
