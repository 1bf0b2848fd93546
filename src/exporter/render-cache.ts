// Render only what changed. Most cgroups on a host are idle between two
// scrapes, so most of a cgroup's lines are the same text as last time. The
// cache keeps, per cgroup and family, the raw samples (values and extra
// labels) of the last render and the lines they gave, and per family its
// UTF-8 bytes and their gzip member. A family's emitter still runs for every
// cgroup (a few property reads), but into a recorder that only compares: a
// cgroup's lines are rebuilt only when a value, an extra label, the number of
// samples or its base labels differ, and a family is encoded and compressed
// again only when one of its cgroups' lines or the set of cgroups changed.
//
// The exposition is the families' chunks in order; its gzip body the
// families' gzip members one after the other, which is one valid gzip
// stream (RFC 1952 2.2: a file is a series of members; Go's gzip.Reader,
// which Prometheus uses, reads them all, as do zlib's gunzip and curl). The
// text is byte for byte what renderSnapshot writes without the cache.

import zlib from 'node:zlib';
import type { ContainerSnapshot, Snapshot } from '../model/types.js';
import {
  CONTAINER_FAMILIES,
  renderContext,
  renderMachine,
  type ContainerFamily,
  type RenderOptions,
} from './families.js';
import { sampleLine, TextWriter, type SampleSink } from './text.js';

/** What the cache keeps of one cgroup. */
class CgroupLines {
  base = '';
  /** Base labels changed or the cgroup is new: nothing of the last render applies. */
  fresh = true;
  /** The render generation that last saw this cgroup (vanished cgroups are dropped). */
  seenAt = 0;
  /** Samples of the last render, family after family; family f's are starts[f] .. starts[f + 1]. */
  values: number[] = [];
  extras: (string | null)[] = [];
  starts: number[];
  /** The lines of each family, as last rendered ('' when it had no samples). */
  texts: string[];
  /** The render in progress, swapped with the above at its end (no allocation per render). */
  nextValues: number[] = [];
  nextExtras: (string | null)[] = [];
  nextStarts: number[];
  cursor = 0;

  constructor(families: number) {
    this.starts = new Array<number>(families + 1).fill(0);
    this.nextStarts = new Array<number>(families + 1).fill(0);
    this.texts = new Array<string>(families).fill('');
  }

  swap(): void {
    [this.values, this.nextValues] = [this.nextValues, this.values];
    [this.extras, this.nextExtras] = [this.nextExtras, this.extras];
    [this.starts, this.nextStarts] = [this.nextStarts, this.starts];
    this.fresh = false;
  }
}

function sameValue(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b); // NaN is NaN's text
}

/** The SampleSink an emitter writes into: records the samples and compares them with the last render's. */
class Recorder implements SampleSink {
  entry!: CgroupLines;
  /** Next index in entry.nextValues. */
  cursor = 0;
  /** Index in entry.values of the sample this one is compared with, and the end of the family's. */
  prevAt = 0;
  prevEnd = 0;
  same = true;

  sample(value: number): void {
    this.push(null, value);
  }

  sampleWith(extra: string, value: number): void {
    this.push(extra, value);
  }

  private push(extra: string | null, value: number): void {
    const e = this.entry;
    if (this.same) {
      const i = this.prevAt++;
      if (i >= this.prevEnd || e.extras[i] !== extra || !sameValue(e.values[i], value)) this.same = false;
    }
    e.nextValues[this.cursor] = value;
    e.nextExtras[this.cursor] = extra;
    this.cursor++;
  }
}

/** One rendering: the families' chunks in exposition order, and the gzip member of each. */
export interface RenderedChunks {
  raw: Buffer[];
  gzip: Buffer[];
}

/** A family's bytes and gzip member as last rendered (null: it had no samples). */
interface FamilyChunk {
  raw: Buffer | null;
  gzip: Buffer | null;
}

export class RenderCache {
  /** Lines of a cgroup's family reused / rebuilt, and families re-encoded, by the last render (tests, the bench). */
  reused = 0;
  rebuilt = 0;
  familiesEncoded = 0;
  private readonly byId = new Map<string, CgroupLines>();
  private readonly recorder = new Recorder();
  private readonly writer = new TextWriter();
  private generation = 0;
  /** The cgroups of the last render, in order: a family's chunk holds only while they are the same. */
  private lastEntries: CgroupLines[] = [];
  private chunks: (FamilyChunk | null)[];
  private readonly gzipLevel: number;

  constructor(options: { gzipLevel?: number; families?: readonly ContainerFamily[] } = {}) {
    this.families = options.families ?? CONTAINER_FAMILIES;
    this.gzipLevel = options.gzipLevel ?? 1;
    this.chunks = this.families.map(() => null);
  }

  private readonly families: readonly ContainerFamily[];

  /** Cgroups the cache holds lines of. */
  get size(): number {
    return this.byId.size;
  }

  /** The container and machine families of these cgroups of the snapshot, as chunks. */
  render(snapshot: Snapshot, containers: ContainerSnapshot[], options: RenderOptions = {}): RenderedChunks {
    try {
      const out: RenderedChunks = { raw: [], gzip: [] };
      this.renderFamilies(snapshot, containers, options, out);
      const w = this.writer;
      w.reset();
      renderMachine(snapshot, w);
      this.push(out, { raw: Buffer.from(w.bytes()), gzip: null });
      return out;
    } catch (err) {
      // Half a render leaves lines and samples out of step: start over next time.
      this.byId.clear();
      this.lastEntries = [];
      this.chunks = this.families.map(() => null);
      throw err;
    }
  }

  private push(out: RenderedChunks, chunk: FamilyChunk): void {
    if (chunk.raw === null || chunk.raw.length === 0) return;
    chunk.gzip ??= zlib.gzipSync(chunk.raw, { level: this.gzipLevel });
    out.raw.push(chunk.raw);
    out.gzip.push(chunk.gzip);
  }

  private renderFamilies(
    snapshot: Snapshot,
    containers: ContainerSnapshot[],
    options: RenderOptions,
    out: RenderedChunks,
  ): void {
    const { ctx, bases } = renderContext(snapshot, containers, options);
    const generation = ++this.generation;
    const families = this.families;
    this.reused = 0;
    this.rebuilt = 0;
    this.familiesEncoded = 0;
    const entries = containers.map((c, i) => {
      let e = this.byId.get(c.id);
      if (e?.seenAt === generation) e = new CgroupLines(families.length); // the same id twice: not cached
      else if (!e) this.byId.set(c.id, (e = new CgroupLines(families.length)));
      if (e.base !== bases[i]) {
        e.base = bases[i];
        e.fresh = true;
      }
      e.seenAt = generation;
      e.cursor = 0;
      return e;
    });
    const sameCgroups =
      entries.length === this.lastEntries.length && entries.every((e, i) => e === this.lastEntries[i] && !e.fresh);
    const r = this.recorder;
    const w = this.writer;
    for (let f = 0; f < families.length; f++) {
      const family = families[f];
      let changed = !sameCgroups || this.chunks[f] === null;
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        const from = e.cursor;
        r.entry = e;
        r.cursor = from;
        r.prevAt = e.starts[f];
        r.prevEnd = e.starts[f + 1];
        r.same = !e.fresh;
        family.emit(containers[i], r, ctx);
        const to = r.cursor;
        e.cursor = to;
        e.nextStarts[f + 1] = to;
        if (r.same && r.prevAt === r.prevEnd) {
          this.reused++;
        } else {
          let text = '';
          for (let k = from; k < to; k++) text += sampleLine(family.name, e.base, e.nextExtras[k], e.nextValues[k]);
          e.texts[f] = text;
          this.rebuilt++;
          changed = true;
        }
      }
      if (changed) {
        w.reset();
        w.begin(family.name, family.type, family.help);
        for (const e of entries) w.lines(e.texts[f], e.nextStarts[f + 1] - e.nextStarts[f]);
        const bytes = w.bytes();
        this.chunks[f] = { raw: bytes.length > 0 ? Buffer.from(bytes) : null, gzip: null };
        this.familiesEncoded++;
      }
      this.push(out, this.chunks[f]!);
    }
    for (const e of entries) e.swap();
    this.lastEntries = entries;
    for (const [id, e] of this.byId) if (e.seenAt !== generation) this.byId.delete(id);
  }
}
