// Live add/remove of cgroups between full walks: an inotify watch on every
// cgroup directory of every walked hierarchy, drained at the start of each
// tick (so a cgroup created before a tick is in it). The collector's
// periodic rescan stays the safety net for a queue overflow or a race.
// Also a watch on some files of each cgroup: its v2 cgroup.events, which the
// kernel notifies when "populated" (or "frozen") changes, so the tree knows
// a cgroup stayed empty between two ticks and not only at them (see
// restingFile); and files that change only when written (see writtenFile).
// The directory watches also report writes to the cgroup's files by name
// (IN_MODIFY), which keep its settings fresh without a timer (settings.ts).

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
import { forEachChildDir } from './walk.js';

interface Watched {
  hierarchy: number;
  dir: string;
  /** The cgroup the directory belongs to (its settings' marks). */
  node: CgroupNode;
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
  /** Directories of the tree a watch could not be placed on at the last watchTree (or since). */
  private unwatchedDirs = 0;

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

  /** Every directory of the tree has its watch (no ENOSPC): mkdir, rmdir and writes all come as events. */
  get complete(): boolean {
    return this.unwatchedDirs === 0;
  }

  /** Watches every directory the tree knows and forgets the ones it no longer has (after a rescan). */
  watchTree(): void {
    const live = new Set<string>();
    this.unwatchedDirs = 0;
    for (const node of this.tree.nodes.values()) {
      node.dirs.forEach((dir, h) => {
        if (dir === null) return;
        live.add(dir);
        const wd = this.byDir.get(dir);
        if (wd === undefined) this.watch(h, dir, node);
        else if (this.byWd.get(wd)?.node !== node || node.dirWatched[h] === 0) {
          this.byWd.set(wd, { hierarchy: h, dir, node }); // a cgroup recreated at the same path
          this.tree.setDirWatched(node, h, true);
        }
      });
      this.watchFiles(node);
    }
    for (const [dir, wd] of this.byDir) {
      if (!live.has(dir)) this.forget(wd, dir, true);
    }
  }

  private watch(hierarchy: number, dir: string, node: CgroupNode): void {
    const wd = this.inotify.watchDir(dir, this.tree.settingsByEvent);
    if (wd < 0) {
      // Out of watches (ENOSPC): rescans and the settings timer cover it. A directory
      // that vanished already is no gap: its delete event is queued.
      if (fs.existsSync(dir)) this.unwatchedDirs++;
      return;
    }
    this.byWd.set(wd, { hierarchy, dir, node });
    this.byDir.set(dir, wd);
    this.tree.setDirWatched(node, hierarchy, true);
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
    const watched = this.byWd.get(wd);
    this.byWd.delete(wd);
    // A directory recreated at the same path may already have its new watch: leave that one be.
    if (this.byDir.get(dir) !== wd) return;
    this.byDir.delete(dir);
    if (watched && watched.node.dirs[watched.hierarchy] === dir) {
      this.tree.setDirWatched(watched.node, watched.hierarchy, false);
    }
  }

  /** A new directory: add it and anything created inside it before its watch existed. */
  private added(hierarchy: number, dir: string): void {
    const node = this.tree.addDir(hierarchy, dir);
    this.watch(hierarchy, dir, node);
    this.watchFiles(node);
    forEachChildDir(dir, (child) => this.added(hierarchy, child)); // gone again: the delete event follows
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
      if (!(e.mask & IN_ISDIR)) {
        // A write to one of the cgroup's files, or a file appearing or going (v2 controllers).
        if (e.mask & IN_MODIFY)
          this.tree.settingTriggers.written(this.tree.nodes.values(), parent.node, parent.hierarchy, e.name);
        else if (e.mask & (IN_CREATE | IN_DELETE))
          this.tree.settingTriggers.fileChanged(parent.node, parent.hierarchy, e.name);
        return;
      }
      const dir = path.join(parent.dir, e.name);
      if (e.mask & (IN_CREATE | IN_MOVED_TO)) this.added(parent.hierarchy, dir);
      else if (e.mask & (IN_DELETE | IN_MOVED_FROM)) {
        this.tree.removeDir(parent.hierarchy, dir);
        const wd = this.byDir.get(dir);
        if (wd !== undefined) this.forget(wd, dir, false);
      }
    });
    // Lost events may have been changes of watched files, or writes to settings.
    if (overflow) {
      for (const f of this.files.values()) this.tree.markChanged(f.node, f.slot);
      for (const node of this.tree.nodes.values()) node.settingsStale = true;
    }
    return overflow;
  }

  close(): void {
    this.inotify.close();
    this.byWd.clear();
    this.byDir.clear();
    for (const f of this.files.values()) this.tree.setWatched(f.node, f.slot, false);
    this.files.clear();
    for (const node of this.tree.nodes.values()) node.dirWatched.fill(0);
  }
}
