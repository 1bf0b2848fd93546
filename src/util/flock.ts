// flock(2) through the tstop-sys addon, else koffi. Node has no file locks of its own; flock is the
// right kind here: the lock belongs to the open file description, so two
// descriptors in one process exclude each other like two processes do, and
// the kernel drops it when the holder dies (kill -9 included), so a crashed
// tstop can never leave a stale lock behind (a lock file created with
// O_EXCL and a pid inside would need guessing whether that pid still lives).

import { createRequire } from 'node:module';
import { sysAddon } from './sys-addon.js';

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;
const EINTR = 4;

/** flock(2): 0, or the errno of its failure. */
export type FlockCall = (fd: number, operation: number) => number;

let flockCall: FlockCall | null | undefined;

function loadFlock(): FlockCall | null {
  if (flockCall !== undefined) return flockCall;
  const addon = sysAddon();
  flockCall = addon ? (fd, op) => -addon.flock(fd, op) | 0 : flockThroughKoffi();
  return flockCall;
}

/** The same call through koffi and libc (the fallback; tstop-sys.node is the first choice), or null. */
export function flockThroughKoffi(): FlockCall | null {
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as {
      load(name: string): { func(signature: string): (...args: unknown[]) => number };
      errno(): number;
    };
    const flock = koffi.load('libc.so.6').func('int flock(int fd, int operation)');
    return (fd, op) => (flock(fd, op) === 0 ? 0 : koffi.errno());
  } catch {
    return null;
  }
}

/** Whether flock(2) can be had here (the addon or koffi); without it the lock functions throw ENOSYS. */
export function flockAvailable(): boolean {
  return loadFlock() !== null;
}

function lib(): FlockCall {
  const l = loadFlock();
  if (!l)
    throw Object.assign(new Error('flock(2) is not available (neither tstop-sys.node nor koffi loads)'), {
      code: 'ENOSYS',
    });
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
  const flock = lib();
  for (;;) {
    const errno = flock(fd, kind | LOCK_NB);
    if (errno === 0) return true;
    if (errno === EWOULDBLOCK) return false;
    if (errno !== EINTR) throw errnoError(errno, 'flock');
  }
}

/**
 * Takes an exclusive lock, waiting for it. Blocks the thread: only for
 * locks held for a few system calls (the audit log's append).
 */
export function lockExclusive(fd: number): void {
  const flock = lib();
  for (;;) {
    const errno = flock(fd, LOCK_EX);
    if (errno === 0) return;
    if (errno !== EINTR) throw errnoError(errno, 'flock');
  }
}
