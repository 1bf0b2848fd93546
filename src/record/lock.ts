// One recorder per store: an exclusive flock(2) on STORE/lock, taken without
// waiting. The kernel drops it when the process dies (kill -9 included), so
// there is no stale lock to clean up. The file also holds the owner's pid,
// for the refusal message.

import fs from 'node:fs';
import path from 'node:path';
import { ExpectedError } from '../util/errors.js';
import { flockAvailable, tryLockExclusive } from '../util/flock.js';

export class StoreLockedError extends ExpectedError {
  constructor(dir: string, owner: string) {
    super(
      `the store ${dir} is already being recorded by ${owner}; stop that recorder first, or give this one another --store`,
      1,
    );
  }
}

export class StoreLock {
  private constructor(private readonly fd: number) {}

  /** Takes the store's lock or throws StoreLockedError naming the holder. */
  static acquire(dir: string): StoreLock {
    const file = path.join(dir, 'lock');
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
    if (flockAvailable()) {
      if (!tryLockExclusive(fd)) {
        const owner = ownerOf(fd);
        fs.closeSync(fd);
        throw new StoreLockedError(dir, owner);
      }
    } else {
      // No flock binding: a pid file, trusted while that pid lives.
      const pid = Number(readAll(fd).trim());
      if (pid > 0 && pid !== process.pid && alive(pid)) {
        fs.closeSync(fd);
        throw new StoreLockedError(dir, `pid ${pid}`);
      }
    }
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, `${process.pid}\n`, 0);
    return new StoreLock(fd);
  }

  release(): void {
    fs.closeSync(this.fd); // closing the descriptor drops the flock
  }
}

function readAll(fd: number): string {
  const buf = Buffer.alloc(64);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  return buf.subarray(0, n).toString();
}

function ownerOf(fd: number): string {
  const pid = Number(readAll(fd).trim());
  return pid > 0 ? `pid ${pid}` : 'another process';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
