// What a guard condition can look at: any numeric field of a container's
// snapshot by its path in docs/snapshot.schema.json (memory.workingSetBytes,
// pressure.memory.some.avg10, ...), plus three derived forms that rules need
// and the snapshot does not hold: memory.percentOfLimit, cpu.percentOfQuota
// and memory.oomKillsDelta (OOM kills since the previous sample).

import fs from 'node:fs';
import type { ContainerSnapshot } from '../model/types.js';
import { packagePath } from '../util/package-root.js';

/** A field's value in one container: null when unknown (a rule never fires on null). */
export type FieldReader = (c: ContainerSnapshot, previous: ContainerSnapshot | null) => number | null;

const DERIVED: Record<string, FieldReader> = {
  'memory.percentOfLimit': (c) => {
    const used = c.memory?.workingSetBytes ?? c.memory?.usageBytes ?? null;
    const limit = c.memory?.limitBytes ?? null;
    return used === null || limit === null || limit <= 0 ? null : (used / limit) * 100;
  },
  'cpu.percentOfQuota': (c) => c.cpu?.quotaPercent ?? null,
  'memory.oomKillsDelta': (c, prev) => {
    const now = c.memory?.oomKills ?? null;
    const before = prev?.memory?.oomKills ?? null;
    if (now === null) return null;
    // a recreated cgroup (new inode) starts from zero
    if (prev === null || prev.inode !== c.inode || before === null) return 0;
    return Math.max(0, now - before);
  },
};

/** The unit a field's value is in, for parsing thresholds: from its name, as the model names them. */
export type FieldUnit = 'bytes' | 'percent' | 'seconds' | 'count';

export function unitOf(path: string): FieldUnit {
  const last = path.split('.').pop() ?? '';
  if (/Bytes$/.test(last) || /BytesPerSecond$/.test(last)) return 'bytes';
  if (/[pP]ercent/.test(last) || /^avg\d+$/.test(last)) return 'percent';
  if (/Seconds$/.test(last)) return 'seconds';
  return 'count';
}

function walk(c: unknown, parts: string[]): unknown {
  let v: unknown = c;
  for (const p of parts) {
    if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(v, p)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

interface SchemaNode {
  type?: string | string[];
  $ref?: string;
  anyOf?: SchemaNode[];
  properties?: Record<string, SchemaNode>;
}

let paths: string[] | null = null;

/**
 * Every numeric path of a container in docs/snapshot.schema.json (the schema
 * the JSON output is tested against), plus the derived ones: what a rule may
 * name. Arrays (processes, io devices, interfaces) are not paths.
 */
export function numericPaths(): string[] {
  if (paths) return paths;
  const schema = JSON.parse(fs.readFileSync(packagePath('docs', 'snapshot.schema.json'), 'utf8')) as {
    $defs: Record<string, SchemaNode>;
  };
  const out: string[] = [];
  const resolve = (n: SchemaNode): SchemaNode[] => {
    if (n.$ref) return resolve(schema.$defs[n.$ref.replace('#/$defs/', '')]);
    if (n.anyOf) return n.anyOf.flatMap(resolve);
    return [n];
  };
  const visit = (node: SchemaNode, prefix: string, depth: number): void => {
    for (const n of resolve(node)) {
      const types = Array.isArray(n.type) ? n.type : n.type ? [n.type] : [];
      if (types.includes('number') || types.includes('integer')) out.push(prefix);
      else if (types.includes('object') && n.properties && depth < 6) {
        for (const [k, child] of Object.entries(n.properties)) visit(child, prefix ? `${prefix}.${k}` : k, depth + 1);
      }
    }
  };
  visit(schema.$defs.container, '', 0);
  paths = [...new Set([...out, ...Object.keys(DERIVED)])].sort();
  return paths;
}

/** The reader for a path, or null when the path is not a numeric field of the snapshot. */
export function fieldReader(path: string): FieldReader | null {
  const derived = DERIVED[path];
  if (derived) return derived;
  if (!/^[a-zA-Z0-9]+(\.[a-zA-Z0-9]+)*$/.test(path)) return null;
  if (!numericPaths().includes(path)) return null;
  const parts = path.split('.');
  return (c) => {
    const v = walk(c, parts);
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
}
