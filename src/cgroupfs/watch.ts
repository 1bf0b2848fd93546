// Live add/remove of cgroups between full walks: an inotify watch on every
// cgroup directory of every walked hierarchy, drained at the start of each
// tick (so a cgroup created before a tick is in it). The collector's
// periodic rescan stays the safety net for a queue overflow or a race.
// Also a watch on some files of each cgroup: its v2 cgroup.events, which the
// kernel notifies when "populated" (or "frozen") changes, so the tree knows
// a cgroup stayed empty between two ticks and not only at them (see
// restingFile); and files that change only when written (see writtenFile).

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

/** A watched file of a cgroup: the node and the file's slot. */
interface WatchedFile {
  node: CgroupNode;
  slot: number;
}

export class TreeWatcher {
  private readonly byWd = new Map<number, Watched>();
  private readonly byDir = new Map<string, number>();
  /** Watches of single files, by watch id. */
  private readonly files = new Map<number, WatchedFile>();

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
      this.watchFiles(node);
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

  /** Watches the cgroup's files the tree wants watched one by one, those not watched yet. */
  private watchFiles(node: CgroupNode): void {
    for (const { slot, path: file } of this.tree.watchedFiles(node)) {
      if (node.watched[slot]) continue;
      const wd = this.inotify.watchFile(file);
      if (wd < 0) continue; // no such file (the root cgroup's), gone, or no watches left: read every tick
      this.files.set(wd, { node, slot });
      this.tree.setWatched(node, slot, true);
    }
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
    this.watchFiles(node);
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
      const file = this.files.get(e.wd);
      if (file) {
        if (e.mask & IN_MODIFY) this.tree.markChanged(file.node, file.slot);
        if (e.mask & IN_IGNORED) {
          // The file is gone (its cgroup was removed): nothing more will be notified.
          this.files.delete(e.wd);
          this.tree.setWatched(file.node, file.slot, false);
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
    // Lost events may have been changes of watched files.
    if (overflow) for (const f of this.files.values()) this.tree.markChanged(f.node, f.slot);
    return overflow;
  }

  close(): void {
    this.inotify.close();
    this.byWd.clear();
    this.byDir.clear();
    for (const f of this.files.values()) this.tree.setWatched(f.node, f.slot, false);
    this.files.clear();
  }
}
