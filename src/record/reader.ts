// The readers' side of the store: finds the sample at or before a time,
// or every sample in a range, while a recorder may be appending. Damaged
// bytes (a checksum mismatch, a broken frame) are reported once per segment
// through `warn` and skipped; an incomplete record at the end of the newest
// segment is a write in flight (or the one sample a crash loses) and is
// skipped silently.

import fs from 'node:fs';
import type { ContainerSnapshot, Snapshot } from '../model/types.js';
import { ExpectedError } from '../util/errors.js';
import { formatTimeIso } from '../util/time.js';
import { listSegments, type SegmentFile } from './format.js';
import type { RecordedSample } from './sample-text.js';
import { Segment } from './segment.js';

export class StoreError extends ExpectedError {}

export interface StoreRange {
  firstMs: number;
  lastMs: number;
  /** The recording interval of the newest segment. */
  intervalMs: number;
}

/** How far past the newest sample a time still means "the newest": three intervals, at least a second. */
function slackMs(intervalMs: number): number {
  return Math.max(3 * intervalMs, 1000);
}

export class StoreReader {
  private readonly warned = new Set<string>();
  /** The last segments read (sealed ones are kept; the newest is looked at again). */
  private readonly cache = new Map<string, Segment>();

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

  private load(file: SegmentFile, isNewest: boolean): Segment {
    const cached = this.cache.get(file.name);
    if (cached && !isNewest) return cached;
    const seg = new Segment(this.dir, file, isNewest, (key, message) => this.warnOnce(key, message));
    this.cache.delete(file.name);
    this.cache.set(file.name, seg);
    // A few segments' indexes and decoded states: a stepping replay moves back and forth across a boundary.
    while (this.cache.size > 4) this.cache.delete(this.cache.keys().next().value as string);
    return seg;
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(message);
  }

  /** First and last sample times, or null when the store holds none. */
  range(): StoreRange | null {
    const segs = this.segments();
    let first: number | null = null;
    for (let i = 0; i < segs.length && first === null; i++) {
      first = this.load(segs[i], i === segs.length - 1).entries[0]?.timestampMs ?? null;
    }
    if (first === null) return null;
    for (let i = segs.length - 1; i >= 0; i--) {
      const seg = this.load(segs[i], i === segs.length - 1);
      const last = seg.entries.at(-1);
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
   * sample before atMs; in it, the index and the bytes of one block.
   */
  at(atMs: number): Snapshot {
    return this.find(atMs, (seg, r) => seg.sample(r));
  }

  /** at(), as a RecordedSample where it can be (segment.ts' recorded()): for printing as JSON. */
  atRecorded(atMs: number): RecordedSample | Snapshot {
    return this.find(atMs, (seg, r) => seg.recorded(r));
  }

  private find<T>(atMs: number, sampleOf: (seg: Segment, r: number) => T | null): T {
    const segs = this.segments();
    const newest = segs.length - 1;
    let i = newest;
    while (i > 0 && segs[i].startMs > atMs) i--;
    if (segs.length > 0 && atMs >= segs[0].startMs) {
      let checkSlack = i === newest;
      for (let k = i; k >= 0; k--) {
        const seg = this.load(segs[k], k === newest);
        const last = seg.entries.at(-1);
        if (!last) continue;
        // Past the newest sample by more than three intervals: not "at or before", a time the store does not hold.
        if (checkSlack && atMs > last.timestampMs + slackMs(seg.intervalMs)) break;
        checkSlack = false;
        for (let r = lastAtOrBefore(seg, atMs); r >= 0; r--) {
          const snapshot = sampleOf(seg, r);
          if (snapshot) return snapshot;
        }
      }
    }
    const range = this.range();
    if (!range || atMs < range.firstMs || atMs > range.lastMs + slackMs(range.intervalMs))
      throw new StoreError(`no sample at ${formatTimeIso(atMs)}: ${this.describeRange(range)}`);
    throw new StoreError(`no readable sample at ${formatTimeIso(atMs)}: ${this.describeRange(range)}`);
  }

  /** The segments that may hold [fromMs, toMs], with the entries of each in the range. */
  private *within(fromMs: number, toMs: number): Generator<{ seg: Segment; from: number; to: number }> {
    const segs = this.segments();
    for (let i = 0; i < segs.length; i++) {
      if (segs[i].startMs > toMs) break;
      if (i + 1 < segs.length && segs[i + 1].startMs < fromMs) continue;
      const seg = this.load(segs[i], i === segs.length - 1);
      const to = lastAtOrBefore(seg, toMs);
      let from = to;
      while (from >= 0 && seg.entries[from].timestampMs >= fromMs) from--;
      if (to > from) yield { seg, from: from + 1, to };
    }
  }

  /** Every sample with fromMs <= time <= toMs, oldest first. */
  between(fromMs: number, toMs: number): Generator<Snapshot> {
    return this.samplesBetween(fromMs, toMs, (seg, r) => seg.sample(r));
  }

  /** between(), as RecordedSamples where it can be: each valid until the next is asked for. */
  betweenRecorded(fromMs: number, toMs: number): Generator<RecordedSample | Snapshot> {
    return this.samplesBetween(fromMs, toMs, (seg, r) => seg.recorded(r));
  }

  private *samplesBetween<T>(
    fromMs: number,
    toMs: number,
    sampleOf: (seg: Segment, r: number) => T | null,
  ): Generator<T> {
    for (const { seg, from, to } of this.within(fromMs, toMs)) {
      for (let r = from; r <= to; r++) {
        const snapshot = sampleOf(seg, r);
        if (snapshot) yield snapshot;
      }
    }
  }

  /**
   * The time of the sample just before (-1) or just after (+1) atMs, or null
   * at the store's end; reads only the indexes of the segments it walks through.
   */
  adjacentTime(atMs: number, direction: 1 | -1): number | null {
    const segs = this.segments();
    let i = segs.length - 1;
    while (i > 0 && segs[i].startMs > atMs) i--;
    for (; i >= 0 && i < segs.length; i += direction) {
      let best: number | null = null;
      for (const rec of this.load(segs[i], i === segs.length - 1).entries) {
        const t = rec.timestampMs;
        if (direction < 0 ? t < atMs && (best === null || t > best) : t > atMs && (best === null || t < best)) best = t;
      }
      if (best !== null) return best;
    }
    return null;
  }

  /**
   * At most maxSamples samples of [fromMs, toMs], oldest first: the detail
   * charts' history without building every sample of the hour. The samples
   * picked are every stride-th record counted from the store's epoch (the
   * newest always added), so the picks of a window moved by a step are
   * nearly all the same samples: `reuse` (time -> sample) gives those back
   * without decoding them. With `cgroupPath`, each sample holds only that
   * cgroup, and only it is built.
   */
  sampled(
    fromMs: number,
    toMs: number,
    maxSamples: number,
    reuse?: ReadonlyMap<number, Snapshot>,
    cgroupPath?: string,
  ): Snapshot[] {
    const refs: { seg: Segment; r: number }[] = [];
    for (const { seg, from, to } of this.within(fromMs, toMs)) for (let r = from; r <= to; r++) refs.push({ seg, r });
    if (refs.length === 0) return [];
    const stride = Math.max(1, Math.floor(refs.length / Math.max(1, maxSamples)));
    const intervalMs = Math.max(1, refs[0].seg.intervalMs || 1000);
    const picked = refs.filter(
      ({ seg, r }, k) => k === refs.length - 1 || Math.round(seg.entries[r].timestampMs / intervalMs) % stride === 0,
    );
    const out: Snapshot[] = [];
    for (const { seg, r } of picked.slice(-maxSamples)) {
      const snapshot =
        reuse?.get(seg.entries[r].timestampMs) ??
        (cgroupPath === undefined ? seg.sample(r) : seg.sampleOf(r, cgroupPath));
      if (snapshot) out.push(snapshot);
    }
    return out;
  }

  /** Times of every sample in [fromMs, toMs] (no decoding): the replay's timeline. */
  times(fromMs = -Infinity, toMs = Infinity): number[] {
    const out: number[] = [];
    for (const { seg, from, to } of this.within(fromMs, toMs))
      for (let r = from; r <= to; r++) out.push(seg.entries[r].timestampMs);
    return out;
  }

  /**
   * Like between(), but each sample holds only the containers `want` keeps,
   * and only those are built (the what-if's read: one container out of
   * hundreds). `want` judges identity (id, name, runtime id).
   */
  *containersBetween(
    fromMs: number,
    toMs: number,
    want: (c: ContainerSnapshot) => boolean,
  ): Generator<{ timestampMs: number; monotonicSeconds: number; containers: ContainerSnapshot[] }> {
    for (const { seg, from, to } of this.within(fromMs, toMs)) {
      for (let r = from; r <= to; r++) {
        const sample = seg.containers(r, want);
        if (sample) yield sample;
      }
    }
  }
}

/** The index of the last entry at or before atMs (-1 when none): a binary search, times ascend in a segment. */
function lastAtOrBefore(seg: Segment, atMs: number): number {
  let lo = 0;
  let hi = seg.entries.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (seg.entries[mid].timestampMs <= atMs) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
