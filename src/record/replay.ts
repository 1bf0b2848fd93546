// The replay timeline behind `tstop --at TIME`: a cursor on the store's
// samples that steps one sample, a duration or to a typed time, decodes the
// sample under it, gives the detail charts the samples leading up to it, and
// lists the limit changes of the audit log between the previous sample and
// this one. It reads through StoreReader, so a recorder may keep writing.

import path from 'node:path';
import type { ChangeRecord } from '../limiter/api.js';
import type { Snapshot } from '../model/types.js';
import { formatTimeIso } from '../util/time.js';
import { StoreError, type StoreReader } from './reader.js';

/** How far back the detail charts reach, and how many samples they decode at most. */
export const CHART_WINDOW_MS = 60 * 60 * 1000;
export const CHART_MAX_SAMPLES = 240;

/** Audit actions that change what a cgroup may use (a signal changes no limit). */
const LIMIT_ACTIONS = new Set<ChangeRecord['action']>(['limit', 'undo', 'freeze', 'thaw']);

export interface ReplayFrame {
  snapshot: Snapshot;
  timeMs: number;
  /** The sample before this one, or null at the start of the store. */
  previousMs: number | null;
  /** Applied limit changes with previousMs < time <= timeMs (all before timeMs for the first sample). */
  changes: ChangeRecord[];
}

/** The limit changes worth showing on the timeline: applied ones, oldest first. */
export function limitChanges(records: readonly ChangeRecord[]): ChangeRecord[] {
  return records
    .filter((r) => r.result === 'applied' && LIMIT_ACTIONS.has(r.action))
    .sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

/** One line for a change: "limit web: memory.max 67108864 -> 33554432 (by root via cli, id abc)". */
export function describeChange(r: ChangeRecord): string {
  const writes = r.writes.map((w) => `${path.basename(w.path)} ${w.oldValue || '(empty)'} -> ${w.newValue}`);
  const who = `${r.sudoUser ?? r.user} via ${r.via}${r.rule ? ` rule ${r.rule}` : ''}`;
  return `${r.action} ${r.container.name}${writes.length ? `: ${writes.join(', ')}` : ''} (by ${who}, change ${r.id})`;
}

export class ReplayTimeline {
  private frame: ReplayFrame;
  private readonly changes: ChangeRecord[];
  /** The chart samples of the last call per window: time -> sample. */
  private readonly chartCache = new Map<string, Map<number, Snapshot>>();

  /** Opens at the sample at or just before atMs; a time outside the store is a StoreError naming its range. */
  constructor(
    private readonly reader: StoreReader,
    atMs: number,
    changes: readonly ChangeRecord[] = [],
  ) {
    this.changes = limitChanges(changes);
    this.frame = this.frameAt(atMs);
  }

  get storeDir(): string {
    return this.reader.dir;
  }

  current(): ReplayFrame {
    return this.frame;
  }

  private frameAt(atMs: number): ReplayFrame {
    const snapshot = this.reader.at(atMs);
    const timeMs = Date.parse(snapshot.timestamp);
    const previousMs = this.reader.adjacentTime(timeMs, -1);
    const from = previousMs ?? -Infinity;
    const changes = this.changes.filter((c) => {
      const t = Date.parse(c.time);
      return t > from && t <= timeMs;
    });
    return { snapshot, timeMs, previousMs, changes };
  }

  /** One sample back (-1) or forward (+1); a message when there is none. */
  step(direction: 1 | -1): string | null {
    const next = this.reader.adjacentTime(this.frame.timeMs, direction);
    if (next === null)
      return direction < 0
        ? `this is the first sample: ${this.reader.describeRange()}`
        : `this is the last sample: ${this.reader.describeRange()}`;
    this.frame = this.frameAt(next);
    return null;
  }

  /** Moves by a duration (to the sample at or before the time reached); a message when that is outside the store. */
  shift(deltaMs: number): string | null {
    return this.seek(this.frame.timeMs + deltaMs);
  }

  /** Moves to the sample at or before atMs; a message (the store's range) when there is none. */
  seek(atMs: number): string | null {
    try {
      this.frame = this.frameAt(atMs);
      return null;
    } catch (err) {
      if (err instanceof StoreError) return err.message;
      throw err;
    }
  }

  /**
   * The samples of the hour up to the current one (at most CHART_MAX_SAMPLES,
   * evenly spread), oldest first. The samples of the last call are kept: a
   * step moves the window by one sample, and the samples picked are mostly
   * the same (StoreReader.sampled), so a step decodes one or two, not 240.
   * With a cgroupId the samples hold that cgroup only (the detail charts).
   */
  chartSamples(windowMs = CHART_WINDOW_MS, maxSamples = CHART_MAX_SAMPLES, cgroupId: string | null = null): Snapshot[] {
    const key = `${windowMs}/${maxSamples}/${cgroupId ?? '*'}`;
    const samples = this.reader.sampled(
      this.frame.timeMs - windowMs,
      this.frame.timeMs,
      maxSamples,
      this.chartCache.get(key),
      cgroupId ?? undefined,
    );
    this.chartCache.set(key, new Map(samples.map((s) => [Date.parse(s.timestamp), s])));
    return samples;
  }

  /** Applied limit changes of one cgroup at or before the current sample, newest first. */
  changesOf(containerId: string, last = 3): ChangeRecord[] {
    return this.changes
      .filter((c) => c.container.id === containerId && Date.parse(c.time) <= this.frame.timeMs)
      .slice(-last)
      .reverse();
  }

  describe(): string {
    return `replaying ${this.reader.dir} at ${formatTimeIso(this.frame.timeMs)}`;
  }
}
