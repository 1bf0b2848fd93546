// Live add/remove of cgroups between full walks: an inotify watch on every
// cgroup directory of every walked hierarchy, drained at the start of each
// tick (so a cgroup created before a tick is in it). The collector's
// periodic rescan stays the safety net for a queue overflow or a race.
// Also a watch on some files of each cgroup: its v2 cgroup.events, which the
// kernel notifies when "populated" (or "frozen") changes, so the tree knows
// a cgroup stayed empty between two ticks and not only at them (see
// restingFile), and serves the file from its last bytes until a
// notification (tree.ts, readPopulation); and files that change only when
// written (see writtenFile).
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
import { cgroupIdOf, forEachChildDir } from './walk.js';

/** A watched file of a cgroup: the node and the file's slot. */
interface WatchedFile {
  node: CgroupNode;
  slot: number;
}

export class TreeWatcher {
  /**
   * The cgroup of each directory watch; which of its directories it is, is
   * in the node (dirWd[h] === wd). No object per watch and no map by
   * directory: at 1,000 cgroups they were ~1.5 MB of heap for 10,000 watches.
   */
  private readonly byWd = new Map<number, CgroupNode>();
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
    this.unwatchedDirs = 0;
    for (const node of this.tree.nodes.values()) {
      node.dirs.forEach((dir, h) => {
        if (dir === null) return;
        const wd = node.dirWd[h];
        if (wd === 0) this.watch(h, dir, node);
        else if (this.byWd.get(wd) !== node || node.dirWatched[h] === 0) {
          this.byWd.set(wd, node); // a directory found again after a read found it gone
          this.tree.setDirWatched(node, h, true);
        }
      });
      this.watchFiles(node);
    }
    for (const [wd, node] of this.byWd) {
      const h = node.dirWd.indexOf(wd);
      if (h < 0 || node.dirs[h] === null || this.tree.nodes.get(node.id) !== node) this.forget(wd, true);
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
    this.byWd.set(wd, node);
    node.dirWd[hierarchy] = wd;
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

  private forget(wd: number, unwatch: boolean): void {
    if (unwatch) this.inotify.unwatch(wd);
    const node = this.byWd.get(wd);
    this.byWd.delete(wd);
    // A directory recreated at the same path may already have its new watch: leave that one be.
    const h = node ? node.dirWd.indexOf(wd) : -1;
    if (h < 0) return;
    node!.dirWd[h] = 0;
    if (node!.dirs[h] !== null) this.tree.setDirWatched(node!, h, false);
  }

  /** The watched directory of a watch: the node's, or its path under the mount once a read found it gone. */
  private dirOf(node: CgroupNode, h: number): string {
    const dir = node.dirs[h];
    if (dir !== null) return dir;
    const mountPoint = this.tree.hierarchies[h].mountPoint;
    return node.id === '/' ? mountPoint : path.join(mountPoint, node.id);
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
        if (e.mask & IN_MODIFY) this.tree.fileModified(file.node, file.slot);
        if (e.mask & IN_IGNORED) {
          // The file is gone (its cgroup was removed): nothing more will be notified.
          this.files.delete(e.wd);
          this.tree.setWatched(file.node, file.slot, false);
        }
        return;
      }
      const node = this.byWd.get(e.wd);
      if (!node) return;
      if (e.mask & IN_IGNORED) {
        this.forget(e.wd, false); // the watched directory itself is gone
        return;
      }
      const h = node.dirWd.indexOf(e.wd);
      if (h < 0) return; // a watch of a directory the cgroup no longer has (its IN_IGNORED follows)
      if (!(e.mask & IN_ISDIR)) {
        // A write to one of the cgroup's files, or a file appearing or going (v2 controllers).
        if (e.mask & IN_MODIFY) this.tree.settingTriggers.written(this.tree.nodes.values(), node, h, e.name);
        else if (e.mask & (IN_CREATE | IN_DELETE)) this.tree.settingTriggers.fileChanged(node, h, e.name);
        return;
      }
      const dir = path.join(this.dirOf(node, h), e.name);
      if (e.mask & (IN_CREATE | IN_MOVED_TO)) this.added(h, dir);
      else if (e.mask & (IN_DELETE | IN_MOVED_FROM)) {
        const child = this.tree.nodes.get(cgroupIdOf(this.tree.hierarchies[h].mountPoint, dir));
        const wd = child ? child.dirWd[h] : 0;
        this.tree.removeDir(h, dir);
        if (wd !== 0) this.forget(wd, false);
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
    for (const node of this.byWd.values()) node.dirWd.fill(0);
    this.byWd.clear();
    for (const f of this.files.values()) this.tree.setWatched(f.node, f.slot, false);
    this.files.clear();
    for (const node of this.tree.nodes.values()) {
      node.dirWatched.fill(0);
      node.dirWd.fill(0);
    }
  }
}
