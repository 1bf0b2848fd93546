// Which settings a write to a cgroup's file changes (settings.ts's table,
// indexed per hierarchy by the written file's name), and the marks the
// watcher's events leave on the cgroups (CgroupNode.changed) so the tree
// re-reads just those settings at the next tick.

import type { CgroupNode } from './node.js';
import { settingFreshness, settingKey, type SettingScope } from './settings.js';

interface SettingTrigger {
  slot: number;
  scope: SettingScope;
}

export class SettingTriggers {
  /** Per file slot: a setting settings.ts says how to keep fresh (else: on the timer). */
  readonly byEvent: Uint8Array;
  /** Per hierarchy: the settings a write of a file (by name) changes. */
  private readonly triggers: Map<string, SettingTrigger[]>[];
  /** Per hierarchy: the setting slot of a file name (a file appearing or going). */
  private readonly slots: Map<string, number>[];
  /** The settings CPU or memory hotplug changes. */
  private readonly hotplugSlots: number[] = [];

  constructor(hierarchyCount: number, fileCount: number) {
    this.byEvent = new Uint8Array(fileCount);
    this.triggers = Array.from({ length: hierarchyCount }, () => new Map());
    this.slots = Array.from({ length: hierarchyCount }, () => new Map());
  }

  /** Adds a declared setting file of hierarchy h. */
  add(name: string, slot: number, h: number): void {
    this.slots[h].set(name, slot);
    const freshness = settingFreshness(name);
    if (!freshness) return;
    this.byEvent[slot] = 1;
    if (freshness.hotplug) this.hotplugSlots.push(slot);
    const own = settingKey(name);
    for (const by of freshness.by) {
      const trigger = by === own ? name : by; // its own name exactly: "hugetlb.2MB.max", not every page size's
      const list = this.triggers[h].get(trigger) ?? [];
      list.push({ slot, scope: freshness.scope });
      this.triggers[h].set(trigger, list);
    }
  }

  /** Adds a held file of hierarchy h (files.ts, heldFile): a write of `by` in scope marks it. */
  addHeld(name: string, slot: number, h: number, by: string, scope: SettingScope): void {
    this.slots[h].set(name, slot); // and a watch placed late marks it too (hierarchy)
    const list = this.triggers[h].get(by) ?? [];
    list.push({ slot, scope });
    this.triggers[h].set(by, list);
  }

  /**
   * A write to a file of a cgroup's directory: marks the settings it can
   * change (settings.ts's `by` and scope). Other files' writes
   * (cgroup.procs) and kernfs notifications (cgroup.events, memory.events)
   * find no trigger and cost a map lookup.
   */
  written(nodes: Iterable<CgroupNode>, node: CgroupNode, h: number, name: string): void {
    const triggers = this.triggers[h].get(name);
    if (!triggers) return;
    for (const { slot, scope } of triggers) {
      if (scope === 'cgroup') node.markChanged(slot);
      else markBelow(nodes, scope === 'hierarchy' ? '/' : node.id, slot);
    }
  }

  /** A file appeared in or left a cgroup's directory (v2: a controller enabled or disabled above it). */
  fileChanged(node: CgroupNode, h: number, name: string): void {
    const slot = this.slots[h].get(name);
    if (slot !== undefined) node.markChanged(slot);
  }

  /** Marks every setting of a cgroup in one hierarchy (its directory was not watched until now). */
  hierarchy(node: CgroupNode, h: number): void {
    for (const slot of this.slots[h].values()) node.markChanged(slot);
  }

  /** CPUs or memory nodes went on or offline: every cgroup's cpuset settings are re-read. */
  hotplug(nodes: Iterable<CgroupNode>): void {
    for (const node of nodes) for (const slot of this.hotplugSlots) node.markChanged(slot);
  }
}

/** Marks a setting of a cgroup and of every cgroup below it. */
function markBelow(nodes: Iterable<CgroupNode>, id: string, slot: number): void {
  const prefix = id === '/' ? '/' : id + '/';
  for (const node of nodes) if (node.id === id || node.id.startsWith(prefix)) node.markChanged(slot);
}
