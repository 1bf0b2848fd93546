// The readers' side of the v2 payload (columns.ts has the format and the
// writer). A sample's numbers live in one Float64Array, each entity's a view
// of it; the layout maps the record's stream order (column by column: the
// j-th number of every entity, then the j+1-th) to places in that array.
// A record that changes no entity and no template (most of them) is decoded
// onto the state before it in place: only the numbers it changes are
// touched, and its rates are set to NaN for materialize() to recompute.
// A record that does change them gets a new state, each entity's numbers
// starting from the previous sample's (by path where its template changed).

import zlib from 'node:zlib';
import {
  ColumnDecodeError,
  NULL_RATE,
  newState,
  previousValues,
  valueOf,
  type ColumnState,
  type Entity,
  type Header,
} from './columns.js';
import type { Templates } from './templates.js';

/** Where each number of a record's stream goes: fixed while the entities and their templates are. */
export interface Layout {
  /** Entity i's numbers are flat[offsets[i], offsets[i] + leaves). */
  offsets: Int32Array;
  /** For each place in the stream (column by column), its index in the flat array. */
  streamToFlat: Int32Array;
  /** 1 where the stream's number is a rate. */
  rateAt: Uint8Array;
  /** Column j's numbers are stream[columnStart[j], columnStart[j + 1]). */
  columnStart: Int32Array;
  /** The flat indexes of every rate. */
  rates: Int32Array;
}

/** A decoded state: its numbers in one array, laid out as `layout` says. */
export interface FlatState extends ColumnState {
  flat: Float64Array;
  layout: Layout;
}

function layoutOf(entities: readonly Entity[]): Layout {
  const offsets = new Int32Array(entities.length + 1);
  let maxLeaves = 0;
  for (let i = 0; i < entities.length; i++) {
    const leaves = entities[i].t.leaves;
    offsets[i + 1] = offsets[i] + leaves;
    if (leaves > maxLeaves) maxLeaves = leaves;
  }
  const total = offsets[entities.length];
  // Column j holds a number of every entity with more than j of them: counted from how many have each count.
  const withLeaves = new Int32Array(maxLeaves + 1);
  for (let i = 0; i < entities.length; i++) withLeaves[entities[i].t.leaves]++;
  const columnStart = new Int32Array(maxLeaves + 1);
  let longer = entities.length - withLeaves[0];
  for (let j = 0; j < maxLeaves; j++) {
    columnStart[j + 1] = columnStart[j] + longer;
    longer -= withLeaves[j + 1];
  }
  const cursor = columnStart.slice(0, maxLeaves);
  const streamToFlat = new Int32Array(total);
  const rateAt = new Uint8Array(total);
  const rates: number[] = [];
  for (let i = 0; i < entities.length; i++) {
    const { leaves, rate } = entities[i].t;
    const offset = offsets[i];
    for (let j = 0; j < leaves; j++) {
      const k = cursor[j]++;
      streamToFlat[k] = offset + j;
      rateAt[k] = rate[j];
      if (rate[j]) rates.push(offset + j);
    }
  }
  return { offsets, streamToFlat, rateAt, columnStart, rates: new Int32Array(rates) };
}

function entitiesOver(flat: Float64Array, layout: Layout, from: readonly Entity[]): Entity[] {
  return from.map((e, i) => ({
    id: e.id,
    t: e.t,
    vals: flat.subarray(layout.offsets[i], layout.offsets[i + 1]),
    list: e.list,
  }));
}

/** A copy of a state that decoding onto the original leaves as it is (the sample before the one decoded: its rates' base). */
export function copyState(state: FlatState): FlatState {
  const flat = state.flat.slice();
  const entities = entitiesOver(flat, state.layout, state.entities);
  return {
    ...state,
    flat,
    entities,
    byId: new Map(entities.map((e) => [e.id, e])),
  };
}

let changedScratch = new Int32Array(1024);
/** A record's kind bytes, copied where they can be read four at a time (kindWords: the same memory). */
let kindBytes = new Uint8Array(1024);
let kindWords = new Uint32Array(kindBytes.buffer);

/**
 * The places (stream order) of a record's non-zero kind bytes, into
 * changedScratch; returns how many. Most numbers of most records are
 * unchanged (kind 0): a zero word skips four of them.
 */
function changedPlaces(raw: Buffer, kindsAt: number, total: number): number {
  const words = (total + 3) >> 2;
  if (kindWords.length < words) {
    kindBytes = new Uint8Array(words * 8);
    kindWords = new Uint32Array(kindBytes.buffer);
  }
  kindBytes.set(raw.subarray(kindsAt, kindsAt + total));
  kindBytes.fill(0, total, words * 4);
  if (changedScratch.length < total) changedScratch = new Int32Array(total);
  const changed = changedScratch;
  const kinds = kindBytes;
  const packed = kindWords;
  let n = 0;
  for (let w = 0; w < words; w++) {
    if (packed[w] === 0) continue;
    const at = w << 2;
    if (kinds[at] !== 0) changed[n++] = at;
    if (kinds[at + 1] !== 0) changed[n++] = at + 1;
    if (kinds[at + 2] !== 0) changed[n++] = at + 2;
    if (kinds[at + 3] !== 0) changed[n++] = at + 3;
  }
  return n;
}

/**
 * Applies a record's numbers to `flat`, which holds each number's base (the
 * previous sample's, or 0): a number with kind 0 keeps it, a rate with kind
 * 0 becomes NaN (recomputed on replay), any other is its step from the base
 * (from 0, for a rate) or a literal (a null literal at a rate: NULL_RATE).
 */
function applyNumbers(
  raw: Buffer,
  kindsAt: number,
  flat: Float64Array,
  layout: Layout,
  literals: readonly (number | null)[],
): void {
  const { streamToFlat, rateAt, columnStart, rates } = layout;
  const total = streamToFlat.length;
  for (let x = 0; x < rates.length; x++) flat[rates[x]] = NaN;
  let p = kindsAt + total;
  if (p > raw.length) throw new ColumnDecodeError('numbers end early');
  const changedCount = changedPlaces(raw, kindsAt, total);
  const changed = changedScratch;
  const columns = columnStart.length - 1;
  // Column j's changed numbers are changed[first, next): each column's magnitudes follow its width byte.
  let first = 0;
  for (let j = 0; j < columns && first < changedCount; j++) {
    const end = columnStart[j + 1];
    let next = first;
    while (next < changedCount && changed[next] < end) next++;
    const n = next - first;
    if (n === 0) continue;
    const w = raw[p++];
    if (p + w * n > raw.length) throw new ColumnDecodeError('numbers end early');
    for (let x = 0; x < n; x++) {
      let mag = 0;
      for (let b = w - 1; b >= 0; b--) mag = mag * 256 + raw[p + b * n + x];
      const k = changed[first + x];
      const f = streamToFlat[k];
      const v = valueOf(raw[kindsAt + k], mag, rateAt[k] ? 0 : flat[f], literals);
      flat[f] = rateAt[k] && Number.isNaN(v) ? NULL_RATE : v;
    }
    p += w * n;
    first = next;
  }
  if (p !== raw.length) throw new ColumnDecodeError('numbers left over');
}

/**
 * The state after a record, from the state after the record before it (null
 * for a key frame). `prev` is decoded onto in place when the record changes
 * no entity and no template: copy it first (copyState) to keep it.
 */
export function decodeColumns(prev: FlatState | null, payload: Buffer, templates: Templates): FlatState {
  const raw = zlib.inflateRawSync(payload, {
    chunkSize: prev ? deltaChunkBytes(prev.layout.streamToFlat.length) : keyFrameChunkBytes(payload.length),
  });
  const headBytes = raw.readUInt32LE(0);
  const h = JSON.parse(raw.subarray(4, 4 + headBytes).toString()) as Header;
  if (h.q !== (prev ? prev.seq + 1 : 0)) throw new ColumnDecodeError(`record ${h.q} does not follow ${prev?.seq}`);
  const kindsAt = 4 + headBytes;
  const literals = h.l ?? [];
  if (prev && h.e === undefined && h.s === undefined) {
    // The same entities and templates: onto prev, in place.
    if (h.p)
      for (const [i, list] of Object.entries(h.p)) {
        const e = prev.entities[Number(i)];
        if (!e) throw new ColumnDecodeError(`no entity ${i} for its process list`);
        e.list = list;
      }
    applyNumbers(raw, kindsAt, prev.flat, prev.layout, literals);
    prev.timestamp = h.t;
    prev.monotonicSeconds = h.m;
    prev.seq = h.q;
    if (h.n) prev.notes = h.n;
    return prev;
  }
  const ids =
    h.e?.map((x) => {
      if (typeof x === 'string') return x;
      const e = prev?.entities[x];
      if (!e) throw new ColumnDecodeError(`entity ${x} is not in the previous sample`);
      return e.id;
    }) ?? prev?.entities.map((e) => e.id);
  if (!ids) throw new ColumnDecodeError('a key frame without its entity list');
  const bare = ids.map((id, i): Entity => {
    const skeleton = h.s?.[i];
    const before = prev?.byId.get(id);
    const t = skeleton !== undefined ? templates.get(skeleton) : before?.t;
    if (!t) throw new ColumnDecodeError(`no template for ${id}`);
    const list = h.p?.[i] ?? (before?.t === t ? before.list : null);
    if (t.listPart >= 0 && !list) throw new ColumnDecodeError(`no process list for ${id}`);
    return { id, t, vals: EMPTY, list };
  });
  const layout = layoutOf(bare);
  const flat = new Float64Array(layout.streamToFlat.length);
  const entities = entitiesOver(flat, layout, bare);
  // Each number's base: the previous sample's at the same place (by path where the template changed), else 0.
  if (prev)
    for (const e of entities) {
      const base = previousValues(e.t, prev.byId.get(e.id));
      if (base) e.vals.set(base);
    }
  applyNumbers(raw, kindsAt, flat, layout, literals);
  return { ...newState(h, h.n ?? prev?.notes ?? [], entities), flat, layout };
}

const EMPTY = new Float64Array(0);

/**
 * The output chunk for inflating a key frame: a 1,000-cgroup key frame
 * inflates to megabytes (its templates' text), which in zlib's default 16 KB
 * chunks is a hundred-odd calls into zlib and a copy of them all into one
 * buffer (~3 ms of a seek's CPU). Room for 64 times the compressed size (the
 * bench store's key frames inflate ~61 times) up to 4 MB takes most in one;
 * more is still read, in more chunks.
 */
function keyFrameChunkBytes(payloadBytes: number): number {
  return Math.min(4 << 20, Math.max(64 << 10, payloadBytes * 64));
}

/**
 * The output chunk for inflating a delta: a kind byte per number of the
 * sample before it (55 KB at 1,000 cgroups), which zlib's default 16 KB
 * chunks make four calls into zlib and a copy into one buffer (~0.1 ms a
 * delta, a seek decodes up to 20); room for them and a header takes it in one.
 */
function deltaChunkBytes(numbersBefore: number): number {
  return Math.min(4 << 20, Math.max(16 << 10, numbersBefore + (16 << 10)));
}
