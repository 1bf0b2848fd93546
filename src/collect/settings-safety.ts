// The nets under inotify-fresh settings (src/cgroupfs/settings.ts): a slow
// re-read of every cgroup's settings spread over a period, CPU or memory
// hotplug re-reading the cpusets, and the slower walk while every cgroup
// directory is watched.

import { HotplugProbe } from '../cgroupfs/hotplug.js';
import type { CgroupTree } from '../cgroupfs/tree.js';

/**
 * The walk's period while every directory is watched and settings come from
 * writes: mkdir and rmdir already come as events, so the walk only guards
 * against a kernel path that sends none. A queue overflow walks at once, a
 * missing watch brings back the 30 s period.
 */
export const WATCHED_RESCAN_MS = 300_000;

/**
 * Settings kept fresh by inotify are still all re-read this often, each
 * cgroup at its own point of the period (no tick reads them all): the net
 * for a change no write announces and settings.ts does not list (a removed
 * disk's throttle rule). 5 min: 1/30 of the 10 s timer's reads.
 */
export const SETTINGS_SAFETY_MS = 300_000;

/** A stable number in [0, 1) from a cgroup path. */
export function phaseOf(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296;
}

export class SettingsSafety {
  private readonly hotplug: HotplugProbe;
  /** When the last pass ran: a cgroup is due when its own period boundary fell since then. */
  private lastPassMs: number | null = null;

  constructor(
    root: string,
    private readonly tree: CgroupTree,
    private readonly periodMs = SETTINGS_SAFETY_MS,
  ) {
    this.hotplug = new HotplugProbe(root);
  }

  /** Before a tick: marks for a re-read the cgroups whose turn came, and the cpusets after hotplug. */
  pass(nowMs: number): void {
    if (this.hotplug.changed()) this.tree.settingTriggers.hotplug(this.tree.nodes.values());
    const last = this.lastPassMs;
    this.lastPassMs = nowMs;
    if (last === null) return; // every cgroup's first tick reads its settings anyway
    for (const node of this.tree.nodes.values()) {
      // Each cgroup's period is shifted by its own phase, so no tick re-reads them all.
      const phase = phaseOf(node.id);
      if (Math.floor(nowMs / this.periodMs + phase) !== Math.floor(last / this.periodMs + phase))
        node.settingsStale = true;
    }
  }
}
