// Values carried over while their bytes do not change. A collector is a
// function of the bytes of the files it reads (and of what the collectors of
// its group filled before it), so when every file it read at its last run
// gives the same bytes now, its fields are the ones it filled then: they are
// carried over instead of parsed again, which at 1,000 mostly idle cgroups is
// most of a tick's JavaScript and its garbage.
//
// "Same bytes" is exact: every read is kept (src/cgroupfs/kept.ts) and its
// keptVersion changes whenever its bytes do. Per cgroup, each collector's
// reads at its last run are noted as (slot, version or the read's negative
// result); the check reads the same files again (from the tick's batch, or
// kept bytes where the tree serves them) and compares.
//
// Rates (CPU %, io per second) are computed from two ticks and written into
// the objects a collector filled, so a collector's fields are carried only
// once they are stable: at its last run its reads were already the same as
// at the run before, so its rates are the ones unchanged values give (0),
// exactly what a fresh run would get now. Collectors that read or change
// each other's fields (collectors/api.ts, `uses`) are carried or run together.

import { registeredFiles, type CgroupFileSpec } from '../cgroupfs/files.js';
import type { CgroupNode, CgroupTree } from '../cgroupfs/tree.js';
import type { CgroupCollector } from '../../collectors/api.js';

/** What the collection remembers of a cgroup's reads (kept in its NodeMemo). */
export interface ReadsMemo {
  /**
   * Collector i's reads at its last run are reads[reads[i]] .. reads[reads[i + 1]]
   * (the first collectors + 1 entries are those offsets); each one
   * slot * TOKENS + token + 2. null: nothing noted yet.
   */
  reads: Int32Array | null;
  /** Bit i: collector i's fields are stable (see above). */
  stable: number;
  /** The cgroup's dirsVersion and the collection's contextVersion when they were noted. */
  dirsVersion: number;
  contextVersion: number;
}

/** A read's token: the version of the bytes read (0..65535), or its negative result (absent, gone). */
const TOKENS = 1 << 17;

export function emptyReadsMemo(): ReadsMemo {
  return { reads: null, stable: 0, dirsVersion: -1, contextVersion: -1 };
}

/** Collectors linked by `uses`, transitively: group number per collector. */
function groupsOf(collectors: readonly CgroupCollector[]): number[] {
  const group = collectors.map((_, i) => i);
  const find = (i: number): number => (group[i] === i ? i : (group[i] = find(group[i])));
  collectors.forEach((c, i) => {
    for (const field of c.uses ?? []) {
      collectors.forEach((w, j) => {
        if (j !== i && w.fields.includes(field)) group[find(i)] = find(j);
      });
    }
  });
  return collectors.map((_, i) => find(i));
}

export class UnchangedValues {
  /** Per group, its collectors' bits; groups in the order of their first collector. */
  private readonly groupMasks: number[] = [];
  private readonly files: readonly CgroupFileSpec[] = registeredFiles();
  private readonly count: number;
  /** The reads noted this tick for the cgroup being collected. */
  private notes = new Int32Array(256);
  private at = 0;
  /** Changes when something besides the files that collectors depend on changes (the huge page sizes). */
  contextVersion = 0;
  /** Collector runs carried over / run, since the start (tests, benchmarks). */
  carried = 0;
  ran = 0;

  constructor(collectors: readonly CgroupCollector[]) {
    this.count = collectors.length;
    if (this.count > 30) throw new Error('too many collectors for a bit mask');
    const groups = groupsOf(collectors);
    const seen = new Map<number, number>();
    groups.forEach((g, i) => {
      let k = seen.get(g);
      if (k === undefined) {
        seen.set(g, (k = this.groupMasks.length));
        this.groupMasks.push(0);
      }
      this.groupMasks[k] |= 1 << i;
    });
  }

  /**
   * The collectors whose fields are carried over for this cgroup this tick
   * (a bit each): the stable ones whose reads, and those of every collector
   * of their group, give the same bytes again. Reads the files to know.
   */
  check(tree: CgroupTree, node: CgroupNode, memo: ReadsMemo): number {
    const reads = memo.reads;
    if (reads === null || memo.stable === 0) return 0;
    if (memo.dirsVersion !== node.dirsVersion || memo.contextVersion !== this.contextVersion) return 0;
    let carry = 0;
    for (const mask of this.groupMasks) {
      if ((memo.stable & mask) !== mask) continue;
      let same = true;
      for (let i = 0; same && i < this.count; i++) {
        if (mask & (1 << i)) same = this.sameReads(tree, node, reads, i);
      }
      if (same) carry |= mask;
    }
    tree.reading = -1;
    return carry;
  }

  private sameReads(tree: CgroupTree, node: CgroupNode, reads: Int32Array, i: number): boolean {
    tree.reading = i;
    for (let k = reads[i]; k < reads[i + 1]; k++) {
      const slot = Math.floor(reads[k] / TOKENS);
      const file = this.files[slot];
      const n = tree.keptSetting(node, file) ?? tree.read(node, file);
      if (tokenOf(node, slot, n) !== (reads[k] % TOKENS) - 2) return false;
    }
    return true;
  }

  /** Starts noting a cgroup's reads. */
  begin(): void {
    this.at = this.count + 1;
  }

  /** Collector i starts (its reads follow). */
  startCollector(i: number): void {
    this.notes[i] = this.at;
  }

  /** A read of the collector running (CgroupSource calls it). */
  noteRead(node: CgroupNode, slot: number, n: number): void {
    this.room(1);
    this.notes[this.at++] = slot * TOKENS + tokenOf(node, slot, n) + 2;
  }

  /** Collector i is carried over: its reads stay the ones noted at its last run. */
  carry(i: number, memo: ReadsMemo): void {
    const reads = memo.reads!;
    const from = reads[i];
    const n = reads[i + 1] - from;
    this.room(n);
    const notes = this.notes;
    notes[i] = this.at;
    // A loop, not set(subarray()): no view object per collector and cgroup.
    for (let k = 0; k < n; k++) notes[this.at + k] = reads[from + k];
    this.at += n;
    this.carried++;
  }

  /**
   * Ends a cgroup: keeps its reads (a new array only when they changed) and
   * which collectors are stable now. ran: the collectors that ran (a bit each);
   * whole: every collector ran or was carried (false with a focus: nothing is
   * stable then, the next tick starts over).
   */
  end(node: CgroupNode, memo: ReadsMemo, ran: number, whole: boolean): void {
    if (!whole) {
      memo.reads = null;
      memo.stable = 0;
      return;
    }
    this.notes[this.count] = this.at;
    const old = memo.reads;
    let stable = memo.stable;
    for (const mask of this.groupMasks) {
      if ((ran & mask) === 0) continue; // carried: stays stable
      let same = old !== null && memo.dirsVersion === node.dirsVersion && memo.contextVersion === this.contextVersion;
      for (let i = 0; same && i < this.count; i++) {
        if (mask & (1 << i)) same = this.sameAsOld(old!, i);
      }
      stable = same ? stable | mask : stable & ~mask;
      for (let i = 0; i < this.count; i++) if (mask & (1 << i)) this.ran++;
    }
    memo.stable = stable;
    memo.dirsVersion = node.dirsVersion;
    memo.contextVersion = this.contextVersion;
    if (old === null || !this.equalTo(old)) memo.reads = this.notes.slice(0, this.at);
  }

  private sameAsOld(old: Int32Array, i: number): boolean {
    const n = this.notes[i + 1] - this.notes[i];
    if (old[i + 1] - old[i] !== n) return false;
    for (let k = 0; k < n; k++) if (this.notes[this.notes[i] + k] !== old[old[i] + k]) return false;
    return true;
  }

  private equalTo(old: Int32Array): boolean {
    if (old.length !== this.at) return false;
    for (let k = 0; k < this.at; k++) if (old[k] !== this.notes[k]) return false;
    return true;
  }

  private room(n: number): void {
    if (this.at + n <= this.notes.length) return;
    const bigger = new Int32Array(Math.max(this.notes.length * 2, this.at + n));
    bigger.set(this.notes);
    this.notes = bigger;
  }
}

/** A read's token (see ReadsMemo). */
function tokenOf(node: CgroupNode, slot: number, n: number): number {
  return n < 0 ? n : node.keptVersion[slot];
}
