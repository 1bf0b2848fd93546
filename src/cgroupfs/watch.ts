// Live add/remove of cgroups between full walks: an inotify watch on every
// cgroup directory of every walked hierarchy, drained at the start of each
// tick (so a cgroup created before a tick is in it). The collector's
// periodic rescan stays the safety net for a queue overflow or a race.
// Also a watch on each v2 cgroup.events: the kernel notifies it when
// "populated" (or "frozen") changes, so the tree knows a cgroup stayed empty
// between two ticks, not only at them (see restingFile).

import fs from 'node:fs';
import path from 'node:path';
import {
  IN_CREATE,
  IN_DELETE,
  IN_IGNORED,
  IN_ISDIR,
  IN_MOVED_FROM,
  IN_MOVED_TO,
  IN_MODIFY,
  IN_Q_OVERFLOW,
  Inotify,
} from './inotify.js';
import type { CgroupNode, CgroupTree } from './tree.js';

interface Watched {
  hierarchy: number;
  dir: string;
}

/** Name of the v2 file whose changes the kernel notifies when a cgroup becomes empty or not. */
const EVENTS_FILE = 'cgroup.events';

export class TreeWatcher {
  private readonly byWd = new Map<number, Watched>();
  private readonly byDir = new Map<string, number>();
  /** Watches of cgroup.events files, by watch id: the cgroup each belongs to. */
  private readonly eventsOf = new Map<number, CgroupNode>();

  private constructor(
    private readonly tree: CgroupTree,
    private readonly inotify: Inotify,
  ) {}

  /** A watcher for the tree, or null where inotify is not available. */
  static open(tree: CgroupTree): TreeWatcher | null {
    const inotify = Inotify.open();
    return inotify ? new TreeWatcher(tree, inotify) : null;
  }

  get watchCount(): number {
    return this.byWd.size;
  }

  /** Watches every directory the tree knows and forgets the ones it no longer has (after a rescan). */
  watchTree(): void {
    const live = new Set<string>();
    for (const node of this.tree.nodes.values()) {
      node.dirs.forEach((dir, h) => {
        if (dir === null) return;
        live.add(dir);
        if (!this.byDir.has(dir)) this.watch(h, dir);
      });
      if (!node.populationWatched) this.watchEvents(node);
    }
    for (const [dir, wd] of this.byDir) {
      if (!live.has(dir)) this.forget(wd, dir, true);
    }
  }

  private watch(hierarchy: number, dir: string): void {
    const wd = this.inotify.watchDir(dir);
    if (wd < 0) return; // vanished already, or out of watches (ENOSPC): rescans cover it
    this.byWd.set(wd, { hierarchy, dir });
    this.byDir.set(dir, wd);
  }

  /** Watches the cgroup's v2 cgroup.events (a cgroup without a v2 directory has none). */
  private watchEvents(node: CgroupNode): void {
    const dir = this.tree.dirOf(node, 'unified');
    if (dir === null) return;
    const wd = this.inotify.watchFile(path.join(dir, EVENTS_FILE));
    if (wd < 0) return; // no such file (the root cgroup), gone, or no watches left: the cgroup is read every tick
    this.eventsOf.set(wd, node);
    node.populationWatched = true;
  }

  private forget(wd: number, dir: string, unwatch: boolean): void {
    if (unwatch) this.inotify.unwatch(wd);
    this.byWd.delete(wd);
    this.byDir.delete(dir);
  }

  /** A new directory: add it and anything created inside it before its watch existed. */
  private added(hierarchy: number, dir: string): void {
    const node = this.tree.addDir(hierarchy, dir);
    this.watch(hierarchy, dir);
    if (this.tree.hierarchies[hierarchy].kind === 'v2') this.watchEvents(node);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // gone again: the delete event follows
    }
    for (const e of entries) if (e.isDirectory()) this.added(hierarchy, path.join(dir, e.name));
  }

  /**
   * Applies the queued events to the tree. Returns true when events were
   * lost (queue overflow) and a full rescan is due.
   */
  sync(): boolean {
    let overflow = false;
    this.inotify.drain((e) => {
      if (e.mask & IN_Q_OVERFLOW) {
        overflow = true;
        return;
      }
      const eventsNode = this.eventsOf.get(e.wd);
      if (eventsNode) {
        if (e.mask & IN_MODIFY) eventsNode.populationEvent = true;
        if (e.mask & IN_IGNORED) {
          // The file is gone (the cgroup was removed): nothing more will be notified.
          this.eventsOf.delete(e.wd);
          eventsNode.populationWatched = false;
        }
        return;
      }
      const parent = this.byWd.get(e.wd);
      if (!parent) return;
      if (e.mask & IN_IGNORED) {
        this.forget(e.wd, parent.dir, false); // the watched directory itself is gone
        return;
      }
      if (!(e.mask & IN_ISDIR)) return;
      const dir = path.join(parent.dir, e.name);
      if (e.mask & (IN_CREATE | IN_MOVED_TO)) this.added(parent.hierarchy, dir);
      else if (e.mask & (IN_DELETE | IN_MOVED_FROM)) {
        this.tree.removeDir(parent.hierarchy, dir);
        const wd = this.byDir.get(dir);
        if (wd !== undefined) this.forget(wd, dir, false);
      }
    });
    // Lost events may have been cgroup.events changes: no cgroup counts as having stayed empty.
    if (overflow) for (const node of this.eventsOf.values()) node.populationEvent = true;
    return overflow;
  }

  close(): void {
    this.inotify.close();
    this.byWd.clear();
    this.byDir.clear();
    for (const node of this.eventsOf.values()) node.populationWatched = false;
    this.eventsOf.clear();
  }
}
