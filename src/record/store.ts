// The recorder's side of the store: appends samples to the newest segment,
// rolls segments by size and age, and enforces retention and the size cap
// after every append (never only when a file rolls). One writer per store
// (lock.ts); readers (reader.ts) need no lock and read while it writes.

import fs from 'node:fs';
import path from 'node:path';
import { formatTimeIso } from '../util/time.js';
import type { Snapshot } from '../model/types.js';
import { ColumnEncoder } from './columns.js';
import {
  encodeRecord,
  KIND_DELTA,
  KIND_KEYFRAME,
  listSegments,
  scanSegment,
  segmentHeader,
  segmentName,
  type SegmentFile,
} from './format.js';
import { encodeIndex, encodeIndexEntry, INDEX_MAGIC, indexName } from './index-file.js';
import { StoreLock } from './lock.js';

export interface StoreWriterOptions {
  intervalMs: number;
  /** Samples older than this are dropped. */
  retainMs: number;
  /** Bytes the segment files may take together. */
  maxBytes: number;
  /** A new key frame after this many deltas (default 60). */
  keyframeEvery?: number;
  /** fdatasync after each append (default true): a power cut loses at most the sample being written. */
  sync?: boolean;
  /** Called with one line for each thing worth a warning (a torn tail dropped at open). */
  warn?: (message: string) => void;
}

/** A segment rolls at 1/20 of the cap or of the retention, so dropping the oldest one drops at most 5 %. */
const ROLL_FRACTION = 20;
const MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
const MIN_SEGMENT_BYTES = 16 * 1024;
const MAX_SEGMENT_MS = 3_600_000;

interface OpenSegment {
  file: SegmentFile;
  fd: number;
  bytes: number;
  indexFd: number;
  indexBytes: number;
  encoder: ColumnEncoder;
  /** -1 before the segment's first record (a key frame). */
  keyOffset: number;
  deltasSinceKey: number;
}

export class StoreWriter {
  private readonly lock: StoreLock;
  private readonly segments: (SegmentFile & { bytes: number })[];
  private current: OpenSegment | null = null;
  private totalBytes = 0;
  private readonly segmentMaxBytes: number;
  private readonly segmentMaxMs: number;
  private lastTimestampMs = -Infinity;
  /** Bytes written by appends since open (the bench's figure). */
  appendedBytes = 0;

  private constructor(
    readonly dir: string,
    private readonly options: StoreWriterOptions,
  ) {
    this.lock = StoreLock.acquire(dir);
    try {
      this.segments = listSegments(dir, fs.readdirSync).map((s) => ({
        ...s,
        bytes: sizeOf(path.join(dir, s.name)) + sizeOf(path.join(dir, indexName(s.name))),
      }));
      this.repairTail();
      this.totalBytes = this.segments.reduce((sum, s) => sum + s.bytes, 0);
    } catch (err) {
      this.lock.release();
      throw err;
    }
    this.segmentMaxBytes = Math.max(MIN_SEGMENT_BYTES, Math.min(MAX_SEGMENT_BYTES, options.maxBytes / ROLL_FRACTION));
    this.segmentMaxMs = Math.max(options.intervalMs, Math.min(MAX_SEGMENT_MS, options.retainMs / ROLL_FRACTION));
  }

  /** Opens (creating) the store directory and takes its lock. */
  static open(dir: string, options: StoreWriterOptions): StoreWriter {
    fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
    // The store is used where it really is: a symlinked store directory is resolved once, here.
    const real = fs.realpathSync(dir);
    if (!fs.statSync(real).isDirectory()) throw new Error(`${dir} is not a directory`);
    return new StoreWriter(real, options);
  }

  /**
   * A kill -9 mid-write leaves an incomplete record at the end of the newest
   * segment: cut it off. Its index may lack the last record or end mid-entry:
   * write it again from the records.
   */
  private repairTail(): void {
    const last = this.segments.at(-1);
    if (!last) return;
    const file = path.join(this.dir, last.name);
    const buf = fs.readFileSync(file);
    const scan = scanSegment(buf);
    if (scan.records.length === 0 && scan.tornTailAt !== null) {
      fs.unlinkSync(file);
      fs.rmSync(path.join(this.dir, indexName(last.name)), { force: true });
      this.segments.pop();
      this.options.warn?.(`store: removed ${last.name}, whose first write was cut short`);
      return;
    }
    if (scan.version === 2) last.bytes = buf.length + this.rewriteIndex(last.name, scan.records);
    if (scan.tornTailAt === null) return;
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);
    try {
      fs.ftruncateSync(fd, scan.tornTailAt);
    } finally {
      fs.closeSync(fd);
    }
    this.options.warn?.(
      `store: dropped an incomplete last record (${last.bytes - scan.tornTailAt} bytes) at the end of ${last.name}`,
    );
    last.bytes -= buf.length - scan.tornTailAt;
  }

  /** Writes a segment's index afresh (a new file renamed over the old one); returns its size. */
  private rewriteIndex(segment: string, records: Parameters<typeof encodeIndex>[0]): number {
    const index = encodeIndex(records);
    const target = path.join(this.dir, indexName(segment));
    const temp = `${target}.tmp`;
    fs.rmSync(temp, { force: true });
    fs.writeFileSync(temp, index, { flag: 'wx', mode: 0o640 });
    fs.renameSync(temp, target);
    return index.length;
  }

  append(snapshot: Snapshot): void {
    const timestampMs = Date.parse(snapshot.timestamp);
    if (!Number.isFinite(timestampMs)) throw new Error(`sample without a valid timestamp: ${snapshot.timestamp}`);
    // The wall clock stepped back: the store stays in time order, so start a new segment.
    if (timestampMs < this.lastTimestampMs) this.closeCurrent();
    this.lastTimestampMs = timestampMs;
    let seg = this.current;
    if (seg && (seg.bytes >= this.segmentMaxBytes || timestampMs - seg.file.startMs >= this.segmentMaxMs)) {
      this.closeCurrent();
      seg = null;
    }
    seg ??= this.openSegment(timestampMs);

    const key = seg.keyOffset < 0 || seg.deltasSinceKey >= (this.options.keyframeEvery ?? 60);
    if (key) {
      seg.keyOffset = seg.bytes;
      seg.deltasSinceKey = 0;
    } else seg.deltasSinceKey++;
    const kind = key ? KIND_KEYFRAME : KIND_DELTA;
    const record = encodeRecord(timestampMs, kind, seg.keyOffset, seg.encoder.encode(snapshot, key));
    // One write per record: a reader sees a record whole or not at all, a crash leaves at most one torn tail.
    fs.writeSync(seg.fd, record, 0, record.length, seg.bytes);
    if (this.options.sync ?? true) fs.fdatasyncSync(seg.fd);
    // The index entry after the record: an entry never points at bytes not yet written.
    const entry = encodeIndexEntry({
      timestampMs,
      offset: seg.bytes,
      recordBytes: record.length,
      keyOffset: seg.keyOffset,
      kind,
    });
    fs.writeSync(seg.indexFd, entry, 0, entry.length, seg.indexBytes);
    seg.indexBytes += entry.length;
    seg.bytes += record.length;
    const added = record.length + entry.length;
    this.segments[this.segments.length - 1].bytes += added;
    this.totalBytes += added;
    this.appendedBytes += added;
    this.enforceLimits(timestampMs);
  }

  private openSegment(timestampMs: number): OpenSegment {
    let startMs = Math.floor(timestampMs);
    for (;;) {
      const name = segmentName(startMs);
      try {
        const fd = fs.openSync(
          path.join(this.dir, name),
          fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
          0o640,
        );
        const header = segmentHeader(this.options.intervalMs);
        fs.writeSync(fd, header, 0, header.length, 0);
        const indexFd = fs.openSync(
          path.join(this.dir, indexName(name)),
          fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW,
          0o640,
        );
        fs.writeSync(indexFd, INDEX_MAGIC, 0, INDEX_MAGIC.length, 0);
        const file = { name, startMs };
        this.segments.push({ ...file, bytes: header.length + INDEX_MAGIC.length });
        this.totalBytes += header.length + INDEX_MAGIC.length;
        this.current = {
          file,
          fd,
          bytes: header.length,
          indexFd,
          indexBytes: INDEX_MAGIC.length,
          encoder: new ColumnEncoder(),
          keyOffset: -1,
          deltasSinceKey: 0,
        };
        return this.current;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        startMs++; // a segment of that millisecond exists (a restart within it): the next name
      }
    }
  }

  private closeCurrent(): void {
    if (!this.current) return;
    fs.fsyncSync(this.current.fd);
    fs.closeSync(this.current.fd);
    fs.fsyncSync(this.current.indexFd);
    fs.closeSync(this.current.indexFd);
    this.current = null;
  }

  /** Drops the oldest segments while the store is over its cap or they are past retention. */
  private enforceLimits(nowMs: number): void {
    const horizonMs = nowMs - this.options.retainMs;
    while (this.segments.length > 1) {
      const [oldest, next] = this.segments;
      // A segment ends where the next begins: all of it is past retention when the next began before the horizon.
      if (this.totalBytes <= this.options.maxBytes && next.startMs > horizonMs) break;
      fs.unlinkSync(path.join(this.dir, oldest.name));
      fs.rmSync(path.join(this.dir, indexName(oldest.name)), { force: true });
      this.segments.shift();
      this.totalBytes -= oldest.bytes;
    }
    // The newest segment alone over the cap: roll it, so the next append can drop it.
    if (this.totalBytes > this.options.maxBytes && this.segments.length === 1) this.closeCurrent();
  }

  /** The bytes the store's segments take now. */
  get bytes(): number {
    return this.totalBytes;
  }

  close(): void {
    this.closeCurrent();
    this.lock.release();
  }

  describe(): string {
    const first = this.segments[0];
    return first
      ? `from ${formatTimeIso(first.startMs)}, ${this.segments.length} segment(s), ${this.totalBytes} bytes`
      : 'empty';
  }
}

function sizeOf(file: string): number {
  try {
    return fs.lstatSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0; // a v1 segment has no index
    throw err;
  }
}
