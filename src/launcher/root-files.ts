// Reading a container's own files (/etc/passwd, /etc/group for -u NAME) as
// host root without being led out of it: the path is resolved inside the
// container's root (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS from a
// descriptor of that root, so an absolute symlink `etc/passwd -> /etc/shadow`
// means the container's /etc/shadow, never the host's), opened O_PATH
// first, read only if it is a regular file (a FIFO would block tstop, a
// device node could act on open), and at most MAX_ROOT_FILE_BYTES.
// openat2 is called through koffi (Node has no binding); loaded only for
// -u NAME.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ExpectedError } from '../util/errors.js';

export const MAX_ROOT_FILE_BYTES = 4 * 1024 * 1024;

const SYS_OPENAT2: Partial<Record<string, number>> = { x64: 437, arm64: 437, arm: 437, ia32: 437, riscv64: 437 };
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_IN_ROOT = 0x10;
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000; // openat2 refuses any other flag with O_PATH (EINVAL)

/** A file of the container that tstop refuses to read (exit 125). */
export class RootFileError extends ExpectedError {
  constructor(message: string) {
    super(message, 125);
  }
}

type Openat2 = (dirfd: number, rel: string, how: Buffer) => { fd: number; errno: number };
let openat2: Openat2 | null | undefined;

function loadOpenat2(): Openat2 | null {
  if (openat2 !== undefined) return openat2;
  openat2 = null;
  const nr = SYS_OPENAT2[process.arch];
  if (nr === undefined) return null;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as {
      load(name: string): { func(signature: string): (...args: unknown[]) => number };
      errno(): number;
    };
    const syscall = koffi.load('libc.so.6').func('long syscall(long number, ...)');
    openat2 = (dirfd, rel, how) => {
      const fd = Number(syscall(nr, 'int', dirfd, 'str', rel, 'void *', how, 'size_t', how.length));
      return { fd, errno: fd < 0 ? koffi.errno() : 0 };
    };
  } catch {
    openat2 = null;
  }
  return openat2;
}

/**
 * The text of `rel` (e.g. 'etc/passwd') inside the directory tree `root`
 * (a rootfs, or /proc/<pid>/root), or null when it does not exist there.
 */
export function readFileInRoot(root: string, rel: string): string | null {
  const open = loadOpenat2();
  const shown = `/${rel.replace(/^\/+/, '')}`;
  if (!open)
    throw new RootFileError(
      `cannot read ${shown} inside ${root} safely here (no openat2 through koffi): give -u as numeric ids`,
    );
  const rootFd = fs.openSync(root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  let fd = -1;
  try {
    const how = Buffer.alloc(24); // struct open_how { u64 flags, mode, resolve }
    how.writeBigUInt64LE(BigInt(O_PATH | O_CLOEXEC), 0);
    how.writeBigUInt64LE(BigInt(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), 16);
    const r = open(rootFd, rel.replace(/^\/+/, ''), how);
    if (r.fd < 0) {
      if (r.errno === 2 || r.errno === 20) return null; // ENOENT, ENOTDIR
      if (r.errno === 38)
        throw new RootFileError(`cannot read ${shown} inside ${root}: openat2 needs Linux 5.6 or later`);
      throw new RootFileError(`cannot open ${shown} inside ${root}: errno ${r.errno}`);
    }
    fd = r.fd;
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new RootFileError(`${shown} inside ${root} is not a regular file: not read`);
    if (st.size > MAX_ROOT_FILE_BYTES) {
      throw new RootFileError(`${shown} inside ${root} is larger than ${MAX_ROOT_FILE_BYTES} bytes: not read`);
    }
    // The O_PATH descriptor reopened for reading: the very file checked above.
    const readFd = fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const buf = Buffer.alloc(MAX_ROOT_FILE_BYTES + 1);
      let n = 0;
      for (let got = -1; got !== 0 && n < buf.length; n += got) got = fs.readSync(readFd, buf, n, buf.length - n, null);
      if (n > MAX_ROOT_FILE_BYTES)
        throw new RootFileError(`${shown} inside ${root} grew past ${MAX_ROOT_FILE_BYTES} bytes`);
      return buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(readFd);
    }
  } finally {
    if (fd >= 0) fs.closeSync(fd);
    fs.closeSync(rootFd);
  }
}

/** A reader for resolveUser: the container's etc files, looked up inside its root. */
export function rootFileReader(root: string): (rel: string) => string | null {
  return (rel) => readFileInRoot(root, path.posix.normalize(rel));
}
