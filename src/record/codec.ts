// What a record's payload holds: a key frame is a whole Snapshot; a delta is
// the Snapshot as a structural diff against its key frame (not against the
// previous sample), so any sample decodes from two records and a damaged
// delta costs only itself. An idle cgroup (nothing changed since the key
// frame) costs nothing in a delta. Payloads are JSON, raw-deflated.
//
// Diff nodes: an object patches an object key by key; [value] replaces; []
// deletes the key.

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
  if (sameJson(from, to)) return undefined;
  return [to as Json];
}

/** `base` with the diff applied; unchanged parts are shared with `base`, which is not modified. */
export function patchJson(base: unknown, diff: Json): unknown {
  if (Array.isArray(diff)) return diff[0];
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

export function encodePayload(value: unknown): Buffer {
  return zlib.deflateRawSync(Buffer.from(JSON.stringify(value)), { level: 6 });
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
  const delta: DeltaPayload = { t: s.timestamp, m: s.monotonicSeconds };
  const host = diffJson(key.snapshot.host, s.host);
  if (host !== undefined) delta.h = host;
  if (!sameJson(key.snapshot.notes, s.notes)) delta.n = s.notes;
  const seen = new Set<string>();
  for (const c of s.containers) {
    seen.add(c.id);
    const base = key.byId.get(c.id);
    if (!base) (delta.a ??= []).push(c);
    else {
      const d = diffJson(base, c);
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

export type { DeltaPayload };
