// What a record's payload holds: a key frame is a whole Snapshot; a delta is
// the Snapshot as a structural diff against its key frame (not against the
// previous sample), so any sample decodes from two records and a damaged
// delta costs only itself. An idle cgroup (nothing changed since the key
// frame) costs nothing in a delta. Payloads are JSON, raw-deflated.
//
// Diff nodes: an object patches an object key by key; [value] replaces; []
// deletes the key; {"#": {index: node}} patches an array of the same
// length element by element; a number is added to an integer (counters and byte
// figures move by small steps: fewer digits than the new value).
//
// Fractions are stored to 10 significant digits and at most 6 decimals
// (storedNumber): CPU seconds to the microsecond, rates and percentages to
// a millionth. The full double's noise digits (2.9132601446533677) do not
// compress and mean nothing.

import zlib from 'node:zlib';
import type { ContainerSnapshot, HostInfo, Snapshot } from '../model/types.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    for (const k of keys) if (!(k in b) || !sameJson(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/** The diff turning `from` into `to`; undefined when they are equal. */
export function diffJson(from: unknown, to: unknown): Json | undefined {
  if (from === to) return undefined;
  if (isObject(from) && isObject(to)) {
    let out: JsonObject | undefined;
    for (const k of Object.keys(to)) {
      const d = k in from ? diffJson(from[k], to[k]) : [to[k]];
      if (d !== undefined) (out ??= {})[k] = d;
    }
    for (const k of Object.keys(from)) if (!(k in to)) (out ??= {})[k] = [];
    return out;
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length && from.length > 0)
    return diffElements(from, to, diffJson);
  if (typeof from === 'number' && typeof to === 'number') {
    // A step only where adding it gives back exactly the new value.
    const step = storedNumber(to - from);
    if (from + step === to) return step;
  }
  if (sameJson(from, to)) return undefined;
  return [to as Json];
}

/** An array's changes element by element (a network interface's counters, one io device's bytes). */
function diffElements(
  from: unknown[],
  to: unknown[],
  diff: (a: unknown, b: unknown) => Json | undefined,
): Json | undefined {
  let out: JsonObject | undefined;
  for (let i = 0; i < to.length; i++) {
    const d = diff(from[i], to[i]);
    if (d !== undefined) (out ??= {})[i] = d;
  }
  return out === undefined ? undefined : { '#': out };
}

/** diffJson on values as the store keeps them: `to` with its fractions rounded. */
export function diffStored(from: unknown, to: unknown): Json | undefined {
  if (typeof to === 'number') {
    const stored = storedNumber(to);
    return from === stored ? undefined : diffJson(from, stored);
  }
  if (isObject(from) && isObject(to)) {
    let out: JsonObject | undefined;
    for (const k of Object.keys(to)) {
      const d = k in from ? diffStored(from[k], to[k]) : [storedJson(to[k])];
      if (d !== undefined) (out ??= {})[k] = d;
    }
    for (const k of Object.keys(from)) if (!(k in to)) (out ??= {})[k] = [];
    return out;
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length && from.length > 0)
    return diffElements(from, to, diffStored);
  return diffJson(from, storedJson(to));
}

/** `base` with the diff applied; unchanged parts are shared with `base`, which is not modified. */
export function patchJson(base: unknown, diff: Json): unknown {
  if (Array.isArray(diff)) return diff[0];
  if (typeof diff === 'number') return (base as number) + diff;
  if (Array.isArray(base) && isObject(diff) && isObject(diff['#'])) {
    const out = [...base];
    for (const [i, d] of Object.entries(diff['#'])) out[Number(i)] = patchJson(base[Number(i)], d);
    return out;
  }
  if (!isObject(diff) || !isObject(base)) return base;
  const out: JsonObject = { ...base };
  for (const [k, d] of Object.entries(diff)) {
    if (Array.isArray(d) && d.length === 0) delete out[k];
    else out[k] = patchJson(base[k], d) as Json;
  }
  return out;
}

interface DeltaPayload {
  /** timestamp, monotonicSeconds */
  t: string;
  m: number;
  h?: Json;
  n?: string[];
  /** Changed containers by id. */
  c?: Record<string, Json>;
  /** Containers the key frame does not hold, whole. */
  a?: ContainerSnapshot[];
  /** Ids of key-frame containers gone. */
  r?: string[];
}

/** Level 6 writes 3 % smaller payloads than 1 at twice the CPU (bench/record.ts). */
const DEFLATE_LEVEL = Number(process.env.TSTOP_DEFLATE_LEVEL ?? 6);

/** A number as the store keeps it: integers as they are, fractions to 10 significant digits, 6 decimals. */
export function storedNumber(x: number): number {
  if (Number.isInteger(x) || !Number.isFinite(x)) return x;
  return Math.round(Number(x.toPrecision(10)) * 1e6) / 1e6;
}

/** The value with every fraction as storedNumber keeps it (a key frame is stored so). */
export function storedJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' ? storedNumber(v) : v))) as T;
}

export function encodePayload(value: unknown): Buffer {
  return zlib.deflateRawSync(Buffer.from(JSON.stringify(value)), { level: DEFLATE_LEVEL });
}

export function decodePayload<T>(payload: Buffer): T {
  return JSON.parse(zlib.inflateRawSync(payload).toString()) as T;
}

/** A key frame, kept decoded by writer and reader: the snapshot and its containers by id. */
export class KeyFrame {
  readonly byId = new Map<string, ContainerSnapshot>();
  constructor(readonly snapshot: Snapshot) {
    for (const c of snapshot.containers) this.byId.set(c.id, c);
  }
}

export function deltaAgainst(key: KeyFrame, s: Snapshot): DeltaPayload {
  const delta: DeltaPayload = { t: s.timestamp, m: storedNumber(s.monotonicSeconds) };
  const host = diffStored(key.snapshot.host, s.host);
  if (host !== undefined) delta.h = host;
  if (!sameJson(key.snapshot.notes, s.notes)) delta.n = s.notes;
  const seen = new Set<string>();
  for (const c of s.containers) {
    seen.add(c.id);
    const base = key.byId.get(c.id);
    if (!base) (delta.a ??= []).push(storedJson(c));
    else {
      const d = diffStored(base, c);
      if (d !== undefined) (delta.c ??= {})[c.id] = d;
    }
  }
  for (const id of key.byId.keys()) if (!seen.has(id)) (delta.r ??= []).push(id);
  return delta;
}

export function applyDelta(key: KeyFrame, delta: DeltaPayload): Snapshot {
  const removed = new Set(delta.r ?? []);
  const changed = delta.c ?? {};
  const containers: ContainerSnapshot[] = [];
  for (const c of key.snapshot.containers) {
    if (removed.has(c.id)) continue;
    const d = changed[c.id];
    containers.push(d === undefined ? c : (patchJson(c, d) as ContainerSnapshot));
  }
  containers.push(...(delta.a ?? []));
  return {
    timestamp: delta.t,
    monotonicSeconds: delta.m,
    host: delta.h === undefined ? key.snapshot.host : (patchJson(key.snapshot.host, delta.h) as HostInfo),
    containers,
    notes: delta.n ?? key.snapshot.notes,
  };
}

/** Fields whose change can make a container match or stop matching a selection by identity. */
const IDENTITY_KEYS = ['id', 'name', 'containerId', 'inode'];

/**
 * The containers of a delta's sample that `want` keeps, patching only those
 * (and those whose identity the delta changes): a what-if reads one
 * container out of hundreds without rebuilding the others.
 */
export function containersOfDelta(
  key: KeyFrame,
  delta: DeltaPayload,
  want: (c: ContainerSnapshot) => boolean,
): ContainerSnapshot[] {
  const removed = new Set(delta.r ?? []);
  const changed = delta.c ?? {};
  const out: ContainerSnapshot[] = [];
  for (const c of key.snapshot.containers) {
    if (removed.has(c.id)) continue;
    const d = changed[c.id];
    if (d === undefined) {
      if (want(c)) out.push(c);
    } else if (want(c) || (isObject(d) && IDENTITY_KEYS.some((k) => k in d))) {
      const patched = patchJson(c, d) as ContainerSnapshot;
      if (want(patched)) out.push(patched);
    }
  }
  for (const c of delta.a ?? []) if (want(c)) out.push(c);
  return out;
}

export type { DeltaPayload };
