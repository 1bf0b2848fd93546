// Collection at scrape time, shared: a scrape within the minimum interval of
// the last collection's start gets that collection's exposition, and
// scrapes arriving while a collection runs wait for it. So a scrape storm
// costs one collection, one rendering and one gzip per interval.

import zlib from 'node:zlib';
import type { ContainerSnapshot, SnapshotSource } from '../model/types.js';
import type { ContainerLabelPolicy } from './container-labels.js';
import { deflatePiece, gzipParts, joinedGzip, type DeflatePiece, type GzipParts } from './gzip-join.js';
import { RenderCache } from './render-cache.js';

/** One collection, rendered. */
export interface Exposition {
  /** The text exposition (UTF-8), inflated from the gzip body on first use (Prometheus takes gzip). */
  readonly body: Buffer;
  /** The same, gzipped: the families' compressed pieces joined (render-cache.ts, gzip-join.ts), at each call. */
  gzipped(): Promise<Buffer>;
  /** The gzipped body as the buffers it is made of (what the server writes: nothing copied). */
  readonly gzip: GzipParts;
  /** Wall-clock ms when the collection started. */
  collectedAtMs: number;
  /** Monotonic ms (the collection's clock) when it started. */
  startedAtMonoMs: number;
  /** Made ahead of an expected scrape (see CollectAhead), not for a waiting request. */
  ahead: boolean;
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
  /**
   * Collect ahead of the next scrape once the scrapes come at a steady
   * cadence (see scrapeCadenceMs). Off by default here; the exporter turns it on.
   */
  collectAhead?: boolean;
  /** Timer for the ahead collections (tests inject one); returns a cancel function. */
  setTimer?: (fn: () => void, ms: number) => () => void;
}

/** Scrape arrivals closer than this are one burst (one request each from a few clients). */
const BURST_MS = 20;
/** How many inter-scrape intervals the cadence is judged on. */
const CADENCE_SAMPLES = 3;
/** Intervals within this share of their median count as steady (Prometheus jitters by milliseconds). */
const CADENCE_TOLERANCE = 0.1;
/** An ahead collection that cannot start at least this long before the scrape is not worth making. */
const MIN_LEAD_MS = 10;
/** Below this cadence collecting ahead buys nothing: the collections would overlap the scrapes anyway. */
const MIN_AHEAD_CADENCE_MS = 200;

/**
 * The steady interval of the last scrapes, or null when they are not steady:
 * the last CADENCE_SAMPLES intervals all within CADENCE_TOLERANCE of their median.
 */
export function scrapeCadenceMs(arrivalsMs: readonly number[]): number | null {
  if (arrivalsMs.length < CADENCE_SAMPLES + 1) return null;
  const last = arrivalsMs.slice(-(CADENCE_SAMPLES + 1));
  const intervals = last.slice(1).map((t, i) => t - last[i]);
  const sorted = [...intervals].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  if (median < MIN_AHEAD_CADENCE_MS) return null;
  return intervals.every((d) => Math.abs(d - median) <= median * CADENCE_TOLERANCE) ? median : null;
}

/**
 * How old an ahead collection may be when a scrape takes it: half the
 * scrape interval. So a scrape never gets samples older than half its
 * interval from an ahead collection (a later scrape gets a collection of its own).
 */
export function aheadMaxAgeMs(cadenceMs: number): number {
  return cadenceMs / 2;
}

/** Share of the interval an ahead collection may start before the scrape: under aheadMaxAgeMs by more than the jitter allowed. */
const MAX_LEAD_SHARE = 0.35;
/** Collections (their durations) the lead is judged on. */
const PRODUCE_SAMPLES = 16;

/**
 * How long before the expected scrape an ahead collection starts: twice the
 * 95th percentile of the recent collections' durations (rendering and gzip
 * included), at least 20 ms, at most 0.35 of the interval (so a scrape up to
 * 15 % late still finds it within aheadMaxAgeMs). The percentile, not the
 * last duration: one quick collection must not make the next ahead one late.
 */
export function aheadLeadMs(cadenceMs: number, produceP95Ms: number): number {
  return Math.min(cadenceMs * MAX_LEAD_SHARE, Math.max(20, 2 * produceP95Ms));
}

/** The 95th percentile of some durations (0 when there are none). */
export function p95(durationsMs: readonly number[]): number {
  if (durationsMs.length === 0) return 0;
  const sorted = [...durationsMs].sort((a, b) => a - b);
  return sorted[Math.floor(0.95 * (sorted.length - 1))];
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
  /** Collections made ahead of an expected scrape, and how many of them a scrape took. */
  aheadCollections = 0;
  aheadServed = 0;
  private readonly now: () => number;
  /** Arrival times of the last scrapes (bursts merged), for the cadence. */
  private readonly arrivals: number[] = [];
  /** Durations of the last collections (rendering and gzip included), for the ahead lead. */
  private readonly produceMs: number[] = [];
  /** The running collection is an ahead one no scrape has taken yet. */
  private pendingAhead = false;
  private cancelAhead: (() => void) | null = null;
  private closed = false;
  /** The lines of the last rendering, reused for cgroups whose values did not change. */
  readonly renderCache: RenderCache;

  constructor(private readonly options: SharedCollectionOptions) {
    this.now = options.now ?? (() => performance.now());
    this.renderCache = new RenderCache({ gzipLevel: options.gzipLevel ?? 1 });
  }

  /**
   * The exposition for a scrape arriving now. Freshness: the samples were
   * read at most reuseWindowMs(minInterval) before it (the --min-interval
   * rule), or, from an ahead collection made since the previous scrape, at
   * most half the observed scrape interval before it; otherwise the scrape
   * waits for a collection of its own. A collection already running is
   * joined (it started at most its duration ago).
   */
  get(): Promise<Exposition> {
    const now = this.now();
    this.observe(now);
    if (this.pending && this.pendingAhead) {
      // A scrape earlier than the ahead collection's end takes it when it ends, and only this scrape.
      this.pendingAhead = false;
      this.aheadServed++;
      return this.pending
        .then((e) => {
          e.ahead = false;
          return e;
        })
        .finally(() => this.scheduleAhead());
    }
    if (this.pending) return this.pending;
    const current = this.current;
    if (current?.ahead && this.aheadFresh(current, now)) {
      this.aheadServed++;
      current.ahead = false; // served: the next scrape needs a collection of its own
      this.scheduleAhead();
      return Promise.resolve(current);
    }
    if (current && now - this.startedAt < reuseWindowMs(this.options.minIntervalMs)) {
      return Promise.resolve(current);
    }
    return this.start(now, false).finally(() => this.scheduleAhead());
  }

  /** Whether an ahead collection may still serve a scrape arriving at now. */
  private aheadFresh(e: Exposition, now: number): boolean {
    const cadence = scrapeCadenceMs(this.arrivals);
    return cadence !== null && now - e.startedAtMonoMs <= aheadMaxAgeMs(cadence);
  }

  private start(now: number, ahead: boolean): Promise<Exposition> {
    this.startedAt = now;
    this.pendingAhead = ahead;
    const p = this.produce(now, ahead).finally(() => {
      if (this.pending === p) {
        this.pending = null;
        this.pendingAhead = false;
      }
    });
    this.pending = p;
    return p;
  }

  private observe(now: number): void {
    const last = this.arrivals[this.arrivals.length - 1];
    if (last !== undefined && now - last < BURST_MS) return;
    this.arrivals.push(now);
    if (this.arrivals.length > CADENCE_SAMPLES + 1) this.arrivals.shift();
  }

  /** After a scrape: when the scrapes are steady, collect again shortly before the next one is due. */
  private scheduleAhead(): void {
    if (!this.options.collectAhead || this.closed) return;
    this.cancelAhead?.();
    this.cancelAhead = null;
    const cadence = scrapeCadenceMs(this.arrivals);
    if (cadence === null) return;
    const expected = this.arrivals[this.arrivals.length - 1] + cadence;
    // --min-interval holds for ahead collections too: none sooner than the reuse window after the last.
    const due = Math.max(
      expected - aheadLeadMs(cadence, p95(this.produceMs)),
      this.startedAt + reuseWindowMs(this.options.minIntervalMs),
    );
    if (due > expected - MIN_LEAD_MS) return;
    const setTimer = this.options.setTimer ?? defaultTimer;
    this.cancelAhead = setTimer(
      () => {
        this.cancelAhead = null;
        if (this.pending || this.closed) return;
        this.aheadCollections++;
        this.start(this.now(), true).catch(() => undefined); // a failed ahead collection: the scrape collects itself and reports
      },
      Math.max(0, due - this.now()),
    );
  }

  /** The next scrape collects afresh (a limit changed through the write API). */
  invalidate(): void {
    this.startedAt = -Infinity;
    if (this.current) this.current.ahead = false;
  }

  /** Stops collecting ahead (the exporter is closing). */
  close(): void {
    this.closed = true;
    this.cancelAhead?.();
    this.cancelAhead = null;
  }

  /** The last exposition without collecting (null before the first). */
  get last(): Exposition | null {
    return this.current;
  }

  private async produce(startedAtMonoMs: number, ahead: boolean): Promise<Exposition> {
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
    const rendered = this.renderCache.render(snapshot, selected, {
      nowMs: collectedAtMs,
      containerLabels: this.options.containerLabels,
    });
    const extraText = this.options.extra ? await this.options.extra() : '';
    if (extraText !== '') rendered.push(deflatePiece(Buffer.from(extraText), this.options.gzipLevel ?? 1));
    this.produceMs.push(performance.now() - t0);
    if (this.produceMs.length > PRODUCE_SAMPLES) this.produceMs.shift();
    const exposition = expositionOf(rendered, {
      collectedAtMs,
      startedAtMonoMs,
      ahead,
      cgroups: selected.length,
    });
    this.current = exposition;
    return exposition;
  }
}

/** An exposition over its compressed pieces: the gzip body joined at once, the text inflated when asked for. */
function expositionOf(pieces: DeflatePiece[], rest: Omit<Exposition, 'body' | 'gzipped' | 'gzip'>): Exposition {
  const gzip = gzipParts(pieces);
  let body: Buffer | null = null;
  return {
    ...rest,
    gzip,
    get body() {
      return (body ??= zlib.gunzipSync(joinedGzip(gzip)));
    },
    gzipped: () => Promise.resolve(joinedGzip(gzip)),
  };
}

function defaultTimer(fn: () => void, ms: number): () => void {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}
