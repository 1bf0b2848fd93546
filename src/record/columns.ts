// The column payload (segments "TSTOPSG3", and "TSTOPSG2" before rates were
// always numbers in a template): a sample as columns of numbers
// against the previous sample. Each entity (the host, each cgroup) is split
// into a template, its JSON with every number replaced by 0 (strings, nulls,
// keys and array lengths: what rarely changes), and its numbers in template
// order. A record holds:
//
//   u32 header length | header JSON | one varint per number, column by column
//
// The header carries the time, the entity list and the templates only where
// they changed (a key frame is a record against nothing: all of them). Each
// number is a varint u = magnitude * 4 + tag, against the same number of the
// previous sample (the same template path when a template changed):
//   u = 0      unchanged; for a rate: recomputed from the counters on replay
//   tag 1      integer step (zigzag), tag 2: step in millionths (zigzag),
//   tag 3      the magnitude indexes the header's literal list.
// Columns (the j-th number of every entity, then the j+1-th) put alike
// figures next to each other for deflate. Rates that the model's applyRates
// gives back from the stored counters (within RATE_TOLERANCE) are not stored:
// a busy cgroup's CPU %, io and network rates cost one zero byte each.
// A rate is a number in the template whatever its value (TSTOPSG3): a null
// rate that replay gives back as null is left to it like any other, and one
// it would not (a key frame's) is the literal null, which means null, not
// "recompute". So a cgroup's first sample (no rates yet) and the next (rates)
// share a template. (TSTOPSG2 wrote a null rate into the template itself.)

import zlib from 'node:zlib';
import { applyRates } from '../model/rates.js';
import type { ContainerSnapshot, Snapshot } from '../model/types.js';
import { storedNumber } from './codec.js';
import { fillView, newViews, rateAt, type EntityViews } from './rate-views.js';
import { buildTemplate } from './template-build.js';
import { scannedRateText, scannedRateTexts, scannedText, scannedTextInto } from './template-text.js';
import { matchesCarriedInto, matchesInto } from './template-match.js';
import { withinRateTolerance, Templates, indexOfPath, type Template } from './templates.js';

/** textOf(e), pushed onto `pieces` (in pieces where the template was scanned: joined once with others). */
export function textInto(e: Entity, pieces: string[]): void {
  if (e.t.scanned) scannedTextInto(e.t.skeleton, e.t.scanned, e.vals, e.list, pieces);
  else pieces.push(textOf(e));
}

/** An entity's JSON text: its template's with its numbers (NaN as null). */
export function textOf(e: Entity): string {
  if (e.t.scanned) return scannedText(e.t.skeleton, e.t.scanned, e.vals, e.list);
  const { parts, listPart, listCut } = e.t;
  const vals = e.vals;
  const part = (x: number): string =>
    x === listPart ? listCut[0] + JSON.stringify(e.list ?? []) + listCut[1] : parts[x];
  let text = part(0);
  for (let j = 0; j < vals.length; j++) {
    const v = vals[j];
    text += Number.isFinite(v) ? String(v) : 'null';
    text += part(j + 1);
  }
  return text;
}

/**
 * The snapshot of a state's entities (the host first), built as JSON text
 * and parsed: the engine's parser makes a thousand cgroups' objects several
 * times faster than building them key by key.
 */
function buildSnapshot(state: ColumnState, entities: readonly Entity[]): Snapshot {
  const containers = entities.slice(1).map(textOf);
  return JSON.parse(
    `{"timestamp":${JSON.stringify(state.timestamp)},"monotonicSeconds":${state.monotonicSeconds},` +
      `"host":${textOf(entities[0])},"containers":[${containers.join(',')}],` +
      `"notes":${JSON.stringify(state.notes)}}`,
  ) as Snapshot;
}

/** An entity's rate view as JSON text (rates as null: for applyRates to fill). */
function rateTextOf(e: Entity): string {
  if (e.t.scanned) return scannedRateText(e.t.skeleton, e.t.scanned, e.vals);
  const { rateParts, rateIdx, rate } = e.t;
  let text = rateParts[0];
  for (let x = 0; x < rateIdx.length; x++) {
    const j = rateIdx[x];
    const v = e.vals[j];
    text += rate[j] || !Number.isFinite(v) ? 'null' : String(v);
    text += rateParts[x + 1];
  }
  return text;
}

/** The start of what applyRates needs of a sample (the clock, then the host's rate view and the cgroups'): rateSnapshot() ends it. */
function rateSnapshotStart(monotonicSeconds: number): string[] {
  return [`{"monotonicSeconds":${monotonicSeconds},"host":`];
}

/** The sample of pieces begun by rateSnapshotStart: the host's rate view, `,"containers":[`, the cgroups' (rateTextOf), comma-separated. */
function rateSnapshot(pieces: string[]): Snapshot {
  pieces.push(']}');
  return JSON.parse(pieces.join('')) as Snapshot;
}

/** The rate at j as applyRates left it in an entity's object (NaN when it computed none). */
function rateIn(obj: unknown, keys: readonly string[]): number {
  // Indexed loops: the seek runs without TurboFan, where for..of here cost ~4 ms a key frame.
  let v: unknown = obj;
  for (let x = 0; x < keys.length; x++) {
    if (v === null || typeof v !== 'object') return NaN;
    v = (v as Record<string, unknown>)[keys[x]];
  }
  return typeof v === 'number' ? storedNumber(v) : NaN;
}

/** An entity (the host: id "") as a template and its numbers. */
export interface Entity {
  id: string;
  t: Template;
  /** NaN at a rate still to be recomputed (and for a number JSON cannot hold). */
  vals: Float64Array;
  /** The process list (a cgroup's; null for the host). */
  list: unknown[] | null;
  /** The writer's: the object these numbers were read from (the next sample's members are compared with its). */
  obj?: unknown;
}

/** A decoded sample: what the next record is relative to. */
export interface ColumnState {
  timestamp: string;
  monotonicSeconds: number;
  notes: string[];
  entities: Entity[];
  byId: Map<string, Entity>;
  /** The record's place in its block (0: the key frame). */
  seq: number;
}

export interface Header {
  t: string;
  m: number;
  q: number;
  n?: string[];
  /** The entity list when it changed: an index into the previous list, or a new id. */
  e?: (number | string)[];
  /** Templates of entities (by index) whose template changed. */
  s?: Record<number, string>;
  /** Process lists of entities (by index) whose list changed. */
  p?: Record<number, unknown[]>;
  l?: (number | null)[];
}

const HOST_ID = '';

function objectsOf(s: Snapshot): { id: string; obj: unknown }[] {
  return [{ id: HOST_ID, obj: s.host }, ...s.containers.map((c) => ({ id: c.id, obj: c }))];
}

/** A growing byte buffer. */
class Bytes {
  buf = Buffer.allocUnsafe(1 << 16);
  length = 0;
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
  push(byte: number): void {
    this.reserve(1);
    this.buf[this.length++] = byte;
  }
  append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  /** Writes text as UTF-8 at length (not moving it); returns the bytes written. */
  writeUtf8(text: string): number {
    this.reserve(Buffer.byteLength(text));
    return this.buf.write(text, this.length);
  }
}

/** How many bytes the largest magnitude needs. */
function widthOf(mags: readonly number[]): number {
  let max = 0;
  for (const m of mags) if (m > max) max = m;
  let w = 0;
  while (max >= 1) {
    max = Math.floor(max / 256);
    w++;
  }
  return w;
}

/**
 * A column's magnitudes as a width byte and byte planes (every low byte,
 * then every next byte): the high planes are nearly all zeros, which
 * deflate squeezes to nothing, where varints would spread them over every byte.
 */
function writePlanes(out: Bytes, mags: readonly number[]): void {
  const w = widthOf(mags);
  out.push(w);
  out.reserve(w * mags.length);
  for (let b = 0; b < w; b++) {
    const div = 2 ** (8 * b);
    for (const m of mags) out.buf[out.length++] = Math.floor(m / div) % 256;
  }
}

const MAX_U = Number.MAX_SAFE_INTEGER / 8;
const zigzag = (d: number): number => (d >= 0 ? 2 * d : -2 * d - 1);
const unzigzag = (z: number): number => (z % 2 === 1 ? -(z + 1) / 2 : z / 2);

/** The varint for v against prev (non-zero unless unchanged). */
function codeOf(v: number, prev: number, literals: (number | null)[]): number {
  if (v === prev && !Object.is(v, -0)) return 0;
  if (Number.isSafeInteger(v) && Number.isSafeInteger(prev)) {
    const z = zigzag(v - prev);
    if (z < MAX_U) return z * 4 + 1;
  }
  const vm = Math.round(v * 1e6);
  const pm = Math.round(prev * 1e6);
  if (Number.isSafeInteger(vm) && Number.isSafeInteger(pm) && vm / 1e6 === v) {
    const z = zigzag(vm - pm);
    if (z < MAX_U) return z * 4 + 2;
  }
  literals.push(Number.isFinite(v) ? v : null);
  return (literals.length - 1) * 4 + 3;
}

/**
 * A rate stored as null (a literal, not left to replay): it stays null.
 * Not NaN (a rate replay recomputes), and not finite, so it prints as null.
 */
export const NULL_RATE = Infinity;

export function valueOf(tag: number, mag: number, prev: number, literals: readonly (number | null)[]): number {
  if (tag === 1) return prev + unzigzag(mag);
  if (tag === 2) return (Math.round(prev * 1e6) + unzigzag(mag)) / 1e6;
  if (tag === 3) return literals[mag] ?? NaN; // a non-finite number is kept as null, as JSON has it
  return prev;
}

/** The previous sample's numbers at e's template positions (same path; 0 where there is none, and for rates). */
export function previousValues(t: Template, prev: Entity | undefined): Float64Array | null {
  if (!prev) return null;
  if (prev.t === t) return prev.vals;
  const out = new Float64Array(t.leaves);
  for (let j = 0; j < t.leaves; j++) {
    const at = t.rate[j] ? undefined : indexOfPath(prev.t, t.paths[j]);
    const v = at === undefined || prev.t.rate[at] ? 0 : prev.vals[at];
    out[j] = Number.isFinite(v) ? v : 0;
  }
  return out;
}

export function newState(h: Header, notes: string[], entities: Entity[]): ColumnState {
  return {
    timestamp: h.t,
    monotonicSeconds: h.m,
    notes,
    entities,
    byId: new Map(entities.map((e) => [e.id, e])),
    seq: h.q,
  };
}

function sameJsonList(a: readonly unknown[], b: readonly unknown[] | null): boolean {
  return b !== null && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Level 6: deflate's default; the columns are mostly zero bytes. */
const DEFLATE_LEVEL = Number(process.env.TSTOP_DEFLATE_LEVEL ?? 6);

/** The writer's side: each sample against the previous one it encoded. */
export class ColumnEncoder {
  private prev: ColumnState | null = null;
  /** The previous sample as replay rebuilds it (its counters): the rates' base. */
  private prevSnapshot: Snapshot | null = null;
  /** Each entity's rate views (rate-views.ts), by id. */
  private views = new Map<string, EntityViews>();
  private readonly templates = new Templates();
  private readonly scratch: number[] = [];
  /** About how many numbers a sample has (the last one's, and some). */
  private numbersPerSample = 1024;
  /**
   * The samples' number chunks, used in turn: the previous sample's numbers
   * (what this one is coded against) stay intact in one while this sample's
   * are written to the other. A chunk a sample outgrows is replaced.
   */
  private readonly chunks: Float64Array[] = [new Float64Array(0), new Float64Array(0)];
  private chunkTurn = 0;
  /** Per-sample scratch (codes, derivable flags, kind bytes, planes, the record before deflate), kept between samples. */
  private codes = new Float64Array(0);
  private derivedFlags = new Uint8Array(0);
  private kinds = Buffer.alloc(0);
  private readonly planes = new Bytes();
  private readonly body = new Bytes();

  /**
   * copyCarried (default true): an entity's members that are the objects of
   * its previous sample (carried over by the collection) have their numbers
   * copied from that sample's, not walked; false walks every one (the tests
   * compare the bytes of the two).
   */
  constructor(private readonly options: { copyCarried?: boolean } = {}) {}

  /** Whether obj still has before's template, its numbers written to chunk at `at` (matchesInto). */
  private matches(obj: unknown, before: Entity, chunk: Float64Array, at: number, lists: unknown[][]): boolean {
    if (this.options.copyCarried === false || before.obj === undefined)
      return matchesInto(obj, before.t, chunk, at, lists);
    return matchesCarriedInto(obj, before.t, chunk, at, lists, before.obj, before.vals);
  }

  /** A key frame (against nothing) when `key`, else a delta against the previous sample. */
  encode(s: Snapshot, key: boolean): Buffer {
    const prev = key ? null : this.prev;
    const header: Header = { t: s.timestamp, m: storedNumber(s.monotonicSeconds), q: prev ? prev.seq + 1 : 0 };
    const entities: Entity[] = [];
    const changedTemplates: Record<number, string> = {};
    let templatesChanged = false;
    const vals = this.scratch;
    // Every entity's numbers in one chunk (vals: a view of it): a thousand small typed arrays a sample, each
    // with its own buffer, cost far more to make and to collect.
    // Not the chunk of this.prev (turned only once a sample is encoded: a failed one leaves it as it was).
    const turn = this.chunkTurn ^ 1;
    if (this.chunks[turn].length < this.numbersPerSample) this.chunks[turn] = new Float64Array(this.numbersPerSample);
    let chunk = this.chunks[turn];
    let used = 0;
    let total = 0;
    const lists: unknown[][] = [];
    const changedLists: Record<number, unknown[]> = {};
    let listsChanged = false;
    for (const { id, obj } of objectsOf(s)) {
      const before = prev?.byId.get(id);
      lists.length = 0;
      let t: Template;
      if (before && used + before.t.leaves > chunk.length) {
        // Entities before keep their views of the chunk they are in.
        chunk = new Float64Array(Math.max(this.numbersPerSample, before.t.leaves));
        used = 0;
      }
      if (before && this.matches(obj, before, chunk, used, lists)) t = before.t;
      else {
        vals.length = 0;
        lists.length = 0;
        t = this.templates.add(buildTemplate(obj, vals, lists, (skeleton) => this.templates.find(skeleton)));
        changedTemplates[entities.length] = t.skeleton;
        templatesChanged = true;
        if (used + vals.length > chunk.length) {
          chunk = new Float64Array(Math.max(this.numbersPerSample, vals.length));
          used = 0;
        }
        chunk.set(vals, used);
      }
      const list = lists[0] ?? null;
      if (list && (!before || before.t !== t || !sameJsonList(list, before.list))) {
        changedLists[entities.length] = list;
        listsChanged = true;
      }
      entities.push({ id, t, vals: chunk.subarray(used, used + t.leaves), list, obj });
      used += t.leaves;
      total += t.leaves;
    }
    this.numbersPerSample = total + (total >> 3);
    const last = this.prev;
    // The same cgroups in the same order as the sample before (most samples): nothing to list, nothing to re-key.
    const sameIds =
      last !== null &&
      last.entities.length === entities.length &&
      entities.every((e, i) => e.id === last.entities[i].id);
    if (!prev || !sameIds) {
      const at = new Map(prev?.entities.map((e, i) => [e.id, i]));
      header.e = entities.map((e) => at.get(e.id) ?? e.id);
    }
    if (templatesChanged) header.s = changedTemplates;
    if (listsChanged) header.p = changedLists;
    const notes = s.notes;
    if (!prev || JSON.stringify(notes) !== JSON.stringify(prev.notes)) header.n = notes;
    const state = newState(header, notes, entities);
    // Templates replaced since (the first sample's, whose rates were null) would stay for the segment's life.
    if (this.templates.size > 2 * entities.length + 64) this.templates.retainOnly(entities.map((e) => e.t));

    // Rates that replay recomputes from these counters need not be stored.
    const derived = this.derivable(state, prev !== null, sameIds);
    const { kinds, planes, literals } = this.columns(entities, prev, derived);
    if (literals.length) header.l = literals;
    const body = this.body;
    body.length = 0;
    body.reserve(4);
    body.length = 4;
    body.length += body.writeUtf8(JSON.stringify(header));
    body.buf.writeUInt32LE(body.length - 4, 0);
    body.append(kinds);
    body.append(planes.buf.subarray(0, planes.length));
    this.prev = state;
    this.chunkTurn = turn;
    return zlib.deflateRawSync(body.buf.subarray(0, body.length), { level: DEFLATE_LEVEL });
  }

  /**
   * The numbers' codes (codeOf against the previous sample), entity by
   * entity into one flat array, then column by column: each number's kind
   * byte, and each column's magnitudes as byte planes. Literals are numbered
   * in column order.
   */
  private columns(
    entities: readonly Entity[],
    prev: ColumnState | null,
    derived: Uint8Array | null,
  ): { kinds: Buffer; planes: Bytes; literals: (number | null)[] } {
    const n = entities.length;
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + entities[i].t.leaves;
    const total = offsets[n];
    // A code, or -1 - x for the x-th value to be stored as a literal (numbered in column order below).
    if (this.codes.length < total) this.codes = new Float64Array(total + (total >> 3));
    const codes = this.codes;
    const pending: (number | null)[] = [];
    let maxLeaves = 0;
    for (let i = 0; i < n; i++) {
      const e = entities[i];
      const { rate, leaves } = e.t;
      if (leaves > maxLeaves) maxLeaves = leaves;
      const before = previousValues(e.t, prev?.byId.get(e.id));
      const vals = e.vals;
      const at = offsets[i];
      for (let j = 0; j < leaves; j++) {
        let u: number;
        // A rate: zero when recomputed on replay, else its value (never zero).
        if (rate[j]) u = derived !== null && derived[at + j] ? 0 : codeOf(vals[j], 0, pending) || 1;
        else u = codeOf(vals[j], before === null ? 0 : before[j], pending);
        codes[at + j] = u % 4 === 3 ? -1 - (pending.length - 1) : u;
      }
    }
    if (this.kinds.length < total) this.kinds = Buffer.allocUnsafe(total + (total >> 3));
    const kinds = this.kinds.subarray(0, total);
    const planes = this.planes;
    planes.length = 0;
    const literals: (number | null)[] = [];
    // Every null literal (a null rate in a key frame) is one entry: the same magnitude down the column.
    let nullLiteral = -1;
    const mags: number[] = [];
    let k = 0;
    for (let j = 0; j < maxLeaves; j++) {
      mags.length = 0;
      for (let i = 0; i < n; i++) {
        const at = offsets[i] + j;
        if (at >= offsets[i + 1]) continue;
        let u = codes[at];
        if (u < 0) {
          const literal = pending[-1 - u];
          if (literal !== null || nullLiteral < 0) literals.push(literal);
          if (literal === null) nullLiteral = nullLiteral < 0 ? literals.length - 1 : nullLiteral;
          u = (literal === null ? nullLiteral : literals.length - 1) * 4 + 3;
        }
        kinds[k++] = u % 4;
        if (u !== 0) mags.push(Math.floor(u / 4));
      }
      if (mags.length > 0) writePlanes(planes, mags);
    }
    return { kinds, planes, literals };
  }

  /**
   * 1 at each rate (over all entities' numbers, entity after entity) that
   * applyRates gives back (within RATE_TOLERANCE) from the stored counters of
   * this sample and the one before; null without a previous sample (a key
   * frame). The rate views of this sample are the next one's base.
   */
  private derivable(state: ColumnState, againstPrevious: boolean, sameIds: boolean): Uint8Array | null {
    // Entities gone since take their views with them (a new map), unless the entities are the same.
    const views = sameIds ? this.views : new Map<string, EntityViews>();
    const objects: Snapshot['containers'] = [];
    const filled = state.entities.map((e) => {
      let v = this.views.get(e.id);
      if (!v || v.t !== e.t) views.set(e.id, (v = newViews(e.t)));
      else if (!sameIds) views.set(e.id, v);
      const view = fillView(v, e.vals);
      objects.push(view.root as unknown as ContainerSnapshot);
      return view;
    });
    this.views = views;
    // Rates left unknown (null): only what applyRates fills in counts as recomputed.
    const snapshot = {
      monotonicSeconds: state.monotonicSeconds,
      host: objects[0],
      containers: objects.slice(1),
    } as unknown as Snapshot;
    const prevSnapshot = againstPrevious ? this.prevSnapshot : null;
    applyRates(prevSnapshot, snapshot);
    this.prevSnapshot = snapshot;
    if (!prevSnapshot) return null;
    const total = state.entities.reduce((sum, e) => sum + e.t.leaves, 0);
    // Only rate places are read, and every one is written below.
    if (this.derivedFlags.length < total) this.derivedFlags = new Uint8Array(total + (total >> 3));
    const ok = this.derivedFlags;
    let at = 0;
    state.entities.forEach((e, i) => {
      const leaves = e.t.rateLeaves;
      for (let x = 0; x < leaves.length; x++) {
        const j = leaves[x].j;
        ok[at + j] = withinRateTolerance(rateAt(filled[i], x), e.vals[j]) ? 1 : 0;
      }
      at += e.t.leaves;
    });
    return ok;
  }
}

/** A payload that does not decode as its frame said: a broken chain or a wrong template. */
export class ColumnDecodeError extends Error {}

// The readers' decoder of these payloads is column-decode.ts.

function materializeState(state: ColumnState): Snapshot {
  return buildSnapshot(state, state.entities);
}

/** The state with only the host and the entities `pick` keeps. */
function narrowed(state: ColumnState, pick: (e: Entity) => boolean): ColumnState {
  const entities = state.entities.filter((e, i) => i === 0 || pick(e));
  return { ...state, entities, byId: new Map(entities.map((e) => [e.id, e])) };
}

/**
 * The Snapshot of `state`, its recomputed rates filled in from `prev` (the
 * state before it) as the writer checked them: applyRates on the rate views
 * of the two samples. With `pick`, only the cgroups it keeps are built. Fills
 * the state's rates in place, so a second call is cheap.
 */
export function materialize(prev: ColumnState | null, state: ColumnState, pick?: (e: Entity) => boolean): Snapshot {
  const cur = pick ? narrowed(state, pick) : state;
  fillRates(prev, cur);
  return materializeState(cur);
}

/** Fills the recomputed rates (NaN) of cur's entities from prev in place, as materialize() does. */
export function fillRates(prev: ColumnState | null, cur: ColumnState): void {
  const pending = cur.entities.filter((e, i) => i === 0 || ratesPending(e));
  if (!pending.some(ratesPending)) return;
  if (!prev) throw new ColumnDecodeError('recomputed rates without a previous sample');
  // The rate views of the two samples, as the pieces of one JSON text each. The ones before are in this
  // sample's order (applyRates pairs cgroups by id), and only of cgroups in both.
  const now = rateSnapshotStart(cur.monotonicSeconds);
  const before = rateSnapshotStart(prev.monotonicSeconds);
  let cgroupsBefore = 0;
  for (let i = 0; i < pending.length; i++) {
    const e = pending[i];
    const b = i === 0 ? prev.entities[0] : prev.byId.get(e.id);
    if (i === 1) now.push(',"containers":[');
    else if (i > 1) now.push(',');
    if (b && i > 0) before.push(cgroupsBefore++ === 0 ? ',"containers":[' : ',');
    // A cgroup's rate views now and before in one walk where its template is the same in both (nearly always).
    if (e.t.scanned && b?.t === e.t) scannedRateTexts(e.t.skeleton, e.t.scanned, e.vals, b.vals, now, before);
    else {
      now.push(rateTextOf(e));
      if (b) before.push(rateTextOf(b));
    }
  }
  if (pending.length === 1) now.push(',"containers":[');
  if (cgroupsBefore === 0) before.push(',"containers":[');
  const views = rateSnapshot(now);
  applyRates(rateSnapshot(before), views);
  for (let i = 0; i < pending.length; i++) {
    const e = pending[i];
    const obj = i === 0 ? views.host : views.containers[i - 1];
    const leaves = e.t.rateLeaves;
    for (let x = 0; x < leaves.length; x++) {
      const j = leaves[x].j;
      if (Number.isNaN(e.vals[j])) e.vals[j] = rateIn(obj, leaves[x].keys);
    }
  }
}

/** Whether a rate of e is still to be recomputed (NaN). */
function ratesPending(e: Entity): boolean {
  const leaves = e.t.rateLeaves;
  for (let x = 0; x < leaves.length; x++) if (Number.isNaN(e.vals[leaves[x].j])) return true;
  return false;
}

/** An entity's cgroup (its numbers as decoded so far): for judging identity, which is in the template. */
export function entityContainer(e: Entity): ContainerSnapshot {
  return JSON.parse(textOf(e)) as ContainerSnapshot;
}
