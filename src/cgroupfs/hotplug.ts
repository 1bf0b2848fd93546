// CPU and memory hotplug as the cpuset controller sees it: the kernel
// rewrites cpusets (effective masks everywhere, v1 cpuset.cpus too) when a
// CPU or a memory node goes on or offline, without any write that inotify
// could report. The two masks are read every tick (two small sysfs reads);
// a change makes the tree re-read its hotplug-dependent settings.

import fs from 'node:fs';
import path from 'node:path';

export class HotplugProbe {
  private readonly files: string[];
  private last: string | null = null;

  constructor(root: string) {
    this.files = ['sys/devices/system/cpu/online', 'sys/devices/system/node/has_memory'].map((f) => path.join(root, f));
  }

  /** Whether the online CPUs or memory nodes changed since the last call (false on the first). */
  changed(): boolean {
    let now = '';
    for (const file of this.files) {
      try {
        now += fs.readFileSync(file, 'latin1') + '|';
      } catch {
        now += '?|'; // no such file (no NUMA node directory): nothing to compare
      }
    }
    const changed = this.last !== null && now !== this.last;
    this.last = now;
    return changed;
  }
}
