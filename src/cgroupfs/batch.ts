// Reads every kept-open descriptor in one native call per tick
// (native/read/readbatch.c through the tstop-sys addon, else through koffi),
// so Node's per-call cost is paid once instead of once per file. The reader
// then serves each file's bytes from the packed buffer. Without either (no
// compiler at install, no koffi) the reader reads file by file: slower, same results.

import { createRequire } from 'node:module';
import { packagePath } from '../util/package-root.js';
import { sysAddon } from '../util/sys-addon.js';

/** Largest file the batch reads in one go; a file this long is re-read alone. */
export const BATCH_MAX_FILE = 64 * 1024;

export type ReadBatchFn = (
  fds: Int32Array,
  n: number,
  buf: Buffer,
  cap: number,
  maxFile: number,
  offs: Int32Array,
  lens: Int32Array,
) => number;

/** ReadBatchFn, and same[i] = 1 where file i gave the bytes it gave in the previous call (prev*: that call's). */
export type ReadBatchSameFn = (
  ...args: [...Parameters<ReadBatchFn>, prevBuf: Buffer, prevOffs: Int32Array, prevLens: Int32Array, same: Uint8Array]
) => number;

let loaded: ReadBatchFn | null | undefined;

function loadReadBatch(): ReadBatchFn | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.TSTOP_NO_BATCH === '1') return loaded;
  loaded = sysAddon()?.readBatch ?? readBatchThroughKoffi();
  return loaded;
}

/** The addon's readBatchSame (with the batch only: not through koffi), or null. */
function loadReadBatchSame(): ReadBatchSameFn | null {
  const same = loadReadBatch() === null ? undefined : sysAddon()?.readBatchSame;
  return same ?? null;
}

/** The same function through koffi and native/build/libtstop-read.so (the fallback), or null. */
export function readBatchThroughKoffi(): ReadBatchFn | null {
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as { load(p: string): { func(sig: string): ReadBatchFn } };
    const lib = koffi.load(packagePath('native/build/libtstop-read.so'));
    return lib.func(
      'int32_t tstop_read_batch(const int32_t *fds, int32_t n, uint8_t *buf, int32_t cap, int32_t max_file, int32_t *offs, int32_t *lens)',
    );
  } catch {
    return null; // not built or not loadable here: file-by-file reads
  }
}

/**
 * The set of kept-open descriptors, each at a stable position, and the
 * result of the last batch read for each position.
 */
export class BatchReads {
  private fds: Int32Array<ArrayBuffer> = new Int32Array(1024).fill(-1);
  private offs: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private lens: Int32Array<ArrayBuffer> = new Int32Array(1024);
  /**
   * With readBatchSame, the previous batch's buffer and arrays (the two sets
   * swap at each batch), and per position: its file gave the previous
   * batch's bytes (same), and the batch tick and kept version at which the
   * tree last took its bytes (consumed: see sameAsKept).
   */
  private prevBuf = Buffer.alloc(0);
  private prevOffs: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private prevLens: Int32Array<ArrayBuffer> = new Int32Array(1024).fill(-1);
  private same: Uint8Array<ArrayBuffer> = new Uint8Array(1024);
  private consumedTick: Int32Array<ArrayBuffer> = new Int32Array(1024).fill(-1);
  private consumedVersion: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private previousBatchTick = -1;
  /** Tick in which each position was (re)assigned: a batch covers positions assigned before it. */
  private assigned: Int32Array<ArrayBuffer> = new Int32Array(1024);
  /** Tick in which a position was left out of the batch (see skip). */
  private skipped: Int32Array<ArrayBuffer> = new Int32Array(1024).fill(-1);
  /** Positions left out of the next batch (toSkip[0, skipCount)), and their descriptors while it runs. */
  private toSkip: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private skipCount = 0;
  private savedFds: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private free: number[] = [];
  private used = 0;
  private buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  private tick = 0;
  private batchTick = -1;
  private readonly readBatch: ReadBatchFn;
  private readonly readBatchSame: ReadBatchSameFn | null;

  private constructor(readBatch: ReadBatchFn, readBatchSame: ReadBatchSameFn | null) {
    this.readBatch = readBatch;
    this.readBatchSame = readBatchSame;
    if (readBatchSame) this.prevBuf = Buffer.allocUnsafe(this.buf.length);
  }

  /** Batching, or null where the native library cannot be loaded. */
  static open(
    fn: ReadBatchFn | null = loadReadBatch(),
    same: ReadBatchSameFn | null = fn ? loadReadBatchSame() : null,
  ): BatchReads | null {
    return fn ? new BatchReads(fn, same) : null;
  }

  /** Registers a kept-open descriptor; returns its position. */
  add(fd: number): number {
    let pos = this.free.pop();
    if (pos === undefined) {
      if (this.used === this.fds.length) this.grow();
      pos = this.used++;
    }
    this.fds[pos] = fd;
    this.assigned[pos] = this.tick;
    return pos;
  }

  remove(pos: number): void {
    this.fds[pos] = -1;
    this.free.push(pos);
  }

  private grow(): void {
    const size = this.fds.length * 2;
    const widen = (a: Int32Array, fill: number): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(size).fill(fill);
      b.set(a);
      return b;
    };
    this.fds = widen(this.fds, -1);
    this.offs = widen(this.offs, 0);
    this.lens = widen(this.lens, 0);
    this.assigned = widen(this.assigned, 0);
    this.skipped = widen(this.skipped, -1);
    this.prevOffs = widen(this.prevOffs, 0);
    this.prevLens = widen(this.prevLens, -1);
    this.consumedTick = widen(this.consumedTick, -1);
    this.consumedVersion = widen(this.consumedVersion, 0);
    const same = new Uint8Array(size);
    same.set(this.same);
    this.same = same;
  }

  private someFds: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private someOffs: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private someLens: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private someBuf = Buffer.allocUnsafe(256 * 1024);

  /**
   * Reads only the given positions (one native call, into a buffer of its
   * own: the tick's batch is not disturbed). Then someLength(i) and
   * someOffset(i) say where the i-th one's bytes are in someBuffer.
   */
  readSome(positions: readonly number[], n = positions.length): void {
    if (this.someFds.length < n) {
      this.someFds = new Int32Array(n * 2);
      this.someOffs = new Int32Array(n * 2);
      this.someLens = new Int32Array(n * 2);
    }
    for (let i = 0; i < n; i++) this.someFds[i] = this.fds[positions[i]];
    for (;;) {
      const done = this.readBatch(
        this.someFds,
        n,
        this.someBuf,
        this.someBuf.length,
        BATCH_MAX_FILE,
        this.someOffs,
        this.someLens,
      );
      if (done === n) break;
      this.someBuf = Buffer.allocUnsafe(this.someBuf.length * 2);
    }
  }

  get someBuffer(): Buffer {
    return this.someBuf;
  }

  /** Length of the i-th file of the last readSome (-errno on failure; >= BATCH_MAX_FILE: maybe truncated). */
  someLength(i: number): number {
    return this.someLens[i];
  }

  someOffset(i: number): number {
    return this.someOffs[i];
  }

  /** Leaves a position out of the next batch (nobody reads that file this tick). */
  skip(pos: number): void {
    if (this.skipCount === this.toSkip.length) {
      const bigger = new Int32Array(this.toSkip.length * 2);
      bigger.set(this.toSkip);
      this.toSkip = bigger;
      this.savedFds = new Int32Array(bigger.length);
    }
    this.toSkip[this.skipCount++] = pos;
  }

  /** Reads every registered descriptor (one native call, more if the buffer must grow). */
  readAll(): void {
    this.tick++;
    // A negative fd is skipped by the native reader: hide the skipped ones for this call.
    const skips = this.skipCount;
    for (let i = 0; i < skips; i++) {
      const pos = this.toSkip[i];
      this.savedFds[i] = this.fds[pos];
      this.fds[pos] = -1;
      this.skipped[pos] = this.tick;
    }
    try {
      // With readBatchSame this batch goes where the one before the last went; the last one's become the previous.
      if (this.readBatchSame) this.swapBatches();
      while (this.readInto() !== this.used) this.buf = Buffer.allocUnsafe(this.buf.length * 2);
    } finally {
      // In reverse: a position skipped twice gets back its own descriptor, not the -1 hiding it.
      for (let i = skips - 1; i >= 0; i--) this.fds[this.toSkip[i]] = this.savedFds[i];
      this.skipCount = 0;
    }
    this.previousBatchTick = this.batchTick;
    this.batchTick = this.tick;
  }

  /** Makes the last batch's buffer and arrays the previous ones, and the previous ones this batch's. */
  private swapBatches(): void {
    [this.buf, this.prevBuf] = [this.prevBuf, this.buf];
    [this.offs, this.prevOffs] = [this.prevOffs, this.offs];
    [this.lens, this.prevLens] = [this.prevLens, this.lens];
  }

  /** One native batch into buf (comparing each file with the previous batch's bytes where it can); files done. */
  private readInto(): number {
    const args = [this.fds, this.used, this.buf, this.buf.length, BATCH_MAX_FILE, this.offs, this.lens] as const;
    return this.readBatchSame
      ? this.readBatchSame(...args, this.prevBuf, this.prevOffs, this.prevLens, this.same)
      : this.readBatch(...args);
  }

  /**
   * Whether this tick's batch gave the position's file the bytes the tree
   * keeps for it now (version: the kept bytes' version), known without
   * comparing: the file gave the previous batch's bytes (same, for the same
   * descriptor: assigned before that batch), and the tree took that batch's
   * bytes as its kept bytes (consumed) and kept nothing else since (the
   * version it noted then is the version now).
   */
  sameAsKept(pos: number, version: number): boolean {
    return (
      this.batchTick === this.tick &&
      this.same[pos] === 1 &&
      this.assigned[pos] < this.previousBatchTick &&
      this.consumedTick[pos] === this.previousBatchTick &&
      this.consumedVersion[pos] === version
    );
  }

  /** The tree keeps this batch's bytes of the position as version `version` (see sameAsKept). */
  consumed(pos: number, version: number): void {
    this.consumedTick[pos] = this.batchTick;
    this.consumedVersion[pos] = version;
  }

  /**
   * The batch result for a position: its length (the bytes are at
   * buffer[offset(pos), offset(pos) + length)), -errno, or null when the batch
   * has nothing valid for it (assigned after the batch, or possibly truncated)
   * and the caller must read it alone.
   */
  result(pos: number): number | null {
    if (this.batchTick !== this.tick || this.assigned[pos] >= this.batchTick) return null;
    if (this.skipped[pos] === this.tick) return null; // left out after all: read alone
    const len = this.lens[pos];
    if (len >= BATCH_MAX_FILE) return null;
    return len;
  }

  get buffer(): Buffer {
    return this.buf;
  }

  offset(pos: number): number {
    return this.offs[pos];
  }

  /** Ends the tick: results are not served again until the next readAll. */
  endTick(): void {
    this.tick++;
  }
}
