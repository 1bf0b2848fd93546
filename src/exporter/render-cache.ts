// Render only what changed. Most cgroups on a host are idle between two
// scrapes, so most families come out the same text as last time. The cache
// keeps, per family, the raw samples of the last render (values and extra
// labels, cgroup after cgroup, and where each cgroup's end) and its
// compressed text (a DeflatePiece: raw deflate data, CRC-32 and length). A
// family's emitter runs for each cgroup whose fields changed (see below), into
// a recorder that only compares; the family is rendered and compressed again
// only when one of its values, extra labels or per-cgroup sample counts
// changed, or the cgroups (their ids and base labels, in order) did. The gzip body is the families' pieces joined
// (gzip-join.ts); the text, when a client does not take gzip, is that
// inflated. Only the compressed text is kept (~150 KB at 1,000 cgroups), not
// the 3.7 MB of text. The text is byte for byte what renderSnapshot writes.
// A cgroup whose fields are all the last render's (the same values and
// objects: the collection carries unchanged ones over) is not emitted again
// at all, nor its base labels built, but for the volatile families (the
// scrape time, the host's network).

import type { ContainerSnapshot, Snapshot } from '../model/types.js';
import {
  baseLabels,
  CONTAINER_FAMILIES,
  emitContext,
  renderMachine,
  takesHostNetwork,
  type EmitContext,
  usesKubernetesLabels,
  type ContainerFamily,
  type RenderOptions,
} from './families.js';
import { deflatePiece, type DeflatePiece } from './gzip-join.js';
import { TextWriter, type SampleSink } from './text.js';

/**
 * The fields of one render's containers, flat: cgroup i's keys and values
 * are at[i] .. at[i + 1]. Values, not the containers: a collector that writes
 * a new snapshot into an older one's objects (reuseContainers) leaves the
 * last render's values here as they were.
 */
class ContainerFields {
  keys: string[] = [];
  values: unknown[] = [];
  at = new Int32Array(1);
  /** Entries of keys and values in use (past them only nulls). */
  used = 0;

  /**
   * Keeps the fields of these containers (the arrays grow once and are
   * reused). With `same` (1 where a container's fields are the ones kept at
   * its index, ContainerFields.same), those still in their place are not written again.
   */
  keep(containers: readonly ContainerSnapshot[], same: Uint8Array | null = null): void {
    if (this.at.length < containers.length + 1) {
      const at = new Int32Array(containers.length + 1);
      at.set(this.at);
      this.at = at;
    }
    let k = 0;
    let oldEnd = 0;
    for (let i = 0; i < containers.length; i++) {
      const oldStart = oldEnd;
      oldEnd = this.at[i + 1];
      if (same !== null && same[i] && k === oldStart) {
        k = oldEnd; // its keys and values are already here
        continue;
      }
      const c = containers[i];
      for (const key in c) {
        this.keys[k] = key;
        this.values[k] = c[key as keyof ContainerSnapshot];
        k++;
      }
      this.at[i + 1] = k;
    }
    // Let go of what the fewer fields of this render no longer cover.
    for (let j = k; j < this.used; j++) {
      this.keys[j] = '';
      this.values[j] = null;
    }
    this.used = k;
  }

  /** Every field of c is the same value or object as cgroup i's here (snapshots are read-only: same objects, same content). */
  same(c: ContainerSnapshot, i: number): boolean {
    let k = this.at[i];
    const end = this.at[i + 1];
    for (const key in c) {
      if (k === end || this.keys[k] !== key || this.values[k] !== c[key as keyof ContainerSnapshot]) return false;
      k++;
    }
    return k === end;
  }
}

/** One family's samples of one render: cgroup after cgroup; cgroup i's are ends[i - 1] .. ends[i]. */
class FamilySamples {
  values = new Float64Array(64);
  extras: (string | null)[] = [];
  ends = new Int32Array(0);

  /** Room for at least `samples` samples. */
  reserve(samples: number): void {
    if (samples <= this.values.length) return;
    const bigger = new Float64Array(Math.max(samples, this.values.length * 2));
    bigger.set(this.values);
    this.values = bigger;
  }
}

function sameValue(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b); // NaN is NaN's text
}

/**
 * The SampleSink an emitter writes into: records the samples and compares
 * them with the last render's. One FamilySamples per family serves as both
 * (prev and next are the same object): while the render is the same, each
 * sample is written where the equal one already is; once it differs, the
 * last render's samples are not read again, so overwriting them is safe.
 */
class Recorder implements SampleSink {
  prev!: FamilySamples;
  next!: FamilySamples;
  /** Samples recorded so far in next. */
  at = 0;
  /** Index in prev of the sample this one is compared with, and the end of this cgroup's. */
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
    if (this.same) {
      const i = this.prevAt++;
      const prev = this.prev;
      if (i >= this.prevEnd || prev.extras[i] !== extra || !sameValue(prev.values[i], value)) this.same = false;
      else extra = prev.extras[i]; // keep the old string: the new one dies young
    }
    const next = this.next;
    next.reserve(this.at + 1);
    next.values[this.at] = value;
    next.extras[this.at] = extra;
    this.at++;
  }
}

export class RenderCache {
  /** Families rendered again / reused by the last render (tests, the bench). */
  familiesRendered = 0;
  familiesReused = 0;
  private readonly recorder = new Recorder();
  private readonly writer = new TextWriter();
  /** Ids and base labels of the cgroups of the last render, in order: the samples line up only while they hold. */
  private lastIds: string[] = [];
  private lastBases: string[] = [];
  /** The fields of the last render's containers, and what else their samples and base labels depended on. */
  private lastFields = new ContainerFields();
  private lastKubernetes = false;
  private lastPolicy: RenderOptions['containerLabels'] = undefined;
  private lastMemoryV2 = false;
  private lastCpuV2 = false;
  /** Per cgroup of this render: 1 where its container's fields are the last render's (ContainerFields.same). */
  private same = new Uint8Array(0);
  /** The indices of the cgroups of this render whose fields are not the last render's, in order. */
  private dirty = new Int32Array(0);
  /** Per family: the last render's samples, overwritten in place by the next render (see Recorder). */
  private samples: FamilySamples[];
  /** Each family's compressed text as last rendered; null: not rendered yet. */
  private pieces: (DeflatePiece | null)[];
  private readonly families: readonly ContainerFamily[];
  private readonly gzipLevel: number;

  constructor(options: { gzipLevel?: number; families?: readonly ContainerFamily[] } = {}) {
    this.families = options.families ?? CONTAINER_FAMILIES;
    this.gzipLevel = options.gzipLevel ?? 1;
    this.samples = this.families.map(() => new FamilySamples());
    this.pieces = this.families.map(() => null);
  }

  /** Cgroups of the last render. */
  get size(): number {
    return this.lastIds.length;
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
      this.lastIds = [];
      this.lastBases = [];
      this.lastFields.keep([]);
      this.pieces = this.families.map(() => null);
      throw err;
    }
  }

  private renderFamilies(snapshot: Snapshot, containers: ContainerSnapshot[], options: RenderOptions): DeflatePiece[] {
    const ctx = emitContext(snapshot, options);
    const n = containers.length;
    const ids = containers.map((c) => c.id);
    const kubernetes = usesKubernetesLabels(containers);
    // A container whose fields are all the last render's (the same objects: the
    // collection carries unchanged values over) has the same base labels and,
    // but for the volatile families, the same samples: not emitted again.
    const sameContext =
      kubernetes === this.lastKubernetes &&
      options.containerLabels === this.lastPolicy &&
      ctx.memoryV2 === this.lastMemoryV2 &&
      ctx.cpuV2 === this.lastCpuV2;
    if (this.same.length < n) this.same = new Uint8Array(n);
    const bases: string[] = new Array<string>(n);
    const lastCount = this.lastIds.length;
    for (let i = 0; i < n; i++) {
      const same = sameContext && i < lastCount && this.lastFields.same(containers[i], i);
      this.same[i] = same ? 1 : 0;
      bases[i] = same ? this.lastBases[i] : baseLabels(containers[i], kubernetes, options.containerLabels);
    }
    let sameCgroups = n === this.lastIds.length;
    for (let i = 0; sameCgroups && i < n; i++) {
      sameCgroups = ids[i] === this.lastIds[i] && bases[i] === this.lastBases[i];
      if (sameCgroups) bases[i] = this.lastBases[i]; // keep one copy
    }
    // The cgroups whose samples may differ from the last render's: those whose fields are not the same.
    let dirtyCount = 0;
    if (this.dirty.length < n) this.dirty = new Int32Array(n);
    for (let i = 0; i < n; i++) if (!this.same[i]) this.dirty[dirtyCount++] = i;
    const root = containers.findIndex(takesHostNetwork);
    this.familiesRendered = 0;
    this.familiesReused = 0;
    const w = this.writer;
    const out: DeflatePiece[] = [];
    for (let f = 0; f < this.families.length; f++) {
      const family = this.families[f];
      const samples = this.samples[f];
      if (samples.ends.length < n) {
        // Grown with the last render's ends kept: they are compared while this render is the same.
        const ends = new Int32Array(n);
        ends.set(samples.ends);
        samples.ends = ends;
      }
      // A 'root' family's samples of the root cgroup are emitted even when its fields are the same.
      const always = family.volatile === 'root' ? root : -1;
      let changed: boolean;
      if (!sameCgroups || this.pieces[f] === null || family.volatile === 'all') {
        const fresh = !sameCgroups || this.pieces[f] === null;
        changed = this.emitAll(family, samples, containers, ctx, sameCgroups, fresh, always);
      } else {
        // Only the cgroups whose fields changed (and the root for a 'root' family) are emitted.
        const found = this.emitChanged(family, samples, containers, ctx, dirtyCount, always);
        if (found === 'moved') changed = this.emitAll(family, samples, containers, ctx, true, true, always);
        else changed = found === 'values';
      }
      if (changed) {
        w.reset();
        w.begin(family.name, family.type, family.help);
        for (let i = 0, k = 0; i < n; i++) {
          w.setBase(bases[i]);
          for (; k < samples.ends[i]; k++) {
            const extra = samples.extras[k];
            if (extra === null) w.sample(samples.values[k]);
            else w.sampleWith(extra, samples.values[k]);
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
    this.lastIds = ids;
    this.lastBases = bases;
    this.lastFields.keep(containers, sameCgroups ? this.same : null);
    this.lastKubernetes = kubernetes;
    this.lastPolicy = options.containerLabels;
    this.lastMemoryV2 = ctx.memoryV2;
    this.lastCpuV2 = ctx.cpuV2;
    return out;
  }

  /**
   * Emits a family's samples of every cgroup into its FamilySamples, where the
   * last render's are (see Recorder), but for the cgroups whose fields are the
   * same and whose samples are still where this render puts them (unless the
   * family is volatile for every cgroup, or the cgroups changed) and cgroup
   * `always` (-1: none). Returns whether the samples differ from the last
   * render's (always when `changed`).
   */
  private emitAll(
    family: ContainerFamily,
    samples: FamilySamples,
    containers: ContainerSnapshot[],
    ctx: EmitContext,
    sameCgroups: boolean,
    changed: boolean,
    always: number,
  ): boolean {
    const r = this.recorder;
    const skip = sameCgroups && family.volatile !== 'all';
    r.prev = samples;
    r.next = samples;
    r.at = 0;
    r.same = !changed;
    let oldEnd = 0;
    for (let i = 0; i < containers.length; i++) {
      // The last render's samples of cgroup i, read before ends[i] overwrites them.
      const oldStart = oldEnd;
      oldEnd = samples.ends[i];
      if (skip && this.same[i] && r.at === oldStart && i !== always) {
        // Its samples are the last render's, and still where this render puts them.
        r.at = oldEnd;
        continue;
      }
      if (!changed) {
        r.prevAt = oldStart;
        r.prevEnd = oldEnd;
      }
      family.emit(containers[i], r, ctx);
      if (!changed && (!r.same || r.prevAt !== r.prevEnd)) {
        changed = true;
        r.same = false;
      }
      samples.ends[i] = r.at;
    }
    return changed;
  }

  /**
   * The cgroups being the last render's, emits a family's samples of only the
   * dirty ones (fields not the same) and of `always` (-1: none), each over its
   * own last samples. 'same': none differs; 'values': some value or extra
   * label differs, every count is the same (the samples are in place, the
   * ends hold); 'moved': some cgroup has more or fewer samples, so emitAll
   * must lay the family out again (what was written here is what it writes
   * again, in the same places, or samples it does not keep).
   */
  private emitChanged(
    family: ContainerFamily,
    samples: FamilySamples,
    containers: ContainerSnapshot[],
    ctx: EmitContext,
    dirtyCount: number,
    always: number,
  ): 'same' | 'values' | 'moved' {
    const r = this.recorder;
    r.prev = samples;
    r.next = samples;
    r.same = true;
    let changed = false;
    for (let d = 0, e = always; d < dirtyCount || e >= 0;) {
      // The dirty cgroups and `always`, in order.
      let i: number;
      if (e >= 0 && (d === dirtyCount || e < this.dirty[d])) {
        i = e;
        e = -1;
      } else {
        i = this.dirty[d++];
        if (i === e) e = -1;
      }
      const oldStart = i === 0 ? 0 : samples.ends[i - 1];
      const oldEnd = samples.ends[i];
      r.at = oldStart;
      r.prevAt = oldStart;
      r.prevEnd = oldEnd;
      family.emit(containers[i], r, ctx);
      if (r.at !== oldEnd) return 'moved';
      if (!r.same) changed = true;
      r.same = !changed;
    }
    return changed ? 'values' : 'same';
  }
}
