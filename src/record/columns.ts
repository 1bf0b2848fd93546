// The v2 payload (segments "TSTOPSG2"): a sample as columns of numbers
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

import zlib from 'node:zlib';
import { applyRates } from '../model/rates.js';
import type { ContainerSnapshot, HostInfo, Snapshot } from '../model/types.js';
import { storedNumber } from './codec.js';

/**
 * The figures model/rates.ts derives from two samples (`*` an array index).
 * A template path in this list is a rate: recomputed on replay when it can be.
 */
export const RATE_PATHS = new Set([
  'cpuPercent',
  'cpu.percent',
  'cpu.quotaPercent',
  'cpu.throttledPercent',
  'io.readBytesPerSecond',
  'io.writeBytesPerSecond',
  'io.devices.*.readBytesPerSecond',
  'io.devices.*.writeBytesPerSecond',
  'io.devices.*.readOpsPerSecond',
  'io.devices.*.writeOpsPerSecond',
  'network.*.rxBytesPerSecond',
  'network.*.txBytesPerSecond',
]);

/** A recomputed rate stands for the live one when within 0.001 (or a millionth of it, for large rates). */
export function withinRateTolerance(recomputed: number, live: number): boolean {
  return Math.abs(recomputed - live) <= Math.max(1e-3, Math.abs(live) * 1e-6);
}

type Node =
  | { k: 'n' }
  | { k: 'v'; v: unknown }
  | { k: 'o'; keys: string[]; kids: Node[] }
  | { k: 'a'; kids: Node[] };

const NUMBER: Node = { k: 'n' };

export interface Template {
  skeleton: string;
  root: Node;
  leaves: number;
  /** Each number's path ("io.devices.0.readBytes"). */
  paths: string[];
  /** 1 where the number is a rate (RATE_PATHS). */
  rate: Uint8Array;
  pathIndex?: Map<string, number>;
}

function compile(v: unknown, path: string, paths: string[]): Node {
  if (typeof v === 'number') {
    paths.push(path);
    return NUMBER;
  }
  if (v === null || typeof v !== 'object') return { k: 'v', v };
  const prefix = path ? `${path}.` : '';
  if (Array.isArray(v)) return { k: 'a', kids: v.map((x, i) => compile(x, `${prefix}${i}`, paths)) };
  const keys = Object.keys(v);
  return { k: 'o', keys, kids: keys.map((k) => compile((v as Record<string, unknown>)[k], `${prefix}${k}`, paths)) };
}

/** Templates by skeleton: each cgroup has its own (its id and name are in it), shared by its samples. */
export class Templates {
  private readonly byText = new Map<string, Template>();

  get(skeleton: string): Template {
    let t = this.byText.get(skeleton);
    if (t) return t;
    const paths: string[] = [];
    const root = compile(JSON.parse(skeleton), '', paths);
    const rate = new Uint8Array(paths.length);
    paths.forEach((p, i) => (rate[i] = RATE_PATHS.has(p.replace(/\.\d+(?=\.|$)/g, '.*')) ? 1 : 0));
    t = { skeleton, root, leaves: paths.length, paths, rate };
    if (this.byText.size > 100_000) this.byText.clear(); // cgroups come and go: keep the map bounded
    this.byText.set(skeleton, t);
    return t;
  }
}

function indexOfPath(t: Template, path: string): number | undefined {
  t.pathIndex ??= new Map(t.paths.map((p, i) => [p, i]));
  return t.pathIndex.get(path);
}

/** The skeleton of v (numbers as 0, stored as storedNumber into vals). */
function skeletonOf(v: unknown, vals: number[]): string {
  if (typeof v === 'number') {
    vals.push(storedNumber(v));
    return '0';
  }
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + skeletonOf(v[i], vals);
    return `${s}]`;
  }
  let s = '{';
  let first = true;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined || typeof x === 'function') continue;
    s += `${first ? '' : ','}${JSON.stringify(k)}:${skeletonOf(x, vals)}`;
    first = false;
  }
  return `${s}}`;
}

/** Whether v has template n's shape; if so its numbers (storedNumber) are pushed to vals. */
function matches(v: unknown, n: Node, vals: number[]): boolean {
  switch (n.k) {
    case 'n':
      if (typeof v !== 'number') return false;
      vals.push(storedNumber(v));
      return true;
    case 'v':
      return v === n.v;
    case 'a':
      if (!Array.isArray(v) || v.length !== n.kids.length) return false;
      for (let i = 0; i < v.length; i++) if (!matches(v[i], n.kids[i], vals)) return false;
      return true;
    case 'o': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
      let i = 0;
      for (const k in v) {
        if (k !== n.keys[i] || !matches((v as Record<string, unknown>)[k], n.kids[i], vals)) return false;
        i++;
      }
      return i === n.keys.length;
    }
  }
}

class Filler {
  i = 0;
  constructor(private readonly vals: ArrayLike<number>) {}
  fill(n: Node): unknown {
    switch (n.k) {
      case 'n':
        return this.vals[this.i++];
      case 'v':
        return n.v;
      case 'a':
        return n.kids.map((k) => this.fill(k));
      case 'o': {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < n.keys.length; i++) o[n.keys[i]] = this.fill(n.kids[i]);
        return o;
      }
    }
  }
}

/** An entity's object from its template and numbers. */
function build(e: Entity): unknown {
  return new Filler(e.vals).fill(e.t.root);
}

/** An entity (the host: id "") as a template and its numbers. */
export interface Entity {
  id: string;
  t: Template;
  vals: number[];
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

interface Header {
  t: string;
  m: number;
  q: number;
  n?: string[];
  /** The entity list when it changed: an index into the previous list, or a new id. */
  e?: (number | string)[];
  /** Templates of entities (by index) whose template changed. */
  s?: Record<number, string>;
  l?: (number | null)[];
}

const HOST_ID = '';

function objectsOf(s: Snapshot): { id: string; obj: unknown }[] {
  return [{ id: HOST_ID, obj: s.host }, ...s.containers.map((c) => ({ id: c.id, obj: c }))];
}

function snapshotOf(state: ColumnState, objects: unknown[]): Snapshot {
  return {
    timestamp: state.timestamp,
    monotonicSeconds: state.monotonicSeconds,
    host: objects[0] as HostInfo,
    containers: objects.slice(1) as ContainerSnapshot[],
    notes: state.notes,
  };
}

class VarintWriter {
  buf = Buffer.allocUnsafe(1 << 16);
  length = 0;
  write(u: number): void {
    if (this.length + 10 > this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    while (u >= 128) {
      this.buf[this.length++] = (u % 128) | 128;
      u = Math.floor(u / 128);
    }
    this.buf[this.length++] = u;
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

function valueOf(u: number, prev: number, literals: readonly (number | null)[]): number {
  const tag = u % 4;
  const mag = Math.floor(u / 4);
  if (tag === 1) return prev + unzigzag(mag);
  if (tag === 2) return (Math.round(prev * 1e6) + unzigzag(mag)) / 1e6;
  if (tag === 3) return literals[mag] as number; // a non-finite number is kept as null, as JSON has it
  return prev;
}

/** The previous sample's value of the number at j of e (0 when there is none). */
function previousValue(e: Entity, j: number, prev: Entity | undefined): number {
  if (!prev || e.t.rate[j]) return 0;
  if (prev.t === e.t) return prev.vals[j];
  const at = indexOfPath(prev.t, e.t.paths[j]);
  const v = at === undefined || prev.t.rate[at] ? 0 : prev.vals[at];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function newState(h: Header, notes: string[], entities: Entity[]): ColumnState {
  return {
    timestamp: h.t,
    monotonicSeconds: h.m,
    notes,
    entities,
    byId: new Map(entities.map((e) => [e.id, e])),
    seq: h.q,
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Level 6: deflate's default; the columns are mostly zero bytes. */
const DEFLATE_LEVEL = Number(process.env.TSTOP_DEFLATE_LEVEL ?? 6);

/** The writer's side: each sample against the previous one it encoded. */
export class ColumnEncoder {
  private prev: ColumnState | null = null;
  /** The previous sample as replay rebuilds it (its counters): the rates' base. */
  private prevSnapshot: Snapshot | null = null;
  private readonly templates = new Templates();

  /** A key frame (against nothing) when `key`, else a delta against the previous sample. */
  encode(s: Snapshot, key: boolean): Buffer {
    const prev = key ? null : this.prev;
    const header: Header = { t: s.timestamp, m: storedNumber(s.monotonicSeconds), q: prev ? prev.seq + 1 : 0 };
    const entities: Entity[] = [];
    const changedTemplates: Record<number, string> = {};
    let templatesChanged = false;
    for (const { id, obj } of objectsOf(s)) {
      const before = prev?.byId.get(id);
      const vals: number[] = [];
      let t: Template;
      if (before && matches(obj, before.t.root, vals)) t = before.t;
      else {
        vals.length = 0;
        t = this.templates.get(skeletonOf(obj, vals));
        changedTemplates[entities.length] = t.skeleton;
        templatesChanged = true;
      }
      entities.push({ id, t, vals });
    }
    const ids = entities.map((e) => e.id);
    if (!prev || !sameList(ids, prev.entities.map((e) => e.id))) {
      const at = new Map(prev?.entities.map((e, i) => [e.id, i]));
      header.e = ids.map((id) => at.get(id) ?? id);
    }
    if (templatesChanged) header.s = changedTemplates;
    const notes = s.notes;
    if (!prev || JSON.stringify(notes) !== JSON.stringify(prev.notes)) header.n = notes;
    const state = newState(header, notes, entities);

    // Rates that replay recomputes from these counters need not be stored.
    const derived = prev && this.prevSnapshot ? this.derivable(state, this.prevSnapshot) : null;
    const literals: (number | null)[] = [];
    const out = new VarintWriter();
    const maxLeaves = entities.reduce((m, e) => Math.max(m, e.t.leaves), 0);
    for (let j = 0; j < maxLeaves; j++) {
      for (let i = 0; i < entities.length; i++) {
        const e = entities[i];
        if (j >= e.t.leaves) continue;
        if (e.t.rate[j]) {
          // A rate: zero when recomputed on replay, else its value (never zero).
          out.write(derived?.[i]?.[j] ? 0 : codeOf(e.vals[j], 0, literals) || 1);
        } else out.write(codeOf(e.vals[j], previousValue(e, j, prev?.byId.get(e.id)), literals));
      }
    }
    if (literals.length) header.l = literals;
    const head = Buffer.from(JSON.stringify(header));
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32LE(head.length);
    this.prev = state;
    this.prevSnapshot = materializeState(state);
    return zlib.deflateRawSync(Buffer.concat([len, head, out.buf.subarray(0, out.length)]), { level: DEFLATE_LEVEL });
  }

  /** Per entity, 1 at each rate that applyRates gives back from the stored counters. */
  private derivable(state: ColumnState, prevSnapshot: Snapshot): (Uint8Array | null)[] {
    // Rates left unknown: only what applyRates fills in counts as recomputed.
    const objects = state.entities.map((e) => build({ ...e, vals: e.vals.map((v, j) => (e.t.rate[j] ? NaN : v)) }));
    applyRates(prevSnapshot, snapshotOf(state, objects));
    return state.entities.map((e, i) => {
      const recomputed: number[] = [];
      if (!e.t.rate.includes(1) || !matches(objects[i], e.t.root, recomputed)) return null;
      const ok = new Uint8Array(e.t.leaves);
      for (let j = 0; j < e.t.leaves; j++)
        ok[j] = e.t.rate[j] && withinRateTolerance(recomputed[j], e.vals[j]) ? 1 : 0;
      return ok;
    });
  }
}

/** A payload that does not decode as its frame said: a broken chain or a wrong template. */
export class ColumnDecodeError extends Error {}

/** The state after a record, from the state after the record before it (null for a key frame). */
export function decodeColumns(prev: ColumnState | null, payload: Buffer, templates: Templates): ColumnState {
  const raw = zlib.inflateRawSync(payload);
  const headBytes = raw.readUInt32LE(0);
  const h = JSON.parse(raw.subarray(4, 4 + headBytes).toString()) as Header;
  if (h.q !== (prev ? prev.seq + 1 : 0)) throw new ColumnDecodeError(`record ${h.q} does not follow ${prev?.seq}`);
  const ids =
    h.e?.map((x) => {
      if (typeof x === 'string') return x;
      const e = prev?.entities[x];
      if (!e) throw new ColumnDecodeError(`entity ${x} is not in the previous sample`);
      return e.id;
    }) ?? prev?.entities.map((e) => e.id);
  if (!ids) throw new ColumnDecodeError('a key frame without its entity list');
  const entities: Entity[] = ids.map((id, i) => {
    const skeleton = h.s?.[i];
    const t = skeleton !== undefined ? templates.get(skeleton) : prev?.byId.get(id)?.t;
    if (!t) throw new ColumnDecodeError(`no template for ${id}`);
    return { id, t, vals: new Array<number>(t.leaves) };
  });
  const literals = h.l ?? [];
  let p = 4 + headBytes;
  const maxLeaves = entities.reduce((m, e) => Math.max(m, e.t.leaves), 0);
  for (let j = 0; j < maxLeaves; j++) {
    for (const e of entities) {
      if (j >= e.t.leaves) continue;
      let u = 0;
      let scale = 1;
      for (;;) {
        if (p >= raw.length) throw new ColumnDecodeError('numbers end early');
        const b = raw[p++];
        u += (b & 127) * scale;
        if (b < 128) break;
        scale *= 128;
      }
      if (e.t.rate[j]) e.vals[j] = u === 0 ? NaN : valueOf(u, 0, literals);
      else e.vals[j] = valueOf(u, previousValue(e, j, prev?.byId.get(e.id)), literals);
    }
  }
  return newState(h, h.n ?? prev?.notes ?? [], entities);
}

function materializeState(state: ColumnState): Snapshot {
  return snapshotOf(state, state.entities.map(build));
}

/** The state with only the host and the entities `pick` keeps. */
function narrowed(state: ColumnState, pick: (e: Entity) => boolean): ColumnState {
  const entities = state.entities.filter((e, i) => i === 0 || pick(e));
  return { ...state, entities, byId: new Map(entities.map((e) => [e.id, e])) };
}

/**
 * The Snapshot of `state`, its recomputed rates filled in from `prev` (the
 * state before it); with `pick`, only the cgroups it keeps are built. Fills
 * the state's rates in place, so a second call is cheap.
 */
export function materialize(prev: ColumnState | null, state: ColumnState, pick?: (e: Entity) => boolean): Snapshot {
  const cur = pick ? narrowed(state, pick) : state;
  const pending = cur.entities.map((e) => e.vals.some((v, j) => e.t.rate[j] === 1 && Number.isNaN(v)));
  if (pending.some(Boolean)) {
    if (!prev) throw new ColumnDecodeError('recomputed rates without a previous sample');
    const objects = cur.entities.map(build);
    applyRates(materializeState(pick ? narrowed(prev, (e) => cur.byId.has(e.id)) : prev), snapshotOf(cur, objects));
    cur.entities.forEach((e, i) => {
      if (!pending[i]) return;
      const recomputed: number[] = [];
      if (!matches(objects[i], e.t.root, recomputed)) throw new ColumnDecodeError(`rates of ${e.id} do not recompute`);
      for (let j = 0; j < e.t.leaves; j++) if (Number.isNaN(e.vals[j]) && e.t.rate[j]) e.vals[j] = recomputed[j];
    });
  }
  return materializeState(cur);
}

/** An entity's cgroup (its numbers as decoded so far): for judging identity, which is in the template. */
export function entityContainer(e: Entity): ContainerSnapshot {
  return build(e) as ContainerSnapshot;
}
