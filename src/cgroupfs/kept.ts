// The bytes a cgroup's node keeps of the last read of each of its files (all
// of them: settings, gate, execution, resting, written and held files are
// served from them, and an unchanged version says a file's bytes did not
// change: src/collect/unchanged.ts), in one buffer per node: each
// file slot's bytes at keptOffset[slot], keptLength[slot] long. A Buffer of
// its own per file was ~28 objects of ~100 bytes each per cgroup (2-3 MB of
// heap at 1,000 cgroups) for ~36 bytes of content each.
//
// Bytes of the same length are written over in place; other lengths go at
// the end, and the buffer is compacted into a new one when it runs out of
// room. A served view (see CgroupTree.serve) stays valid until the same slot
// is kept again. keptVersion[slot] changes whenever a slot's bytes do, so a
// parse memoized on it (CgroupSource.setting) is never stale.

import type { CgroupNode } from './node.js';

/** keptLength of a slot with nothing kept. */
export const KEPT_NONE = -1;
/** keptLength of a setting file that does not exist for the cgroup. */
export const KEPT_ABSENT = -2;

/** Below this length a byte loop compares faster than a call into Buffer.compare. */
const SHORT_COMPARE = 64;

/** Whether the slot's kept bytes equal src[start, start + n). */
export function keptEquals(node: CgroupNode, slot: number, src: Buffer, start: number, n: number): boolean {
  if (node.keptLength[slot] !== n) return false;
  const at = node.keptOffset[slot];
  const kept = node.keptBytes;
  if (n < SHORT_COMPARE) {
    for (let i = 0; i < n; i++) if (kept[at + i] !== src[start + i]) return false;
    return true;
  }
  return src.compare(kept, at, at + n, start, start + n) === 0;
}

/** CgroupTree.keptToken's answer when the file must be read to know. */
export const MUST_READ = -1000;

/** A read served from the slot's kept bytes as src/collect/unchanged.ts notes it: their version, or the negative length. */
export function keptToken(node: CgroupNode, slot: number): number {
  const n = node.keptLength[slot];
  return n < 0 ? n : node.keptVersion[slot];
}

/** Keeps src[start, start + n) as the slot's bytes. */
export function keep(node: CgroupNode, slot: number, src: Buffer, start: number, n: number): void {
  node.keptVersion[slot]++;
  const old = node.keptLength[slot];
  if (old === n) {
    src.copy(node.keptBytes, node.keptOffset[slot], start, start + n);
    return;
  }
  if (old > 0) node.keptWaste += old;
  node.keptLength[slot] = KEPT_NONE;
  if (node.keptUsed + n > node.keptBytes.length) compact(node, n);
  node.keptOffset[slot] = node.keptUsed;
  node.keptLength[slot] = n;
  src.copy(node.keptBytes, node.keptUsed, start, start + n);
  node.keptUsed += n;
}

/** Marks a setting file as absent for the cgroup. */
export function keepAbsent(node: CgroupNode, slot: number): void {
  drop(node, slot);
  node.keptLength[slot] = KEPT_ABSENT;
}

/** Forgets the slot's bytes. */
export function drop(node: CgroupNode, slot: number): void {
  const old = node.keptLength[slot];
  if (old === KEPT_NONE) return;
  if (old > 0) node.keptWaste += old;
  node.keptVersion[slot]++;
  node.keptLength[slot] = KEPT_NONE;
}

/** Copies the live bytes into a new buffer with room for `more` (and some slack). */
function compact(node: CgroupNode, more: number): void {
  const live = node.keptUsed - node.keptWaste;
  const size = Math.max(64, Math.ceil((live + more) * 1.25));
  // A backing store of its own: a slice of the shared pool would keep a whole 8 KB slab alive.
  const next = Buffer.allocUnsafeSlow(size);
  let used = 0;
  for (let slot = 0; slot < node.keptLength.length; slot++) {
    const n = node.keptLength[slot];
    if (n <= 0) continue;
    const at = node.keptOffset[slot];
    node.keptBytes.copy(next, used, at, at + n);
    node.keptOffset[slot] = used;
    used += n;
  }
  node.keptBytes = next;
  node.keptUsed = used;
  node.keptWaste = 0;
}
