// What the detail view's charts draw: per container, CPU, memory (and its
// limit), io and network since tstop started. Each series holds a fixed
// number of points; when full, neighbouring points are merged (halving the
// resolution), so "since start" costs the same memory after a minute or a
// week. Also remembers when each cgroup last had an OOM kill.

import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { memBytesOf, sumNetwork } from './values.js';

/** A bounded time series: averages (or keeps the last of) merged points. */
export class Series {
  // Grown by doubling up to the capacity: most cgroups are seen for a short while.
  private values: Float32Array;
  private times: Float64Array;
  private count = 0;
  /** Samples per stored point. */
  private step = 1;
  private pendingSum = 0;
  private pendingKnown = 0;
  private pendingSamples = 0;
  private pendingLast = NaN;

  constructor(
    readonly capacity = 240,
    private readonly merge: 'avg' | 'last' = 'avg',
  ) {
    if (capacity < 2 || capacity % 2 !== 0) throw new Error('Series capacity must be an even number >= 2');
    this.values = new Float32Array(Math.min(capacity, 16));
    this.times = new Float64Array(Math.min(capacity, 16));
  }

  private grow(): void {
    const size = Math.min(this.capacity, this.values.length * 2);
    const values = new Float32Array(size);
    const times = new Float64Array(size);
    values.set(this.values);
    times.set(this.times);
    this.values = values;
    this.times = times;
  }

  get length(): number {
    return this.count;
  }

  /** Samples merged into one point now. */
  get resolution(): number {
    return this.step;
  }

  push(time: number, value: number | null): void {
    const v = value === null || !Number.isFinite(value) ? NaN : value;
    this.pendingSamples++;
    this.pendingLast = v;
    if (!Number.isNaN(v)) {
      this.pendingSum += v;
      this.pendingKnown++;
    }
    if (this.pendingSamples < this.step) return;
    const point =
      this.merge === 'last' ? this.pendingLast : this.pendingKnown > 0 ? this.pendingSum / this.pendingKnown : NaN;
    this.pendingSamples = 0;
    this.pendingSum = 0;
    this.pendingKnown = 0;
    if (this.count === this.capacity) this.compact();
    else if (this.count === this.values.length) this.grow();
    this.values[this.count] = point;
    this.times[this.count] = time;
    this.count++;
  }

  private compact(): void {
    const half = this.capacity / 2;
    for (let i = 0; i < half; i++) {
      const a = this.values[2 * i];
      const b = this.values[2 * i + 1];
      this.values[i] = this.merge === 'last' ? b : Number.isNaN(a) ? b : Number.isNaN(b) ? a : (a + b) / 2;
      this.times[i] = this.times[2 * i + 1];
    }
    this.count = half;
    this.step *= 2;
  }

  /** The stored points, oldest first; unknown values are null. */
  points(): { times: number[]; values: (number | null)[] } {
    const times: number[] = [];
    const values: (number | null)[] = [];
    for (let i = 0; i < this.count; i++) {
      times.push(this.times[i]);
      values.push(Number.isNaN(this.values[i]) ? null : this.values[i]);
    }
    return { times, values };
  }
}

export const SERIES_NAMES = ['cpu', 'mem', 'memLimit', 'ioRead', 'ioWrite', 'netRx', 'netTx'] as const;
export type SeriesName = (typeof SERIES_NAMES)[number];

export interface ContainerHistory {
  inode: number;
  /** Monotonic seconds of the first sample. */
  since: number;
  series: Record<SeriesName, Series>;
  oomKills: number | null;
  /** Monotonic seconds of the last OOM kill seen rising; null if none since start. */
  lastOomAt: number | null;
  /** Where the points come from when not from this dashboard (chart labels say it, e.g. "last hour"). */
  source?: string;
}

/**
 * A history from points queried elsewhere (the fleet view's range query):
 * [wall seconds, value] per series, on a grid of `stepSeconds` from
 * `startSeconds` to `endSeconds`. Wall times become the snapshot's
 * monotonic scale (offset `wallNow - monoNow`). The grid starts at the
 * first point any series has, so an hour without data is not drawn as zeros.
 */
export function historyFromPoints(
  points: Partial<Record<SeriesName, [number, number][]>>,
  grid: { startSeconds: number; endSeconds: number; stepSeconds: number },
  clock: { wallNow: number; monoNow: number },
  source: string,
): ContainerHistory {
  const byTime = new Map<SeriesName, Map<number, number>>();
  let first = Infinity;
  for (const name of SERIES_NAMES) {
    const m = new Map<number, number>();
    for (const [t, v] of points[name] ?? []) {
      m.set(Math.round(t), v);
      if (t < first) first = t;
    }
    byTime.set(name, m);
  }
  const step = Math.max(1, grid.stepSeconds);
  const count = Math.floor((grid.endSeconds - grid.startSeconds) / step) + 1;
  const capacity = Math.max(2, 2 * Math.ceil(count / 2));
  const series = {} as Record<SeriesName, Series>;
  for (const name of SERIES_NAMES) series[name] = new Series(capacity, name === 'memLimit' ? 'last' : 'avg');
  const offset = clock.wallNow - clock.monoNow;
  let since: number | null = null;
  for (let k = 0; k < count; k++) {
    const t = grid.startSeconds + k * step;
    if (t < first) continue;
    since ??= t - offset;
    for (const name of SERIES_NAMES) series[name].push(t - offset, byTime.get(name)!.get(Math.round(t)) ?? null);
  }
  return { inode: 0, since: since ?? clock.monoNow, series, oomKills: null, lastOomAt: null, source };
}

function oomKillsOf(c: ContainerSnapshot): number | null {
  return c.memory?.oomKills ?? c.memory?.events?.oomKill ?? null;
}

export class History {
  private readonly byId = new Map<string, ContainerHistory & { seenTick?: number }>();
  private now = 0;
  /** Snapshots recorded: a history not seen in the latest one is forgotten. */
  private ticks = 0;

  constructor(
    private readonly capacity = 240,
    /** How long an OOM kill counts as recent. */
    readonly oomWindowSeconds = 300,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  /**
   * Adds a snapshot; forgets containers that vanished and restarts those
   * recreated (new inode). `atSeconds` places a snapshot recorded by another
   * process (the store) on this history's monotonic clock.
   */
  record(snapshot: Snapshot, atSeconds: number = snapshot.monotonicSeconds): void {
    const t = atSeconds;
    this.now = t;
    const tick = ++this.ticks;
    for (const c of snapshot.containers) {
      let h = this.byId.get(c.id);
      if (!h || h.inode !== c.inode) {
        h = this.create(c, t);
        this.byId.set(c.id, h);
      }
      h.seenTick = tick;
      // The figures the table's row shows (values.ts), read straight from the snapshot: a row's
      // whole RowValues is only made for the rows shown.
      const s = h.series;
      s.cpu.push(t, c.cpu?.percent ?? null);
      s.mem.push(t, memBytesOf(c));
      s.memLimit.push(t, c.memory?.limitBytes ?? null);
      s.ioRead.push(t, c.io?.readBytesPerSecond ?? null);
      s.ioWrite.push(t, c.io?.writeBytesPerSecond ?? null);
      s.netRx.push(t, sumNetwork(c, 'rxBytesPerSecond'));
      s.netTx.push(t, sumNetwork(c, 'txBytesPerSecond'));
      const kills = oomKillsOf(c);
      if (kills !== null && h.oomKills !== null && kills > h.oomKills) h.lastOomAt = t;
      if (kills !== null) h.oomKills = kills;
    }
    for (const [id, h] of this.byId) if (h.seenTick !== tick) this.byId.delete(id);
  }

  private create(c: ContainerSnapshot, t: number): ContainerHistory {
    const series = {} as Record<SeriesName, Series>;
    for (const name of SERIES_NAMES) series[name] = new Series(this.capacity, name === 'memLimit' ? 'last' : 'avg');
    return { inode: c.inode, since: t, series, oomKills: oomKillsOf(c), lastOomAt: null };
  }

  get(id: string): ContainerHistory | undefined {
    return this.byId.get(id);
  }

  /** Ids with an OOM kill within the window before the last snapshot. */
  oomRecent(): Set<string> {
    const out = new Set<string>();
    for (const [id, h] of this.byId)
      if (h.lastOomAt !== null && this.now - h.lastOomAt <= this.oomWindowSeconds) out.add(id);
    return out;
  }

  /** Seconds since the last OOM kill of a cgroup, null if none seen. */
  secondsSinceOom(id: string): number | null {
    const h = this.byId.get(id);
    return h?.lastOomAt == null ? null : this.now - h.lastOomAt;
  }
}
