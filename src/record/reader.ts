// The readers' side of the store: finds the sample at or before a time,
// or every sample in a range, while a recorder may be appending. Damaged
// bytes (a checksum mismatch, a broken frame) are reported once per segment
// through `warn` and skipped; an incomplete record at the end of the newest
// segment is a write in flight (or the one sample a crash loses) and is
// skipped silently.

import fs from 'node:fs';
import path from 'node:path';
import type { ContainerSnapshot, Snapshot } from '../model/types.js';
import { ExpectedError } from '../util/errors.js';
import { formatTimeIso } from '../util/time.js';
import { applyDelta, containersOfDelta, decodePayload, KeyFrame, type DeltaPayload } from './codec.js';
import { KIND_KEYFRAME, listSegments, scanSegment, type RecordRef, type SegmentFile } from './format.js';

export class StoreError extends ExpectedError {}

export interface StoreRange {
  firstMs: number;
  lastMs: number;
  /** The recording interval of the newest segment. */
  intervalMs: number;
}

interface LoadedSegment {
  file: SegmentFile;
  intervalMs: number;
  records: RecordRef[];
  keyFrames: Map<number, KeyFrame | null>;
}

/** How far past the newest sample a time still means "the newest": three intervals, at least a second. */
function slackMs(intervalMs: number): number {
  return Math.max(3 * intervalMs, 1000);
}

export class StoreReader {
  private readonly warned = new Set<string>();
  private cache: LoadedSegment | null = null;

  private constructor(
    readonly dir: string,
    private readonly warn: (message: string) => void,
  ) {}

  static open(dir: string, warn: (message: string) => void = () => {}): StoreReader {
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch {
      throw new StoreError(`no store at ${dir} (record one with: tstop record --store ${dir})`);
    }
    if (!st.isDirectory()) throw new StoreError(`${dir} is not a store directory`);
    return new StoreReader(dir, warn);
  }

  private segments(): SegmentFile[] {
    return listSegments(this.dir, fs.readdirSync);
  }

  private load(file: SegmentFile, isNewest: boolean): LoadedSegment {
    if (this.cache?.file.name === file.name && !isNewest) return this.cache;
    let buf: Buffer;
    try {
      buf = fs.readFileSync(path.join(this.dir, file.name));
    } catch (err) {
      // Retention removed it between the listing and the read.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') buf = Buffer.alloc(0);
      else throw err;
    }
    const scan = scanSegment(buf);
    const problems = scan.damage.map((d) => `${d.bytes} bytes at offset ${d.offset} (${d.why})`);
    if (scan.tornTailAt !== null && !isNewest && buf.length > 0)
      problems.push(`an incomplete record at offset ${scan.tornTailAt}`);
    if (problems.length > 0)
      this.warnOnce(file.name, `store: ${file.name}: skipped damaged data: ${problems.join('; ')}`);
    const loaded: LoadedSegment = {
      file,
      intervalMs: scan.intervalMs,
      records: scan.records,
      keyFrames: new Map(),
    };
    this.cache = loaded;
    return loaded;
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(message);
  }

  /** The sample a record holds, or null when its key frame is damaged. */
  private decode(seg: LoadedSegment, rec: RecordRef): Snapshot | null {
    const key = this.keyFrame(seg, rec.keyOffset);
    if (!key) {
      this.warnOnce(
        seg.file.name, // the damage itself was reported: one warning per segment
        `store: ${seg.file.name}: samples whose key frame at offset ${rec.keyOffset} is damaged are skipped`,
      );
      return null;
    }
    if (rec.kind === KIND_KEYFRAME) return key.snapshot;
    return applyDelta(key, decodePayload<DeltaPayload>(rec.payload));
  }

  private keyFrame(seg: LoadedSegment, offset: number): KeyFrame | null {
    if (seg.keyFrames.has(offset)) return seg.keyFrames.get(offset) ?? null;
    const rec = seg.records.find((r) => r.offset === offset && r.kind === KIND_KEYFRAME);
    const key = rec ? new KeyFrame(decodePayload<Snapshot>(rec.payload)) : null;
    seg.keyFrames.clear(); // one key frame decoded at a time: a 1,000-cgroup key frame is megabytes
    seg.keyFrames.set(offset, key);
    return key;
  }

  /** First and last sample times, or null when the store holds none. */
  range(): StoreRange | null {
    const segs = this.segments();
    let first: number | null = null;
    for (let i = 0; i < segs.length && first === null; i++) {
      first = this.load(segs[i], i === segs.length - 1).records[0]?.timestampMs ?? null;
    }
    if (first === null) return null;
    for (let i = segs.length - 1; i >= 0; i--) {
      const seg = this.load(segs[i], i === segs.length - 1);
      const last = seg.records.at(-1);
      if (last) return { firstMs: first, lastMs: last.timestampMs, intervalMs: seg.intervalMs };
    }
    return null;
  }

  describeRange(range: StoreRange | null = this.range()): string {
    return range
      ? `the store ${this.dir} holds ${formatTimeIso(range.firstMs)} to ${formatTimeIso(range.lastMs)}`
      : `the store ${this.dir} holds no samples`;
  }

  /**
   * The sample at or just before `atMs`. A time before the first sample, or
   * later than the newest by more than three intervals, is a StoreError naming the range held.
   * Reads only the segment holding atMs (segment names are their first
   * sample's time), and earlier ones only when that one has no readable
   * sample before atMs: a seek in a 7-day store reads one hour of it.
   */
  at(atMs: number): Snapshot {
    const segs = this.segments();
    const newest = segs.length - 1;
    let i = newest;
    while (i > 0 && segs[i].startMs > atMs) i--;
    if (segs.length > 0 && atMs >= segs[0].startMs) {
      let checkSlack = i === newest;
      for (let k = i; k >= 0; k--) {
        const seg = this.load(segs[k], k === newest);
        const last = seg.records.at(-1);
        if (!last) continue;
        // Past the newest sample by more than three intervals: not "at or before", a time the store does not hold.
        if (checkSlack && atMs > last.timestampMs + slackMs(seg.intervalMs)) break;
        checkSlack = false;
        for (let r = seg.records.length - 1; r >= 0; r--) {
          if (seg.records[r].timestampMs > atMs) continue;
          const snapshot = this.decode(seg, seg.records[r]);
          if (snapshot) return snapshot;
        }
      }
    }
    const range = this.range();
    if (!range || atMs < range.firstMs || atMs > range.lastMs + slackMs(range.intervalMs))
      throw new StoreError(`no sample at ${formatTimeIso(atMs)}: ${this.describeRange(range)}`);
    throw new StoreError(`no readable sample at ${formatTimeIso(atMs)}: ${this.describeRange(range)}`);
  }

  /** Every sample with fromMs <= time <= toMs, oldest first. */
  *between(fromMs: number, toMs: number): Generator<Snapshot> {
    const segs = this.segments();
    for (let i = 0; i < segs.length; i++) {
      if (segs[i].startMs > toMs) break;
      if (i + 1 < segs.length && segs[i + 1].startMs < fromMs) continue;
      const seg = this.load(segs[i], i === segs.length - 1);
      for (const rec of seg.records) {
        if (rec.timestampMs < fromMs || rec.timestampMs > toMs) continue;
        const snapshot = this.decode(seg, rec);
        if (snapshot) yield snapshot;
      }
    }
  }

  /**
   * The time of the sample just before (-1) or just after (+1) atMs, or null
   * at the store's end; reads only the segments it walks through.
   */
  adjacentTime(atMs: number, direction: 1 | -1): number | null {
    const segs = this.segments();
    let i = segs.length - 1;
    while (i > 0 && segs[i].startMs > atMs) i--;
    for (; i >= 0 && i < segs.length; i += direction) {
      let best: number | null = null;
      for (const rec of this.load(segs[i], i === segs.length - 1).records) {
        const t = rec.timestampMs;
        if (direction < 0 ? t < atMs && (best === null || t > best) : t > atMs && (best === null || t < best)) best = t;
      }
      if (best !== null) return best;
    }
    return null;
  }

  /**
   * At most maxSamples samples of [fromMs, toMs], evenly spread over the
   * records there (the newest always included), oldest first: the detail
   * charts' history without decoding every sample of the hour.
   */
  sampled(fromMs: number, toMs: number, maxSamples: number): Snapshot[] {
    const refs: { seg: LoadedSegment; rec: RecordRef }[] = [];
    const segs = this.segments();
    for (let i = 0; i < segs.length; i++) {
      if (segs[i].startMs > toMs) break;
      if (i + 1 < segs.length && segs[i + 1].startMs < fromMs) continue;
      const seg = this.load(segs[i], i === segs.length - 1);
      for (const rec of seg.records) if (rec.timestampMs >= fromMs && rec.timestampMs <= toMs) refs.push({ seg, rec });
    }
    const stride = Math.max(1, refs.length / Math.max(1, maxSamples));
    const out: Snapshot[] = [];
    // From the newest back, so the current sample is always the last point.
    const picked: number[] = [];
    for (let k = refs.length - 1; k >= 0 && picked.length < maxSamples; k -= stride) picked.push(Math.floor(k));
    for (const k of picked.reverse()) {
      const snapshot = this.decode(refs[k].seg, refs[k].rec);
      if (snapshot) out.push(snapshot);
    }
    return out;
  }

  /** Times of every sample in [fromMs, toMs] (no decoding): the replay's timeline. */
  times(fromMs = -Infinity, toMs = Infinity): number[] {
    const out: number[] = [];
    const segs = this.segments();
    for (let i = 0; i < segs.length; i++) {
      if (segs[i].startMs > toMs) break;
      if (i + 1 < segs.length && segs[i + 1].startMs < fromMs) continue;
      for (const rec of this.load(segs[i], i === segs.length - 1).records)
        if (rec.timestampMs >= fromMs && rec.timestampMs <= toMs) out.push(rec.timestampMs);
    }
    return out;
  }

  /**
   * Like between(), but each sample holds only the containers `want` keeps,
   * and only those are decoded from their deltas (the what-if's read: one
   * container out of hundreds).
   */
  *containersBetween(
    fromMs: number,
    toMs: number,
    want: (c: ContainerSnapshot) => boolean,
  ): Generator<{ timestampMs: number; monotonicSeconds: number; containers: ContainerSnapshot[] }> {
    const segs = this.segments();
    for (let i = 0; i < segs.length; i++) {
      if (segs[i].startMs > toMs) break;
      if (i + 1 < segs.length && segs[i + 1].startMs < fromMs) continue;
      const seg = this.load(segs[i], i === segs.length - 1);
      for (const rec of seg.records) {
        if (rec.timestampMs < fromMs || rec.timestampMs > toMs) continue;
        const key = this.keyFrame(seg, rec.keyOffset);
        if (!key) {
          this.decode(seg, rec); // the one warning for a damaged key frame
          continue;
        }
        if (rec.kind === KIND_KEYFRAME) {
          const s = key.snapshot;
          yield {
            timestampMs: Date.parse(s.timestamp),
            monotonicSeconds: s.monotonicSeconds,
            containers: s.containers.filter(want),
          };
        } else {
          const delta = decodePayload<DeltaPayload>(rec.payload);
          yield {
            timestampMs: Date.parse(delta.t),
            monotonicSeconds: delta.m,
            containers: containersOfDelta(key, delta, want),
          };
        }
      }
    }
  }
}
