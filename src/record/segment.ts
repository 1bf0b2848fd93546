// One segment as the readers see it: where its records are (from its index,
// else by scanning it), and the sample a record holds. A v2 sample is its
// block's key frame and the deltas after it, read in one piece and decoded
// in order (the last decoded sample is kept, so reading on costs one
// record); a v1 sample (codec.ts) is its key frame and itself. Every record
// read is checked by its CRC; damage is reported once per segment.

import fs from 'node:fs';
import path from 'node:path';
import type { ContainerSnapshot, Snapshot } from '../model/types.js';
import { applyDelta, containersOfDelta, decodePayload, KeyFrame, type DeltaPayload } from './codec.js';
import { ColumnDecodeError, entityContainer, fillRates, materialize, type Entity } from './columns.js';
import { RecordedSample } from './sample-text.js';
import { copyState, decodeColumns, type FlatState } from './column-decode.js';
import { Templates, type Template } from './templates.js';
import {
  KIND_KEYFRAME,
  readSegmentHeader,
  recordAt,
  RECORD_HEADER_BYTES,
  scanRecords,
  scanSegment,
  SEGMENT_HEADER_BYTES,
  type RecordRef,
  type SegmentFile,
  type SegmentVersion,
} from './format.js';
import { entryOf, indexName, parseIndex, type IndexEntry } from './index-file.js';

export type Warn = (key: string, message: string) => void;

interface Decoded {
  at: number;
  state: FlatState;
  prev: FlatState | null;
}

function readRange(file: string, start: number, bytes: number): Buffer {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(bytes);
    const n = fs.readSync(fd, buf, 0, bytes, start);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

function headerOf(file: string): ReturnType<typeof readSegmentHeader> {
  try {
    return readSegmentHeader(readRange(file, 0, SEGMENT_HEADER_BYTES));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function readOrEmpty(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    // Retention removed it between the listing and the read; a v1 segment has no index.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export class Segment {
  readonly version: SegmentVersion;
  readonly intervalMs: number;
  /** Every record, in file order (times ascending within a segment). */
  readonly entries: IndexEntry[];
  /** v1: the records with their payloads (the whole file was read). */
  private readonly v1Records: RecordRef[] | null = null;
  private readonly v1Keys = new Map<number, KeyFrame | null>();
  /** A reader's templates: read by a scan of their skeleton. */
  private readonly templates = new Templates(true);
  private last: Decoded | null = null;
  private readonly path: string;

  constructor(
    dir: string,
    readonly file: SegmentFile,
    isNewest: boolean,
    private readonly warn: Warn,
  ) {
    this.path = path.join(dir, file.name);
    const header = headerOf(this.path);
    const indexed = header?.version === 2 ? this.fromIndex(dir, isNewest) : null;
    if (header && indexed) {
      this.version = 2;
      this.intervalMs = header.intervalMs;
      this.entries = indexed;
      return;
    }
    // No index (a v1 segment), or one that cannot be trusted: the whole file, scanned.
    const buf = readOrEmpty(this.path) ?? Buffer.alloc(0);
    const scan = scanSegment(buf);
    this.report(scan.damage, scan.tornTailAt, isNewest && buf.length > 0, buf.length > 0);
    this.version = scan.version;
    this.intervalMs = scan.intervalMs;
    this.entries = scan.records.map(entryOf);
    if (scan.version === 1) this.v1Records = scan.records;
  }

  private report(
    damage: { offset: number; bytes: number; why: string }[],
    tornTailAt: number | null,
    tailInFlight: boolean,
    nonEmpty: boolean,
  ): void {
    const problems = damage.map((d) => `${d.bytes} bytes at offset ${d.offset} (${d.why})`);
    if (tornTailAt !== null && !tailInFlight && nonEmpty) problems.push(`an incomplete record at offset ${tornTailAt}`);
    if (problems.length > 0)
      this.warn(this.file.name, `store: ${this.file.name}: skipped damaged data: ${problems.join('; ')}`);
  }

  /** The entries from the index, plus records written after its last entry; null to scan instead. */
  private fromIndex(dir: string, isNewest: boolean): IndexEntry[] | null {
    const buf = readOrEmpty(path.join(dir, indexName(this.file.name)));
    if (!buf) return null;
    const index = parseIndex(buf);
    let size: number;
    try {
      size = fs.statSync(this.path).size;
    } catch {
      return null;
    }
    const entries = 'entries' in index ? index.entries : null;
    const endOf = (e: IndexEntry | undefined): number => (e ? e.offset + e.recordBytes : 0);
    // The newest segment cut short after its index entry (a power cut): its last samples, not damage.
    while (isNewest && entries?.length && endOf(entries.at(-1)) > size) entries.pop();
    const end = endOf(entries?.at(-1));
    if (!entries || end > size) {
      const why = 'damaged' in index ? index.damaged : 'the index names bytes past the end of the segment';
      this.warn(`${this.file.name}#index`, `store: ${indexName(this.file.name)}: ${why}; scanned the segment instead`);
      return null;
    }
    const covered = Math.max(end, SEGMENT_HEADER_BYTES);
    if (size > covered) {
      // Records after the last entry: a write in flight, or the last seconds before a crash.
      const tail = scanRecords(readRange(this.path, covered, size - covered), 0);
      const shift = (o: number): number => o + covered;
      for (const r of tail.records) entries.push({ ...entryOf(r), offset: shift(r.offset) });
      this.report(
        tail.damage.map((d) => ({ ...d, offset: shift(d.offset) })),
        tail.tornTailAt === null ? null : shift(tail.tornTailAt),
        isNewest,
        true,
      );
    }
    return entries;
  }

  /** The payloads of entries [from, to], read in one piece and checked; null where a record is damaged. */
  private payloads(from: number, to: number): (Buffer | null)[] {
    const start = this.entries[from].offset;
    const end = this.entries[to].offset + this.entries[to].recordBytes;
    const buf = readRange(this.path, start, end - start);
    const out: (Buffer | null)[] = [];
    for (let i = from; i <= to; i++) {
      const e = this.entries[i];
      const rec = recordAt(buf, e.offset - start);
      const ok = rec && rec.timestampMs === e.timestampMs && rec.payload.length + RECORD_HEADER_BYTES === e.recordBytes;
      if (!ok)
        this.warn(
          this.file.name,
          `store: ${this.file.name}: skipped damaged data: ${e.recordBytes} bytes at offset ${e.offset} (checksum mismatch)`,
        );
      out.push(ok ? rec.payload : null);
    }
    return out;
  }

  /** The decoded state of entry i and of the one before it in its block, or null when its chain is damaged. */
  private chain(i: number): Decoded | null {
    if (this.last?.at === i) return this.last;
    let from: number;
    let prev: FlatState | null;
    const last = this.last;
    // The states are decoded onto in place: the last one is not kept unless this chain ends well.
    this.last = null;
    if (
      last &&
      last.at < i &&
      this.entries[i].kind !== KIND_KEYFRAME &&
      this.entries[last.at].keyOffset === this.entries[i].keyOffset
    ) {
      // Further on in the block decoded last: from there (reading on, or the charts' every third sample).
      from = last.at + 1;
      prev = last.state;
    } else {
      from = i;
      while (from > 0 && this.entries[from].offset !== this.entries[i].keyOffset) from--;
      if (this.entries[from].offset !== this.entries[i].keyOffset) return this.brokenChain(i);
      prev = null;
    }
    const payloads = this.payloads(from, i);
    let before: FlatState | null = null;
    for (let k = 0; k < payloads.length; k++) {
      const payload = payloads[k];
      if (!payload) return this.brokenChain(i);
      try {
        // The sample before i is kept as it is: its counters are the base of i's recomputed rates.
        before = k === payloads.length - 1 && prev ? copyState(prev) : null;
        prev = decodeColumns(prev, payload, this.templates);
      } catch (err) {
        if (!(err instanceof ColumnDecodeError) && !(err instanceof SyntaxError) && !isZlibError(err)) throw err;
        return this.brokenChain(i);
      }
    }
    this.last = { at: i, state: prev!, prev: before };
    return this.last;
  }

  private brokenChain(i: number): null {
    this.warn(
      this.file.name,
      `store: ${this.file.name}: samples after a damaged record (offset ${this.entries[i].keyOffset} on) are skipped`,
    );
    return null;
  }

  /** The sample of entry i, or null when it (or what it is relative to) is damaged. */
  sample(i: number): Snapshot | null {
    if (this.version === 1) return this.v1Sample(i);
    const d = this.chain(i);
    return d && materialize(d.prev, d.state);
  }

  /**
   * The sample of entry i as sample() has it, for printing as JSON: a
   * RecordedSample (valid until this segment decodes another sample), or the
   * Snapshot where one cannot be had (a v1 segment, a template the scan could not read).
   */
  recorded(i: number): RecordedSample | Snapshot | null {
    if (this.version === 1) return this.v1Sample(i);
    const d = this.chain(i);
    if (!d) return null;
    fillRates(d.prev, d.state);
    return RecordedSample.of(d.state) ?? materialize(d.prev, d.state);
  }

  /**
   * The sample of entry i holding only the cgroup at cgroupPath (only it is
   * built: the replay's detail charts want one cgroup of a thousand).
   */
  sampleOf(i: number, cgroupPath: string): Snapshot | null {
    if (this.version === 1) {
      const s = this.v1Sample(i);
      return s && { ...s, containers: s.containers.filter((c) => c.id === cgroupPath) };
    }
    const d = this.chain(i);
    return d && materialize(d.prev, d.state, (e) => e.id === cgroupPath);
  }

  /** The cgroups of entry i's sample that `want` keeps (only those are built), or null when damaged. */
  containers(
    i: number,
    want: (c: ContainerSnapshot) => boolean,
  ): { timestampMs: number; monotonicSeconds: number; containers: ContainerSnapshot[] } | null {
    if (this.version === 1) return this.v1Containers(i, want);
    const d = this.chain(i);
    if (!d) return null;
    const wanted = new Map<Template, boolean>();
    const pick = (e: Entity): boolean => {
      let w = wanted.get(e.t);
      if (w === undefined) wanted.set(e.t, (w = want(entityContainer(e))));
      return w;
    };
    const s = materialize(d.prev, d.state, pick);
    return { timestampMs: Date.parse(s.timestamp), monotonicSeconds: s.monotonicSeconds, containers: s.containers };
  }

  private v1Key(offset: number): KeyFrame | null {
    if (this.v1Keys.has(offset)) return this.v1Keys.get(offset) ?? null;
    const rec = this.v1Records!.find((r) => r.offset === offset && r.kind === KIND_KEYFRAME);
    const key = rec ? new KeyFrame(decodePayload<Snapshot>(rec.payload)) : null;
    this.v1Keys.clear(); // one key frame decoded at a time: a 1,000-cgroup key frame is megabytes
    this.v1Keys.set(offset, key);
    if (!key)
      this.warn(
        this.file.name,
        `store: ${this.file.name}: samples whose key frame at offset ${offset} is damaged are skipped`,
      );
    return key;
  }

  private v1Sample(i: number): Snapshot | null {
    const rec = this.v1Records![i];
    const key = this.v1Key(rec.keyOffset);
    if (!key) return null;
    if (rec.kind === KIND_KEYFRAME) return key.snapshot;
    return applyDelta(key, decodePayload<DeltaPayload>(rec.payload));
  }

  private v1Containers(i: number, want: (c: ContainerSnapshot) => boolean) {
    const rec = this.v1Records![i];
    const key = this.v1Key(rec.keyOffset);
    if (!key) return null;
    if (rec.kind === KIND_KEYFRAME) {
      const s = key.snapshot;
      return {
        timestampMs: Date.parse(s.timestamp),
        monotonicSeconds: s.monotonicSeconds,
        containers: s.containers.filter(want),
      };
    }
    const delta = decodePayload<DeltaPayload>(rec.payload);
    return {
      timestampMs: Date.parse(delta.t),
      monotonicSeconds: delta.m,
      containers: containersOfDelta(key, delta, want),
    };
  }
}

function isZlibError(err: unknown): boolean {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    /^Z_/.test((err as NodeJS.ErrnoException).code!)
  );
}
