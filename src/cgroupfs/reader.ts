// Reads cgroup files through file descriptors kept open between ticks and
// re-read with a positional read at offset 0 (the kernel regenerates a
// cgroup file's content on every read from the start). One shared buffer
// serves every read, so a tick allocates nothing per file.

import fs from 'node:fs';
import { BatchReads } from './batch.js';

/** Not opened yet (or to be probed again after a rescan). */
export const FD_UNOPENED = -2;
/** The file does not exist here (not this kernel, controller not enabled, no permission). */
export const FD_ABSENT = -1;
/** The file exists but the descriptor budget is spent: open, read and close each time. */
export const FD_TRANSIENT = -3;

/** Result of a read: the content is reader.buf[0, length). */
export const READ_ABSENT = -1;
/** The cgroup is gone (ENODEV / ENOENT on a file that was there). */
export const READ_GONE = -2;

const RESERVED_FDS = 1024;

/**
 * Descriptors kept open by every reader of this process. Besides its own
 * budget, a reader keeps none past the process's (the open-file limit less
 * a reserve), so two collectors in one process (a test, the exporter's and
 * the recorder's) share the limit instead of each taking it whole.
 */
let keptOpenInProcess = 0;

/** The soft RLIMIT_NOFILE of this process, from /proc/self/limits. */
export function openFileLimit(): number {
  try {
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (m) return m[1] === 'unlimited' ? 1 << 20 : Number(m[1]);
  } catch {
    // not Linux procfs: fall through
  }
  return 1024;
}

function errnoCode(err: unknown): string {
  return err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : '';
}

/** The kernel says this file's cgroup has been removed. */
export function isGoneError(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENODEV' || code === 'ENOENT' || code === 'ESRCH';
}

/** The errno values a batch read reports that tstop tells apart. */
const ERRNO_NAMES: Record<number, string> = {
  2: 'ENOENT',
  3: 'ESRCH',
  13: 'EACCES',
  19: 'ENODEV',
  22: 'EINVAL',
  95: 'EOPNOTSUPP',
};

/** How a read reached the kernel (for the benchmark's C floor, which must do the same). */
export type ReadMethod = 'pread' | 'open-read-close';

export class FileReader {
  /** Descriptors every reader of this process may keep open together (tests lower it). */
  static processFdBudget = Math.max(64, openFileLimit() - RESERVED_FDS);
  /** The reader's own buffer: file-by-file reads land at its start. */
  buf: Buffer;
  /** Where the last read's bytes are: data[start, start + length). */
  data: Buffer;
  start = 0;
  length = 0;
  /** The batch position whose bytes the last read served in place (-1: not from the batch). */
  servedPosition = -1;
  /** When set, every read is reported (the benchmark replays them in C). */
  trace: ((path: string, method: ReadMethod) => void) | null = null;
  /** Descriptors this reader may keep open at once. */
  readonly fdBudget: number;
  private openFds = 0;
  /** One native read of every kept-open descriptor per tick, where available. */
  readonly batch: BatchReads | null;

  constructor(options: { fdBudget?: number; bufferBytes?: number; batch?: boolean } = {}) {
    this.fdBudget = options.fdBudget ?? Math.max(64, openFileLimit() - RESERVED_FDS);
    this.buf = Buffer.allocUnsafe(options.bufferBytes ?? 64 * 1024);
    this.data = this.buf;
    this.batch = options.batch === false ? null : BatchReads.open();
  }

  /** Whether kept-open files are read in one native call per tick. */
  get batching(): boolean {
    return this.batch !== null;
  }

  /** Leaves a kept-open file (its batch position) out of the next tick's batch read. */
  skipInBatch(position: number): void {
    if (position >= 0) this.batch?.skip(position);
  }

  /** Start of a tick: read every kept-open descriptor at once. */
  beginTick(): void {
    this.batch?.readAll();
  }

  /** End of a tick: batch results are not served again. */
  endTick(): void {
    this.batch?.endTick();
  }

  get openDescriptors(): number {
    return this.openFds;
  }

  /**
   * Reads the file dir/name whose descriptor state is fds[slot], opening it
   * on first use. Returns the byte length in this.buf, READ_ABSENT or
   * READ_GONE, and updates fds[slot]; positions[slot] is its place in the
   * batch. The path is joined only when the file is opened (or traced): a
   * string per read was ~8,000 short-lived strings a tick at 1,000 cgroups.
   */
  read(fds: Int32Array, positions: Int32Array, slot: number, dir: string, name: string): number {
    this.servedPosition = -1;
    let fd = fds[slot];
    if (fd === FD_ABSENT) return READ_ABSENT;
    if (fd === FD_UNOPENED || fd === FD_TRANSIENT) {
      const path = dir + '/' + name;
      // Past the budget a file is read open-read-close, until descriptors are given back (see CgroupTree.beginTick).
      const transient = this.openFds >= this.fdBudget || keptOpenInProcess >= FileReader.processFdBudget;
      try {
        fd = fs.openSync(path, 'r');
      } catch (err) {
        const code = errnoCode(err);
        // ENOENT on first open: not a file of this kernel/controller; the
        // tree's rescan notices if the whole cgroup went away.
        fds[slot] = FD_ABSENT;
        return code === 'ENODEV' ? READ_GONE : READ_ABSENT;
      }
      if (transient) {
        fds[slot] = FD_TRANSIENT;
        this.trace?.(path, 'open-read-close');
        try {
          return this.readFd(fd);
        } catch (err) {
          return this.failedRead(fds, slot, err);
        } finally {
          fs.closeSync(fd);
        }
      }
      fds[slot] = fd;
      this.openFds++;
      keptOpenInProcess++;
      if (this.batch) positions[slot] = this.batch.add(fd);
    }
    if (this.trace) this.trace(dir + '/' + name, 'pread');
    const pos = positions[slot];
    if (this.batch && pos >= 0) {
      const n = this.batch.result(pos);
      if (n !== null && n >= 0) {
        // Served in place from the batch buffer: no copy.
        this.data = this.batch.buffer;
        this.start = this.batch.offset(pos);
        this.length = n;
        this.servedPosition = pos;
        return n;
      }
      if (n !== null) {
        this.close(fds, slot, positions);
        return this.failedRead(fds, slot, { code: ERRNO_NAMES[-n] ?? 'EIO' });
      }
    }
    try {
      return this.readFd(fd);
    } catch (err) {
      this.close(fds, slot, positions);
      return this.failedRead(fds, slot, err);
    }
  }

  /**
   * The last read, served from the batch, gave the bytes kept now as
   * `version` (BatchReads.sameAsKept: compared in the native batch).
   */
  servedSameAsKept(version: number): boolean {
    return this.servedPosition >= 0 && this.batch!.sameAsKept(this.servedPosition, version);
  }

  /** The caller now keeps the last read's bytes as `version` (where it came from the batch). */
  keptServed(version: number): void {
    if (this.servedPosition >= 0) this.batch!.consumed(this.servedPosition, version);
  }

  /**
   * Whether a read of the file in fds[slot] now would give the bytes kept as
   * `version`, known from this tick's batch without the read (then it counts
   * as read and kept); false where that is not known (read it). Never with a
   * trace: the benchmark counts every read.
   */
  unchangedInBatch(fds: Int32Array, positions: Int32Array, slot: number, version: number): boolean {
    const pos = positions[slot];
    if (this.batch === null || pos < 0 || fds[slot] < 0 || this.trace !== null) return false;
    if (!this.batch.sameAsKept(pos, version)) return false;
    this.batch.consumed(pos, version);
    return true;
  }

  /**
   * Opens, reads and closes a file. A missing file means the cgroup is gone
   * when the file always exists (cgroup.procs), else just that it is absent.
   */
  readOnce(path: string, missingMeansGone: boolean): number {
    this.servedPosition = -1;
    this.trace?.(path, 'open-read-close');
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENODEV') return READ_GONE;
      return missingMeansGone && isGoneError(err) ? READ_GONE : READ_ABSENT;
    }
    try {
      return this.readFd(fd);
    } catch (err) {
      return isGoneError(err) ? READ_GONE : READ_ABSENT;
    } finally {
      fs.closeSync(fd);
    }
  }

  private failedRead(fds: Int32Array, slot: number, err: unknown): number {
    if (isGoneError(err)) {
      fds[slot] = FD_UNOPENED;
      return READ_GONE;
    }
    // EINVAL, EOPNOTSUPP, EACCES...: this file cannot be read here.
    fds[slot] = FD_ABSENT;
    return READ_ABSENT;
  }

  private readFd(fd: number): number {
    for (;;) {
      const n = fs.readSync(fd, this.buf, 0, this.buf.length, 0);
      if (n < this.buf.length) return this.inBuf(n);
      // Filled the buffer (a huge cgroup.procs): grow and read again.
      this.buf = Buffer.allocUnsafe(this.buf.length * 2);
    }
  }

  /** Marks the own buffer's first n bytes as the last read's content. */
  inBuf(n: number): number {
    this.data = this.buf;
    this.start = 0;
    this.length = n;
    return n;
  }

  /** Closes the descriptor in fds[slot], if any, and marks it unopened. */
  close(fds: Int32Array, slot: number, positions: Int32Array): void {
    const fd = fds[slot];
    if (positions[slot] >= 0) {
      this.batch?.remove(positions[slot]);
      positions[slot] = -1;
    }
    if (fd >= 0) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed by the kernel side going away: nothing to do
      }
      this.openFds--;
      keptOpenInProcess--;
    }
    fds[slot] = FD_UNOPENED;
  }

  closeAll(fds: Int32Array, positions: Int32Array): void {
    for (let i = 0; i < fds.length; i++) this.close(fds, i, positions);
  }

  /** Forget files found absent so a later read probes them again. */
  static reprobe(fds: Int32Array): void {
    for (let i = 0; i < fds.length; i++) if (fds[i] === FD_ABSENT) fds[i] = FD_UNOPENED;
  }
}
