// flock(2) through koffi. Node has no file locks of its own; flock is the
// right kind here: the lock belongs to the open file description, so two
// descriptors in one process exclude each other like two processes do, and
// the kernel drops it when the holder dies (kill -9 included), so a crashed
// tstop can never leave a stale lock behind (a lock file created with
// O_EXCL and a pid inside would need guessing whether that pid still lives).

import { createRequire } from 'node:module';

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;
const EINTR = 4;

interface Libc {
  flock(fd: number, operation: number): number;
  errno(): number;
}

let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as {
      load(name: string): { func(signature: string): (...args: unknown[]) => number };
      errno(): number;
    };
    const flock = koffi.load('libc.so.6').func('int flock(int fd, int operation)');
    libc = { flock: (fd, op) => flock(fd, op), errno: () => koffi.errno() };
  } catch {
    libc = null;
  }
  return libc;
}

function lib(): Libc {
  const l = loadLibc();
  if (!l)
    throw Object.assign(new Error('flock(2) is not available (koffi could not load libc.so.6)'), { code: 'ENOSYS' });
  return l;
}

function errnoError(errno: number, what: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${what} failed (errno ${errno})`), { errno, code: `E${errno}` });
}

/** Takes an exclusive lock without waiting: true if taken, false if another open file holds it. */
export function tryLockExclusive(fd: number): boolean {
  return tryLock(fd, LOCK_EX);
}

/** Takes a shared lock without waiting: false only while another open file holds it exclusively. */
export function tryLockShared(fd: number): boolean {
  return tryLock(fd, LOCK_SH);
}

function tryLock(fd: number, kind: number): boolean {
  const l = lib();
  for (;;) {
    if (l.flock(fd, kind | LOCK_NB) === 0) return true;
    const errno = l.errno();
    if (errno === EWOULDBLOCK) return false;
    if (errno !== EINTR) throw errnoError(errno, 'flock');
  }
}

/**
 * Takes an exclusive lock, waiting for it. Blocks the thread: only for
 * locks held for a few system calls (the audit log's append).
 */
export function lockExclusive(fd: number): void {
  const l = lib();
  for (;;) {
    if (l.flock(fd, LOCK_EX) === 0) return;
    const errno = l.errno();
    if (errno !== EINTR) throw errnoError(errno, 'flock');
  }
}
