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
//
// Most of a cgroup's reads are settings (limits), which change rarely: a
// collector's setting reads are noted after its other reads, and the check
// walks them only when one may have changed since the last tick (see
// settingsSure): the node's settingEpoch moved (a setting's bytes kept anew,
// or a write seen by inotify), or a re-read of settings is due this tick.

import { registeredFiles, type CgroupFileSpec } from '../cgroupfs/files.js';
import { MUST_READ, type CgroupNode, type CgroupTree } from '../cgroupfs/tree.js';
import type { CgroupCollector } from '../../collectors/api.js';

/** What the collection remembers of a cgroup's reads (kept in its NodeMemo). */
export interface ReadsMemo {
  /**
   * Collector i's reads at its last run are reads[reads[i]] .. reads[reads[i + 1]],
   * its settings from reads[collectors + 1 + i] on (the first 2 * collectors + 1
   * entries are those offsets); each one slot * TOKENS + token + 2. null: nothing noted yet.
   */
  reads: Int32Array | null;
  /**
   * Every setting read noted in reads gave, at the end of the tick they were
   * noted, the bytes kept now, while the node's settingEpoch was settingEpoch
   * and no mark of a setting was pending: while the epoch stays and no
   * re-read is due, they still do (the check skips them).
   */
  settingsSure: boolean;
  settingEpoch: number;
  /** Bit i: collector i's fields are stable (see above). */
  stable: number;
  /** The cgroup's dirsVersion and the collection's contextVersion when they were noted. */
  dirsVersion: number;
  contextVersion: number;
}

/** A read's token: the version of the bytes read (0..65535), or its negative result (absent, gone). */
const TOKENS = 1 << 17;

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
  /** Per file slot: a setting (its reads are noted apart, see settingsSure). */
  private readonly isSetting: Uint8Array;
  /** The reads noted this tick for the cgroup being collected. */
  private notes = new Int32Array(256);
  private at = 0;
  /** The running collector's setting reads, moved behind its other reads when it ends. */
  private settingNotes = new Int32Array(64);
  private settingCount = 0;
  /** The collector whose reads are being noted (-1: none). */
  private noting = -1;
  /** The node's settingEpoch when its collection began (begin). */
  private epochAtBegin = 0;
  /** Changes when something besides the files that collectors depend on changes (the huge page sizes). */
  contextVersion = 0;
  /** Collector runs carried over / run, since the start (tests, benchmarks). */
  carried = 0;
  ran = 0;
  /** Setting reads the check did not look at (see settingsSure), since the start. */
  settingsSkipped = 0;

  constructor(collectors: readonly CgroupCollector[]) {
    this.count = collectors.length;
    if (this.count > 30) throw new Error('too many collectors for a bit mask');
    this.isSetting = Uint8Array.from(this.files, (f) => (f.kind === 'setting' ? 1 : 0));
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
    // The setting reads give the same bytes without a look: none kept anew, none marked, none due.
    const settingsSame =
      memo.settingsSure && memo.settingEpoch === node.settingEpoch && !tree.refreshSettings && !node.settingsStale;
    let carry = 0;
    for (const mask of this.groupMasks) {
      if ((memo.stable & mask) !== mask) continue;
      let same = true;
      for (let i = 0; same && i < this.count; i++) {
        if (mask & (1 << i)) same = this.sameReads(tree, node, reads, i, settingsSame);
      }
      if (same) carry |= mask;
    }
    tree.reading = -1;
    return carry;
  }

  private sameReads(tree: CgroupTree, node: CgroupNode, reads: Int32Array, i: number, settingsSame: boolean): boolean {
    tree.reading = i;
    const end = settingsSame ? reads[this.count + 1 + i] : reads[i + 1];
    this.settingsSkipped += reads[i + 1] - end;
    for (let k = reads[i]; k < end; k++) {
      const note = reads[k];
      const slot = Math.floor(note / TOKENS);
      // Served from kept bytes: the token without a read (most reads of an idle cgroup).
      let token = tree.keptToken(node, slot);
      if (token === MUST_READ) token = tokenOf(node, slot, tree.read(node, this.files[slot]));
      if (token !== (note % TOKENS) - 2) return false;
    }
    return true;
  }

  /** Starts noting a cgroup's reads (before check: its settingEpoch now is the one to compare at the end). */
  begin(node: CgroupNode): void {
    this.at = 2 * this.count + 1;
    this.noting = -1;
    this.epochAtBegin = node.settingEpoch;
  }

  /** Collector i starts (its reads follow). */
  startCollector(i: number): void {
    this.finishCollector();
    this.notes[i] = this.at;
    this.noting = i;
    this.settingCount = 0;
  }

  /** A read of the collector running (CgroupSource calls it). */
  noteRead(node: CgroupNode, slot: number, n: number): void {
    const note = slot * TOKENS + tokenOf(node, slot, n) + 2;
    if (this.isSetting[slot]) {
      if (this.settingCount === this.settingNotes.length) this.settingNotes = grown(this.settingNotes, 1);
      this.settingNotes[this.settingCount++] = note;
      return;
    }
    this.room(1);
    this.notes[this.at++] = note;
  }

  /** The running collector's setting reads go behind its other reads. */
  private finishCollector(): void {
    if (this.noting < 0) return;
    const n = this.settingCount;
    this.room(n);
    this.notes[this.count + 1 + this.noting] = this.at;
    for (let k = 0; k < n; k++) this.notes[this.at + k] = this.settingNotes[k];
    this.at += n;
    this.noting = -1;
  }

  /** Collector i is carried over: its reads stay the ones noted at its last run. */
  carry(i: number, memo: ReadsMemo): void {
    this.finishCollector();
    const reads = memo.reads!;
    const from = reads[i];
    const n = reads[i + 1] - from;
    this.room(n);
    const notes = this.notes;
    notes[i] = this.at;
    notes[this.count + 1 + i] = this.at + reads[this.count + 1 + i] - from;
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
    this.finishCollector();
    if (!whole) {
      memo.reads = null;
      memo.stable = 0;
      memo.settingsSure = false;
      return;
    }
    this.notes[this.count] = this.at;
    // No setting kept anew or marked while this cgroup was collected: every
    // setting noted (read now, or checked, or sure since) gives the bytes kept now.
    memo.settingsSure = node.settingEpoch === this.epochAtBegin;
    memo.settingEpoch = node.settingEpoch;
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
    const settingsAt = this.count + 1 + i;
    if (old[settingsAt] - old[i] !== this.notes[settingsAt] - this.notes[i]) return false;
    for (let k = 0; k < n; k++) if (this.notes[this.notes[i] + k] !== old[old[i] + k]) return false;
    return true;
  }

  private equalTo(old: Int32Array): boolean {
    if (old.length !== this.at) return false;
    for (let k = 0; k < this.at; k++) if (old[k] !== this.notes[k]) return false;
    return true;
  }

  private room(n: number): void {
    if (this.at + n > this.notes.length) this.notes = grown(this.notes, this.at + n - this.notes.length);
  }
}

/** A copy of an array with room for `more` entries. */
function grown(array: Int32Array, more: number): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(Math.max(array.length * 2, array.length + more));
  bigger.set(array);
  return bigger;
}

/** A read's token (see ReadsMemo). */
function tokenOf(node: CgroupNode, slot: number, n: number): number {
  return n < 0 ? n : node.keptVersion[slot];
}
