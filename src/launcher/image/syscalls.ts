// The system calls layer extraction needs and Node lacks: mknod (overlayfs
// whiteouts are 0/0 character devices; FIFOs) and lsetxattr/lgetxattr
// (trusted.overlay.opaque, security.capability from a layer's PAX
// headers), through koffi, loaded only by `tstop load` and `run --image`.

import { createRequire } from 'node:module';
import { ExpectedError } from '../../util/errors.js';

interface Libc {
  mknod(path: string, mode: number, dev: bigint): number;
  lsetxattr(path: string, name: string, value: Buffer, size: number, flags: number): number;
  lgetxattr(path: string, name: string, value: Buffer, size: number): number;
  errno(): number;
}

let libc: Libc | undefined;

function lib(): Libc {
  if (libc) return libc;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as {
      load(name: string): { func(signature: string): (...args: unknown[]) => number };
      errno(): number;
    };
    const c = koffi.load('libc.so.6');
    const mknod = c.func('int mknod(const char *path, uint32_t mode, uint64_t dev)');
    const lsetxattr = c.func(
      'int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)',
    );
    const lgetxattr = c.func('long lgetxattr(const char *path, const char *name, void *value, size_t size)');
    libc = {
      mknod: (p, mode, dev) => mknod(p, mode, dev),
      lsetxattr: (p, n, v, s, f) => lsetxattr(p, n, v, s, f),
      lgetxattr: (p, n, v, s) => Number(lgetxattr(p, n, v, s)),
      errno: () => koffi.errno(),
    };
    return libc;
  } catch (err) {
    throw new ExpectedError(`cannot load libc through koffi for mknod/setxattr: ${(err as Error).message}`);
  }
}

function errnoError(what: string, errno: number): NodeJS.ErrnoException {
  const names: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 17: 'EEXIST', 61: 'ENODATA', 95: 'EOPNOTSUPP' };
  return Object.assign(new Error(`${what}: errno ${errno} (${names[errno] ?? 'error'})`), {
    errno,
    code: names[errno] ?? `E${errno}`,
  });
}

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;

/** mknod(2); never follows a symlink (it fails with EEXIST on any existing name). */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  const dev = (BigInt(major) << 8n) | BigInt(minor); // old encoding: enough for 0/0 and FIFOs
  if (lib().mknod(path, mode, dev) !== 0) throw errnoError(`mknod ${path}`, lib().errno());
}

/** lsetxattr(2): on the name itself, never through a symlink. */
export function lsetxattr(path: string, name: string, value: Buffer): void {
  if (lib().lsetxattr(path, name, value, value.length, 0) !== 0)
    throw errnoError(`setxattr ${name} on ${path}`, lib().errno());
}

/** lgetxattr(2): the value, or null when the attribute is not set. */
export function lgetxattr(path: string, name: string): Buffer | null {
  const buf = Buffer.alloc(256);
  const n = lib().lgetxattr(path, name, buf, buf.length);
  if (n < 0) {
    const errno = lib().errno();
    if (errno === 61 || errno === 2) return null;
    throw errnoError(`getxattr ${name} on ${path}`, errno);
  }
  return buf.subarray(0, n);
}
