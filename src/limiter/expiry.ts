// Limits that expire (`tstop limit C ... --for 30m`): the change's audit
// record carries its deadline (expiresAt), and the change stays a pending
// expiry until a later record resolves it: its revert ('undo' with
// expired: true, applied or skipped), a keep, or a user's undo. The audit
// log is the only state, so pending expiries survive a reboot or a killed
// reverter: whoever runs expiries next reads them from there.
//
// One process at a time runs expiries for an audit log: the holder of
// flock(2) on <audit log>.expiry.lock, beside it. An agent (record, export,
// guard) takes that lock while it runs; otherwise a change made with --for
// starts a small detached reverter (`tstop limit __expire`, its own session)
// that holds it until nothing is pending. The kernel drops the lock when its
// holder dies (kill -9 included), so the next tstop to look takes over.
// This file is the pure part, the lock and the spawn; expiry-runner.ts runs
// the reverts through the limiter.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tryLockExclusive, tryLockShared } from '../util/flock.js';
import { DurationError, formatDurationMs, parseDurationMs } from '../util/duration.js';
import { packagePath } from '../util/package-root.js';
import { LimitError, type ChangeRecord } from './api.js';
import { checkPrivateDir, type AuditLog } from './audit.js';
import { openLockFile } from './lock.js';
import { errnoWords } from './safety.js';
import { quote } from './units.js';

/** --for bounds: shorter than a second is a typo; the audit log is no place for year-long timers. */
export const MIN_FOR_MS = 1_000;
export const MAX_FOR_MS = 30 * 86_400_000;

/** Checks a --for duration in ms (the dashboard's, the guard's and the CLI's). */
export function checkForMs(ms: number, text = formatDurationMs(ms)): number {
  if (!Number.isFinite(ms) || ms < MIN_FOR_MS)
    throw new LimitError(`--for ${quote(text)}: must be at least 1s; nothing was changed`, 2, 'invalid');
  if (ms > MAX_FOR_MS)
    throw new LimitError(`--for ${quote(text)}: must be at most 30d; nothing was changed`, 2, 'invalid');
  return Math.round(ms);
}

/** Parses --for ("30m", "1h30m", "90" seconds); refuses what is not a duration from 1s to 30d. */
export function parseForDuration(text: string): number {
  let ms: number;
  try {
    ms = parseDurationMs(text);
  } catch (err) {
    if (err instanceof DurationError)
      throw new LimitError(
        `--for ${quote(text)}: not a duration (examples: 30s, 10m, 2h30m, 7d); nothing was changed`,
        2,
        'invalid',
      );
    throw err;
  }
  return checkForMs(ms, text);
}

export interface PendingExpiry {
  change: ChangeRecord;
  deadlineMs: number;
}

/**
 * The changes made with --for that nothing resolved yet, earliest deadline
 * first. Resolved: an applied or skipped undo of it (the revert, or the
 * user's undo), or an applied keep. Pure.
 */
export function pendingExpiries(changes: readonly ChangeRecord[]): PendingExpiry[] {
  const resolved = new Set<string>();
  for (const r of changes) {
    if (r.undoes && (r.result === 'applied' || r.result === 'skipped')) resolved.add(r.undoes);
    if (r.action === 'keep' && r.keeps && r.result === 'applied') resolved.add(r.keeps);
  }
  return changes
    .filter((r) => r.expiresAt !== undefined && r.result === 'applied' && r.action === 'limit' && !resolved.has(r.id))
    .map((change) => ({ change, deadlineMs: Date.parse(change.expiresAt!) }))
    .filter((p) => Number.isFinite(p.deadlineMs))
    .sort((a, b) => a.deadlineMs - b.deadlineMs);
}

/** The pending expiries of an audit log, read again only when the log changed (its inode, size, mtime). */
export class PendingExpiryReader {
  private cache: { key: string; pending: PendingExpiry[] } | null = null;

  constructor(private readonly audit: AuditLog) {}

  read(): PendingExpiry[] {
    let key = 'none';
    try {
      const st = fs.statSync(this.audit.file);
      key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      // no log yet: nothing pending
    }
    if (this.cache?.key !== key)
      this.cache = { key, pending: key === 'none' ? [] : pendingExpiries(this.audit.changes()) };
    return this.cache.pending;
  }
}

/** Who runs the expiries of an audit log (the lock file's content). */
export interface ExpiryHolder {
  pid: number;
  /** reverter (the detached `tstop limit __expire`), record, export, guard. */
  role: string;
  since: string;
}

/** Closes a lock's descriptor, if open (the last descriptor of the open file: the kernel drops the flock). */
function closed(fd: number | null): null {
  if (fd !== null) fs.closeSync(fd);
  return null;
}

/**
 * The runner lock of an audit log (<audit log>.expiry.lock): its holder runs
 * the expiries. Beside it, the agents' mark (<audit log>.agent.lock: every
 * running agent holds a shared flock on it, so a reverter leaves the
 * expiries to it) and the reverter's own lock (<audit log>.reverter.lock:
 * one detached reverter at a time, held for its life).
 */
export class ExpiryLock {
  readonly file: string;
  readonly agentFile: string;
  private fd: number | null = null;
  readonly reverterFile: string;
  private agentFd: number | null = null;
  private reverterFd: number | null = null;

  constructor(readonly auditFile: string) {
    const beside = (suffix: string): string =>
      path.join(path.dirname(auditFile), `${path.basename(auditFile)}${suffix}`);
    this.file = beside('.expiry.lock');
    this.agentFile = beside('.agent.lock');
    this.reverterFile = beside('.reverter.lock');
  }

  /** Marks this process as a running agent (once the audit log's directory exists); true when marked. */
  markAgent(): boolean {
    if (this.agentFd !== null) return true;
    const fd = this.open(this.agentFile, 'the agent lock');
    if (fd === null) return false;
    if (!tryLockShared(fd)) {
      fs.closeSync(fd); // a reverter is looking this instant: mark at the next try
      return false;
    }
    this.agentFd = fd;
    return true;
  }

  unmarkAgent(): void {
    this.agentFd = closed(this.agentFd);
  }

  /** Whether an agent (record, export, guard) other than this process's mark runs now. */
  agentPresent(): boolean {
    return this.taken(this.agentFile, 'the agent lock');
  }

  /** Takes the reverter's own lock for the process's life: false when a reverter runs already. */
  takeReverter(): boolean {
    if (this.reverterFd !== null) return true;
    this.reverterFd = this.takeExclusive(this.reverterFile, 'the reverter lock', 'reverter');
    return this.reverterFd !== null;
  }

  releaseReverter(): void {
    this.reverterFd = closed(this.reverterFd);
  }

  /** Whether a detached reverter runs (running expiries, or standing by while an agent does). */
  reverterRunning(): boolean {
    return this.taken(this.reverterFile, 'the reverter lock');
  }

  /** Whether another open file holds a lock on file (probed with a non-blocking exclusive lock). */
  private taken(file: string, what: string): boolean {
    const fd = this.open(file, what);
    if (fd === null) return false;
    try {
      return !tryLockExclusive(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** An exclusive lock on file with who holds it written inside; null when someone else holds it. */
  private takeExclusive(file: string, what: string, role: string): number | null {
    const fd = this.open(file, what);
    if (fd === null) return null;
    if (!tryLockExclusive(fd)) {
      fs.closeSync(fd);
      return null;
    }
    const holder: ExpiryHolder = { pid: process.pid, role, since: new Date().toISOString() };
    const text = Buffer.from(JSON.stringify(holder));
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, text, 0, text.length, 0);
    return fd;
  }

  get held(): boolean {
    return this.fd !== null;
  }

  /** Opens a lock file (creating it when the audit log's directory exists); null when there is no directory yet. */
  private open(file = this.file, what = 'the expiry lock'): number | null {
    const dir = path.dirname(file);
    if (!fs.existsSync(dir)) return null;
    try {
      checkPrivateDir(dir, "the audit log's directory");
      return openLockFile(file, what);
    } catch (err) {
      if (err instanceof LimitError) throw err;
      throw new LimitError(`cannot open ${what} ${file}: ${errnoWords(err)}`, 1, 'failed');
    }
  }

  /** Takes the lock if nobody holds it; true when this process now runs the expiries. */
  tryTake(role: string): boolean {
    if (this.fd !== null) return true;
    this.fd = this.takeExclusive(this.file, 'the expiry lock', role);
    return this.fd !== null;
  }

  release(): void {
    this.fd = closed(this.fd);
  }

  /** Who holds the lock now (null: nobody, so the expiries wait for the next tstop). */
  holder(): ExpiryHolder | null {
    if (this.fd !== null) return JSON.parse(fs.readFileSync(this.file, 'utf8')) as ExpiryHolder;
    const fd = this.open();
    if (fd === null) return null;
    try {
      if (tryLockExclusive(fd)) return null; // free (closing drops it again)
      const v = JSON.parse(fs.readFileSync(fd, 'utf8')) as ExpiryHolder;
      return typeof v.pid === 'number' ? v : { pid: 0, role: 'unknown', since: '' };
    } catch {
      return { pid: 0, role: 'unknown', since: '' };
    } finally {
      fs.closeSync(fd);
    }
  }
}

/**
 * Starts the detached reverter for an audit log: `tstop limit __expire`, in
 * its own session, its output appended to <audit log>.expiry.log. It exits
 * at once if another process holds the lock.
 */
export function spawnReverter(auditFile: string, root?: string): number | undefined {
  const logFile = path.join(path.dirname(auditFile), `${path.basename(auditFile)}.expiry.log`);
  const out = fs.openSync(
    logFile,
    fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW,
    0o600,
  );
  try {
    const args = [packagePath('bin', 'tstop.js'), 'limit', '__expire', '--audit-log', auditFile];
    if (root !== undefined && root !== '/') args.push('--root', root);
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: '/',
      env: process.env,
    });
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(out);
  }
}

/**
 * Makes sure someone runs the pending expiries of an audit log: when there
 * are any and nobody holds the runner lock, a reverter is started. Called
 * after a change made with --for and by every `tstop limit` command (so a
 * killed reverter's expiries are picked up by the next one).
 */
export function ensureReverter(auditFile: string, changes: readonly ChangeRecord[], root?: string): boolean {
  if (pendingExpiries(changes).length === 0) return false;
  // One reverter per audit log; it stands by while an agent runs them (and takes over if that agent is killed).
  if (new ExpiryLock(auditFile).reverterRunning()) return false;
  spawnReverter(auditFile, root);
  return true;
}
