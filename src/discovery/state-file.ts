// Reading one runtime state file. The state files live in directories the
// runtimes (and whoever controls a container's metadata) write, so a file is
// read only if it is a regular file itself (lstat in the cache, then
// O_NOFOLLOW and fstat on the descriptor: a symlink to /etc/shadow, or a FIFO
// that would block the read, is skipped) and at most MAX_STATE_FILE_BYTES
// long (the biggest real ones, podman's containers.json with hundreds of
// containers, are some hundred KiB). A skipped file is named in the cache's
// problems(), which the collector puts in the snapshot's notes.

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** The largest runtime state file read; larger ones are skipped with a note. */
export const MAX_STATE_FILE_BYTES = 4 * 1024 * 1024;

/** A file deliberately not read; the message is the note. */
export class SkippedFile extends Error {}

export const SYMLINK_SKIPPED = 'skipped: a symbolic link (state files are not followed)';

/** A regular file's text, read without following a symlink and up to the cap. */
export function readStateFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new SkippedFile('skipped: not a regular file');
    if (st.size > MAX_STATE_FILE_BYTES) throw new SkippedFile(tooLarge(st.size));
    let buf = Buffer.allocUnsafe(st.size + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
      if (n > MAX_STATE_FILE_BYTES) throw new SkippedFile(tooLarge(n)); // grew while being read
      if (n === buf.length) {
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, MAX_STATE_FILE_BYTES + 1));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export function tooLarge(bytes: number): string {
  return `skipped: ${bytes} bytes, above the ${MAX_STATE_FILE_BYTES / 1024 / 1024} MiB cap for a state file`;
}
