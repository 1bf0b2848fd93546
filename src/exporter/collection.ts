// Collection at scrape time, shared: a scrape within the minimum interval of
// the last collection's start gets that collection's exposition, and
// scrapes arriving while a collection runs wait for it. So a scrape storm
// costs one collection, one rendering and one gzip per interval.

import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { ContainerSnapshot, SnapshotSource } from '../model/types.js';
import type { ContainerLabelPolicy } from './container-labels.js';
import { renderSnapshot } from './families.js';
import { TextWriter } from './text.js';

const gzip = promisify(zlib.gzip);

/** One collection, rendered. */
export interface Exposition {
  /** The text exposition (UTF-8). */
  body: Buffer;
  /** The same, gzipped on first request and then kept. */
  gzipped(): Promise<Buffer>;
  /** Wall-clock ms when the collection started. */
  collectedAtMs: number;
  /** Cgroups in the exposition. */
  cgroups: number;
}

export interface CollectionStats {
  durationSeconds: number;
  cgroupsScanned: number;
  cgroupsExported: number;
}

export interface SharedCollectionOptions {
  source: SnapshotSource;
  /** Scrapes within this many ms of the last collection's start reuse it (less the jitter tolerance). */
  minIntervalMs: number;
  /** Which cgroups are exported. */
  select: (c: ContainerSnapshot) => boolean;
  /** Which runtime labels become container_label_* (default: all). */
  containerLabels?: ContainerLabelPolicy;
  /** Called after each collection, before the extra text is produced (prom-client gauges). */
  onCollected?: (stats: CollectionStats) => void;
  /** More exposition text appended after the cgroup families (prom-client's registry). */
  extra?: () => Promise<string>;
  /** Monotonic clock in ms (tests). */
  now?: () => number;
  /** gzip level: 1 is ~4x faster than the default 6 and compresses this text almost as well. */
  gzipLevel?: number;
}

/**
 * How long a collection is reused: the minimum interval less a tolerance for
 * scrape jitter (a tenth of it, at most 100 ms). Prometheus at a 1 s interval
 * scrapes 995-1005 ms apart; reusing up to the full second served a third of
 * those scrapes a collection nearly 2 s old. A burst of scrapes (the same
 * few ms) still shares one collection.
 */
export function reuseWindowMs(minIntervalMs: number): number {
  return minIntervalMs - Math.min(100, minIntervalMs / 10);
}

export class SharedCollection {
  /** Collections made so far. */
  collections = 0;
  private current: Exposition | null = null;
  private startedAt = -Infinity;
  private pending: Promise<Exposition> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: SharedCollectionOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** The latest exposition, collecting first when the last one is older than the minimum interval. */
  get(): Promise<Exposition> {
    if (this.pending) return this.pending;
    const now = this.now();
    if (this.current && now - this.startedAt < reuseWindowMs(this.options.minIntervalMs)) {
      return Promise.resolve(this.current);
    }
    this.startedAt = now;
    const p = this.produce().finally(() => {
      if (this.pending === p) this.pending = null;
    });
    this.pending = p;
    return p;
  }

  /** The last exposition without collecting (null before the first). */
  get last(): Exposition | null {
    return this.current;
  }

  private async produce(): Promise<Exposition> {
    const collectedAtMs = Date.now();
    const t0 = performance.now();
    const snapshot = this.options.source.collect();
    const durationSeconds = (performance.now() - t0) / 1000;
    this.collections++;
    const selected = snapshot.containers.filter(this.options.select);
    this.options.onCollected?.({
      durationSeconds,
      cgroupsScanned: snapshot.containers.length,
      cgroupsExported: selected.length,
    });
    const w = new TextWriter();
    renderSnapshot(snapshot, selected, w, { nowMs: collectedAtMs, containerLabels: this.options.containerLabels });
    if (this.options.extra) w.raw(await this.options.extra());
    const body = Buffer.from(w.bytes()); // a right-sized copy; the writer's buffer is garbage after this
    let zipped: Promise<Buffer> | null = null;
    const level = this.options.gzipLevel ?? 1;
    const exposition: Exposition = {
      body,
      collectedAtMs,
      cgroups: selected.length,
      gzipped: () => (zipped ??= gzip(body, { level })),
    };
    this.current = exposition;
    return exposition;
  }
}
