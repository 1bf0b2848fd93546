// Render only what changed. Most cgroups on a host are idle between two
// scrapes, so most families come out the same text as last time. The cache
// keeps, per cgroup, the raw samples (values and extra labels) of the last
// render, family after family, and per family its compressed text (a
// DeflatePiece: raw deflate data, CRC-32 and length). A family's emitter
// still runs for every cgroup (a few property reads), into a recorder that
// only compares; the family is rendered and compressed again only when one
// of its values, extra labels or sample counts, a cgroup's base labels, or
// the set of cgroups changed. The gzip body is the families' pieces joined
// (gzip-join.ts); the text, when a client does not take gzip, is that
// inflated. Only the compressed text is kept (~150 KB at 1,000 cgroups), not
// the 3.7 MB of text. The text is byte for byte what renderSnapshot writes.

import zlib from 'node:zlib';
import type { ContainerSnapshot, Snapshot } from '../model/types.js';
import {
  CONTAINER_FAMILIES,
  renderContext,
  renderMachine,
  type ContainerFamily,
  type RenderOptions,
} from './families.js';
import { deflatePiece, type DeflatePiece } from './gzip-join.js';
import { TextWriter, type SampleSink } from './text.js';

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
  /** The render in progress, swapped with the above at its end (no allocation per render). */
  nextValues: number[] = [];
  nextExtras: (string | null)[] = [];
  nextStarts: number[];
  cursor = 0;

  constructor(families: number) {
    this.starts = new Array<number>(families + 1).fill(0);
    this.nextStarts = new Array<number>(families + 1).fill(0);
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
      else extra = e.extras[i]; // keep the old string: the new one dies young
    }
    e.nextValues[this.cursor] = value;
    e.nextExtras[this.cursor] = extra;
    this.cursor++;
  }
}

export class RenderCache {
  /** Families rendered again / reused by the last render (tests, the bench). */
  familiesRendered = 0;
  familiesReused = 0;
  private readonly byId = new Map<string, CgroupLines>();
  private readonly recorder = new Recorder();
  private readonly writer = new TextWriter();
  private generation = 0;
  /** The cgroups of the last render, in order: a family's piece holds only while they are the same. */
  private lastEntries: CgroupLines[] = [];
  /** Each family's compressed text as last rendered; null: not rendered yet, or no samples (length 0). */
  private pieces: (DeflatePiece | null)[];
  private readonly families: readonly ContainerFamily[];
  private readonly gzipLevel: number;

  constructor(options: { gzipLevel?: number; families?: readonly ContainerFamily[] } = {}) {
    this.families = options.families ?? CONTAINER_FAMILIES;
    this.gzipLevel = options.gzipLevel ?? 1;
    this.pieces = this.families.map(() => null);
  }

  /** Cgroups the cache holds samples of. */
  get size(): number {
    return this.byId.size;
  }

  /** The container and machine families of these cgroups of the snapshot, compressed family by family. */
  render(snapshot: Snapshot, containers: ContainerSnapshot[], options: RenderOptions = {}): DeflatePiece[] {
    try {
      const out = this.renderFamilies(snapshot, containers, options);
      const w = this.writer;
      w.reset();
      renderMachine(snapshot, w);
      out.push(deflatePiece(w.bytes(), this.gzipLevel));
      return out;
    } catch (err) {
      // Half a render leaves samples and pieces out of step: start over next time.
      this.byId.clear();
      this.lastEntries = [];
      this.pieces = this.families.map(() => null);
      throw err;
    }
  }

  private renderFamilies(snapshot: Snapshot, containers: ContainerSnapshot[], options: RenderOptions): DeflatePiece[] {
    const { ctx, bases } = renderContext(snapshot, containers, options);
    const generation = ++this.generation;
    const families = this.families;
    this.familiesRendered = 0;
    this.familiesReused = 0;
    const entries = containers.map((c, i) => {
      let e = this.byId.get(c.id);
      if (e?.seenAt === generation)
        e = new CgroupLines(families.length); // the same id twice: not cached
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
    const out: DeflatePiece[] = [];
    for (let f = 0; f < families.length; f++) {
      const family = families[f];
      let changed = !sameCgroups || this.pieces[f] === null;
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        r.entry = e;
        r.cursor = e.cursor;
        r.prevAt = e.starts[f];
        r.prevEnd = e.starts[f + 1];
        r.same = !changed;
        family.emit(containers[i], r, ctx);
        if (!r.same || r.prevAt !== r.prevEnd) changed = true;
        e.cursor = r.cursor;
        e.nextStarts[f + 1] = r.cursor;
      }
      if (changed) {
        w.reset();
        w.begin(family.name, family.type, family.help);
        for (const e of entries) {
          w.setBase(e.base);
          for (let k = e.nextStarts[f]; k < e.nextStarts[f + 1]; k++) {
            const extra = e.nextExtras[k];
            if (extra === null) w.sample(e.nextValues[k]);
            else w.sampleWith(extra, e.nextValues[k]);
          }
        }
        this.pieces[f] = deflatePiece(w.bytes(), this.gzipLevel);
        this.familiesRendered++;
      } else {
        this.familiesReused++;
      }
      const piece = this.pieces[f]!;
      if (piece.length > 0) out.push(piece);
    }
    for (const e of entries) e.swap();
    this.lastEntries = entries;
    for (const [id, e] of this.byId) if (e.seenAt !== generation) this.byId.delete(id);
    return out;
  }
}
