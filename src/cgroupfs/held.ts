// Held files (files.ts, heldFile): which of them a tick serves from their
// kept bytes. Decided once at the tick's start, before the batch read, which
// then leaves them out; a cgroup's mark holds for that tick only.

import type { CgroupFileSpec, HeldRule } from './files.js';
import { KEPT_NONE } from './kept.js';
import type { CgroupNode } from './node.js';
import { FD_ABSENT, type FileReader } from './reader.js';
import type { SettingTriggers } from './setting-triggers.js';

interface Held {
  slot: number;
  hierarchy: number;
  rule: HeldRule;
  /** Its bit in CgroupNode.heldBits. */
  bit: number;
  /** The slot whose bytes the rule judges (the file's own, or a setting's). */
  decider: number;
}

/** The id of the tree's top cgroup (the mount's root, or a cgroup namespace's). */
const TOP = '/';

export class HeldFiles {
  private readonly held: Held[] = [];
  /** Per file slot: its bit in CgroupNode.heldBits (0: not a held file). */
  private readonly bits: Int32Array;
  /** Per held file, this tick: its rule may be applied at all (see plan). */
  private readonly usable: boolean[] = [];

  constructor(fileCount: number) {
    this.bits = new Int32Array(fileCount);
  }

  /** Adds a declared held file of hierarchy h; a write its rule names then marks it changed. */
  add(file: CgroupFileSpec, h: number, triggers: SettingTriggers): void {
    const rule = file.held;
    if (!rule || this.held.length >= 31) return; // read every tick
    const bit = 1 << this.held.length;
    this.held.push({ slot: file.slot, hierarchy: h, rule, bit, decider: rule.of?.slot ?? file.slot });
    this.bits[file.slot] = bit;
    triggers.addHeld(file.name, file.slot, h, rule.by, rule.scope);
  }

  /**
   * Marks, for this tick, the held files each cgroup may be served from their
   * kept bytes, and leaves them out of the batch. Only where the writes that
   * matter are reported (settingsByEvent: the directory watches carry
   * IN_MODIFY), which the caller checks. A held file qualifies when:
   * - its directory is watched, no write its rule names was seen since it
   *   was last read (CgroupNode.changed), and its bytes were kept;
   * - the rule holds on the decider's bytes; a setting decider must be kept
   *   fresh by events (settingsByEvent) and unchanged since its last read;
   * - the cgroup's settings are not due (after a queue overflow every
   *   cgroup's are, so lost events cannot leave a file held);
   * - subtree rules: every directory of the hierarchy is watched (a write
   *   above the cgroup is seen), and the top cgroup's own file, read every
   *   tick, held at its last read. A write above the tree's top (a cgroup
   *   namespace's root) is not seen by inotify, but it changes the top's
   *   file too: the cgroups below are read from the next tick on.
   */
  plan(nodes: Map<string, CgroupNode>, tick: number, byEvent: Uint8Array, reader: FileReader): void {
    if (this.held.length === 0) return;
    for (let i = 0; i < this.held.length; i++) {
      const x = this.held[i];
      this.usable[i] = x.rule.scope === 'cgroup' || this.subtreeUsable(nodes, x);
    }
    for (const node of nodes.values()) {
      let bits = 0;
      if (!node.settingsStale) {
        for (let i = 0; i < this.held.length; i++) {
          const x = this.held[i];
          if (!this.usable[i] || !this.holds(node, x, byEvent)) continue;
          bits |= x.bit;
          reader.skipInBatch(node.batchPositions[x.slot]);
        }
      }
      node.heldBits = bits;
      node.heldTick = tick;
    }
  }

  /** The tree's plan for this tick serves the cgroup's file from its kept bytes. */
  serves(node: CgroupNode, slot: number, tick: number): boolean {
    return node.heldTick === tick && (node.heldBits & this.bits[slot]) !== 0;
  }

  private holds(node: CgroupNode, x: Held, byEvent: Uint8Array): boolean {
    if (x.rule.scope === 'subtree' && node.id === TOP) return false; // read every tick (see plan)
    if (!node.dirWatched[x.hierarchy] || node.changed[x.slot] || node.keptLength[x.slot] === KEPT_NONE) return false;
    if (x.decider !== x.slot && (node.changed[x.decider] || !byEvent[x.decider])) return false;
    return keptHolds(node, x, x.decider);
  }

  /** A subtree rule: every directory of the hierarchy watched, and the top cgroup's file held (or absent there). */
  private subtreeUsable(nodes: Map<string, CgroupNode>, x: Held): boolean {
    for (const node of nodes.values()) {
      if (node.dirs[x.hierarchy] !== null && !node.dirWatched[x.hierarchy]) return false;
    }
    const top = nodes.get(TOP);
    if (!top || top.dirs[x.hierarchy] === null || top.fds[x.slot] === FD_ABSENT) return true;
    return keptHolds(top, x, x.slot);
  }
}

/** The rule holds on the slot's kept bytes (false when not read yet, absent or empty). */
function keptHolds(node: CgroupNode, x: Held, slot: number): boolean {
  const n = node.keptLength[slot];
  if (n <= 0) return false;
  const at = node.keptOffset[slot];
  return x.rule.holds(node.keptBytes, at, at + n);
}
