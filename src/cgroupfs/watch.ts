// Live add/remove of cgroups from inotify events (through chokidar) on every
// walked hierarchy; the collector's periodic rescan is the safety net for
// anything an event queue overflow or a race loses.

import chokidar, { type FSWatcher } from 'chokidar';
import type { CgroupTree } from './tree.js';

export class TreeWatcher {
  private readonly watchers: FSWatcher[] = [];
  /** Resolves when every hierarchy is watched. */
  readonly ready: Promise<void>;
  /**
   * Set once the watches are in place: a cgroup created between the first
   * walk and that moment had no watch to report it, so one more walk is due.
   */
  rescanDue = false;

  constructor(tree: CgroupTree) {
    const ready: Promise<void>[] = [];
    tree.hierarchies.forEach((h, index) => {
      const w = chokidar.watch(h.mountPoint, {
        // Only directories are cgroups; files would cost a watch and a stat each.
        ignored: (_p: string, stats?: { isFile(): boolean }) => stats?.isFile() ?? false,
        ignoreInitial: true,
        followSymlinks: false,
        persistent: false,
      });
      w.on('addDir', (dir: string) => tree.addDir(index, dir));
      w.on('unlinkDir', (dir: string) => tree.removeDir(index, dir));
      // A watch error (ENOSPC: inotify limits) leaves the periodic rescan in charge.
      w.on('error', () => undefined);
      ready.push(new Promise((resolve) => w.once('ready', () => resolve())));
      this.watchers.push(w);
    });
    this.ready = Promise.all(ready).then(() => {
      this.rescanDue = true;
    });
  }

  close(): void {
    for (const w of this.watchers) void w.close();
    this.watchers.length = 0;
  }
}
