// One change at a time per cgroup. A change holds its cgroup's lock from
// reading the old values (the compare step) to its last audit record, so
// two changes can never interleave their writes, read-backs and rollbacks
// (issue 11: A's rollback undid B's applied value and the log no longer
// matched the kernel). The lock is flock(2) on a file per cgroup in a
// directory beside the audit log (<audit log>.locks/, named by a hash of the
// cgroup id): the kernel releases it when the holder dies, so there are no
// stale locks; per cgroup, so freezing one container for seconds does not
// hold up a change to another. The holder writes who it is into the file,
// for the message a waiter gives up with.

import fs from 'node:fs';
import path from 'node:path';
import { tryLockExclusive } from '../util/flock.js';
import { loadCrypto } from '../util/lazy-builtins.js';
import { LimitError } from './api.js';
import { checkPrivateDir, checkPrivateFile } from './audit.js';
import { errnoWords } from './safety.js';

/** How long a change waits for another change to the same cgroup (--lock-timeout). */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
const POLL_MS = 25;

export interface LockHolder {
  pid: number;
  /** The change id the holder will log. */
  id: string;
  action: string;
  container: string;
  since: string;
}

export interface HeldLock {
  /** Who held the lock when this change first found it taken (null: it was free). */
  waitedFor: LockHolder | null;
  waitedMs: number;
  release(): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function describeHolder(h: LockHolder | null): string {
  return h ? `change ${h.id}, pid ${h.pid}, ${h.action} since ${h.since}` : 'holder unknown';
}

/**
 * Opens (creating) a lock file tstop trusts, read-write, without following a
 * symlink; refuses one that is not a regular file or not private (checkPrivateFile).
 */
export function openLockFile(file: string, what: string): number {
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new LimitError(`refusing ${what} ${file}: it is not a regular file`, 2, 'refused');
    checkPrivateFile(st, file, what);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

export class ChangeLocks {
  readonly dir: string;

  constructor(auditFile: string) {
    this.dir = path.join(path.dirname(auditFile), `${path.basename(auditFile)}.locks`);
  }

  fileFor(cgroupId: string): string {
    return path.join(this.dir, loadCrypto().createHash('sha256').update(cgroupId).digest('hex').slice(0, 32) + '.lock');
  }

  private open(cgroupId: string): number {
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      checkPrivateDir(this.dir, 'the lock directory');
      return openLockFile(this.fileFor(cgroupId), 'the lock file');
    } catch (err) {
      if (err instanceof LimitError) throw err;
      throw new LimitError(`cannot open the change lock in ${this.dir}: ${errnoWords(err)}; nothing was changed`, 1);
    }
  }

  private static readHolder(fd: number): LockHolder | null {
    try {
      const buf = Buffer.alloc(4096);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      const v = JSON.parse(buf.subarray(0, n).toString('utf8')) as LockHolder;
      return typeof v.pid === 'number' && typeof v.id === 'string' ? v : null;
    } catch {
      return null; // being rewritten, or never written
    }
  }

  /**
   * Takes the lock of one cgroup, waiting up to timeoutMs while another
   * change holds it; then gives up with "another change is in progress".
   */
  async acquire(
    cgroupId: string,
    me: { id: string; action: string },
    timeoutMs = DEFAULT_LOCK_TIMEOUT_MS,
  ): Promise<HeldLock> {
    const fd = this.open(cgroupId);
    const start = Date.now();
    let waitedFor: LockHolder | null = null;
    try {
      for (;;) {
        if (tryLockExclusive(fd)) break;
        waitedFor ??= ChangeLocks.readHolder(fd);
        if (Date.now() - start >= timeoutMs) {
          const holder = ChangeLocks.readHolder(fd) ?? waitedFor;
          throw new LimitError(
            `another change is in progress on ${cgroupId} (${describeHolder(holder)}); waited ${((Date.now() - start) / 1000).toFixed(1)} s (--lock-timeout); nothing was changed`,
            2,
            'conflict',
          );
        }
        await sleep(POLL_MS);
      }
      const holder: LockHolder = {
        pid: process.pid,
        id: me.id,
        action: me.action,
        container: cgroupId,
        since: new Date().toISOString(),
      };
      const text = Buffer.from(JSON.stringify(holder));
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, text, 0, text.length, 0);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    let released = false;
    return {
      waitedFor,
      waitedMs: Date.now() - start,
      release: () => {
        if (released) return;
        released = true;
        fs.closeSync(fd); // closing the last descriptor of the open file drops the flock
      },
    };
  }

  /** Takes the lock only if it is free at once; null otherwise (recovery skips what someone is handling). */
  tryAcquire(cgroupId: string, me: { id: string; action: string }): HeldLock | null {
    const fd = this.open(cgroupId);
    let ok = false;
    try {
      ok = tryLockExclusive(fd);
    } finally {
      if (!ok) fs.closeSync(fd);
    }
    if (!ok) return null;
    const text = Buffer.from(
      JSON.stringify({
        pid: process.pid,
        id: me.id,
        action: me.action,
        container: cgroupId,
        since: new Date().toISOString(),
      }),
    );
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, text, 0, text.length, 0);
    let released = false;
    return {
      waitedFor: null,
      waitedMs: 0,
      release: () => {
        if (released) return;
        released = true;
        fs.closeSync(fd);
      },
    };
  }
}

export { describeHolder };
