// The set of cgroups: the union of the directories of every hierarchy, keyed
// by the cgroup path relative to the mount ("/", "/system.slice", ...).
// Built by a full walk, kept current from inotify events between walks.

import path from 'node:path';
import type { CgroupMounts, Hierarchy } from './mounts.js';
import { BATCH_MAX_FILE } from './batch.js';
import { FileReader, READ_ABSENT, READ_GONE } from './reader.js';
import { FILE_KIND_CODES as KIND, registeredFiles, type CgroupFileSpec, UNIFIED } from './files.js';
import { SettingTriggers } from './setting-triggers.js';
import { drop, keep, keepAbsent, KEPT_ABSENT, KEPT_NONE, keptEquals, keptToken, MUST_READ } from './kept.js';
export { MUST_READ } from './kept.js';
import { HeldFiles } from './held.js';
import { eventsFresh, markEventsChangedBelow, restingServedKept, saysEmpty } from './population.js';

export { CgroupNode } from './node.js';
import { CgroupNode } from './node.js';
import { cgroupDirsById, cgroupIdOf, inodeOf, isWalkedHierarchy } from './walk.js';
export { cgroupIdOf, isWalkedHierarchy, walkDirs } from './walk.js';

/** Ticks a cgroup stays idle before its execution files' descriptors are closed (see beginTick). */
const IDLE_TICKS_BEFORE_CLOSE = 3;

export class CgroupTree {
  /**
   * When set, the setting files on the timer are re-read this tick (the
   * collector sets it every few seconds): all of them, or with
   * settingsByEvent only those not kept fresh by inotify.
   */
  refreshSettings = true;
  /**
   * Settings in settings.ts's table are re-read only when a write that can
   * change them was seen (settingWritten), where the cgroup's directory is
   * watched (the collector sets it when its watcher routes the writes).
   */
  settingsByEvent = false;
  /** What a write to a cgroup's file makes the tree re-read (the watcher calls it). */
  readonly settingTriggers: SettingTriggers;
  private readonly held: HeldFiles;
  /**
   * Serve files that cannot have changed from their last bytes: execution
   * files of cgroups that did not run, resting files of cgroups that stayed
   * empty, written files nobody wrote (false: read every file; the
   * benchmark's reference and the tests' full read).
   */
  gateIdle = true;
  /** Per file slot: its kind's code (KIND). */
  private readonly kindCode: Uint8Array;
  /** The gate file slots (CPU usage), in the order tried. */
  private readonly gateSlots: number[] = [];
  private readonly executionSlots: number[] = [];
  private readonly restingSlots: number[] = [];
  private readonly writtenSlots: number[] = [];
  /** The cgroup.events slot (v2), -1 without a v2 tree. */
  private populationSlot = -1;
  /** The v2 written files (cgroup.freeze): a write to one changes cgroup.events below it. */
  private readonly freezeSlots: number[] = [];
  /** The files the watcher watches one by one (population and written files). */
  private readonly watchSlots: number[] = [];
  /** beginTick's gate call: the cgroups, their gate's batch position and slot (the first count entries). */
  private readonly gated: (CgroupNode | null)[] = [];
  private readonly positions: number[] = [];
  private readonly slots: number[] = [];
  /** Counts beginTick calls: a node's gateTick equal to it means its gate was read this tick. */
  private tickCount = 0;
  /**
   * Which reader first read each file slot (-1: none yet), as set in
   * `reading` by the caller: the collection learns which collector owns
   * which files, to leave a skipped collector's files out of the batch.
   */
  readonly slotOwner: Int16Array;
  reading = -1;
  /** The last read was served from kept bytes, not read now (a gate, execution, resting, written or held file). */
  servedKept = false;
  readonly mounts: CgroupMounts;
  readonly hierarchies: Hierarchy[];
  readonly reader: FileReader;
  readonly nodes = new Map<string, CgroupNode>();
  /** Hierarchy index per declared file slot, -1 where that hierarchy is not mounted. */
  private readonly fileHierarchy: Int16Array;
  private readonly files: readonly CgroupFileSpec[];
  /** Hierarchy index whose directory inode identifies a cgroup. */
  private readonly identityOrder: number[];
  /**
   * Files to open afresh on every read: a v1 cgroup.procs / tasks descriptor
   * caches its pid list, so a positional re-read returns stale pids.
   */
  private readonly reopen: Uint8Array;

  constructor(mounts: CgroupMounts, reader: FileReader) {
    this.mounts = mounts;
    this.hierarchies = mounts.hierarchies.filter(isWalkedHierarchy);
    this.reader = reader;
    this.files = registeredFiles();
    this.fileHierarchy = new Int16Array(this.files.length);
    this.reopen = new Uint8Array(this.files.length);
    this.slotOwner = new Int16Array(this.files.length).fill(-1);
    this.kindCode = Uint8Array.from(this.files, (f) => KIND[f.kind]);
    this.settingTriggers = new SettingTriggers(this.hierarchies.length, this.files.length);
    this.held = new HeldFiles(this.files.length);
    this.files.forEach((f, slot) => {
      const h = this.hierarchyIndex(f.hierarchy);
      this.fileHierarchy[slot] = h;
      const pidList = f.name === 'cgroup.procs' || f.name === 'tasks';
      this.reopen[slot] = h >= 0 && pidList && this.hierarchies[h].kind === 'v1' ? 1 : 0;
      if (f.kind === 'execution' && h >= 0) this.executionSlots.push(slot);
      if (f.kind === 'gate' && h >= 0) this.gateSlots.push(slot);
      if (f.kind === 'resting' && h >= 0) this.restingSlots.push(slot);
      if (f.kind === 'written' && h >= 0) this.writtenSlots.push(slot);
      if (f.kind === 'population' && h >= 0) this.populationSlot = slot;
      if (f.kind === 'written' && h >= 0 && this.hierarchies[h].kind === 'v2') this.freezeSlots.push(slot);
      if ((f.kind === 'written' || f.kind === 'population') && h >= 0) this.watchSlots.push(slot);
      if (f.kind === 'setting' && h >= 0) this.settingTriggers.add(f.name, slot, h);
      if (f.kind === 'held' && h >= 0) this.held.add(f, h, this.settingTriggers);
    });
    const preference = ['memory', 'cpu', 'cpuacct', 'pids', UNIFIED, 'name=systemd'];
    this.identityOrder = preference.map((k) => this.hierarchyIndex(k)).filter((i) => i >= 0);
    this.hierarchies.forEach((_, i) => this.identityOrder.includes(i) || this.identityOrder.push(i));
  }

  /** hierarchyIndex's answers (the hierarchies are fixed): collectors ask several times per cgroup and tick. */
  private readonly indexByKey = new Map<string, number>();

  /** Index of the hierarchy holding a controller ("memory"), "unified" or "name=systemd"; -1 if none. */
  hierarchyIndex(key: string): number {
    let h = this.indexByKey.get(key);
    if (h === undefined) this.indexByKey.set(key, (h = this.findHierarchy(key)));
    return h;
  }

  private findHierarchy(key: string): number {
    if (key === UNIFIED) return this.hierarchies.findIndex((h) => h.kind === 'v2');
    if (key.startsWith('name=')) return this.hierarchies.findIndex((h) => h.name === key.slice(5));
    const v1 = this.hierarchies.findIndex((h) => h.kind === 'v1' && h.controllers.includes(key));
    if (v1 >= 0) return v1;
    // On v2 a controller's files live in the unified hierarchy when it is enabled there.
    return this.hierarchies.findIndex((h) => h.kind === 'v2' && h.controllers.includes(key));
  }

  /** Whether a controller is served by cgroup v2 here (its files are v2 files). */
  isV2Controller(controller: string): boolean {
    const i = this.hierarchyIndex(controller);
    return i >= 0 && this.hierarchies[i].kind === 'v2';
  }

  /** Whether the file's hierarchy has this cgroup. */
  has(node: CgroupNode, file: CgroupFileSpec): boolean {
    const h = this.fileHierarchy[file.slot];
    return h >= 0 && node.dirs[h] !== null;
  }

  /**
   * Reads a declared file of a cgroup into reader.buf. Returns its length,
   * READ_ABSENT when the cgroup has no such file, or READ_GONE when the
   * cgroup has been removed (the node is then marked gone).
   */
  read(node: CgroupNode, file: CgroupFileSpec): number {
    this.servedKept = false;
    if (this.slotOwner[file.slot] < 0) this.slotOwner[file.slot] = this.reading;
    const h = this.fileHierarchy[file.slot];
    if (h < 0) return READ_ABSENT;
    const dir = node.dirs[h];
    if (dir === null) return READ_ABSENT;
    // Paths are joined where a file is opened, not kept: one per file and cgroup was ~3 MB of heap at 1,000 cgroups.
    if (file.kind === 'setting') return this.readSetting(node, file.slot, h, dir);
    if (node.gateTick === this.tickCount && file.slot === node.gateSlot) {
      // Read once per tick, by beginTick's gate call: not a second time in the batch.
      return this.serveKept(node, file.slot);
    }
    if (this.kindCode[file.slot] === KIND.execution) return this.readExecution(node, file.slot, h, dir);
    if (file.kind === 'resting') return this.readResting(node, file, h, dir);
    if (file.kind === 'written') return this.readWritten(node, file.slot, h, dir);
    if (file.kind === 'held') return this.readHeld(node, file.slot, h, dir);
    if (file.kind === 'population') return this.readPopulation(node, file.slot, h, dir);
    return this.readAndKeep(node, file.slot, h, dir);
  }

  /** cgroup.events: its last bytes while eventsFresh (population.ts), else read; either way notes if it says empty (emptyTick). */
  private readPopulation(node: CgroupNode, slot: number, h: number, dir: string): number {
    let n: number;
    if (this.gateIdle && eventsFresh(node, slot)) n = this.serveKept(node, slot);
    else if ((n = this.readSinceChange(node, slot, h, dir)) === READ_GONE) return n;
    node.emptyTick = n >= 0 && saysEmpty(this.reader.data, this.reader.start, n) ? this.tickCount : -1;
    return n;
  }

  /** A written file: its last bytes while watched and no write was seen since they were read; else read. */
  private readWritten(node: CgroupNode, slot: number, h: number, dir: string): number {
    const cached = node.keptLength[slot] !== KEPT_NONE;
    if (this.gateIdle && node.watched[slot] && !node.changed[slot] && cached) return this.serveKept(node, slot);
    return this.readSinceChange(node, slot, h, dir);
  }

  /** A held file: its kept bytes where this tick's plan says it holds (held.ts); else read. */
  private readHeld(node: CgroupNode, slot: number, h: number, dir: string): number {
    if (node.keptLength[slot] !== KEPT_NONE && this.held.serves(node, slot, this.tickCount))
      return this.serveKept(node, slot);
    return this.readSinceChange(node, slot, h, dir);
  }

  /** Reads a watched file; a write or notification after this read is seen at the next tick. */
  private readSinceChange(node: CgroupNode, slot: number, h: number, dir: string): number {
    node.changed[slot] = 0;
    return this.readAndKeep(node, slot, h, dir);
  }

  /** The files of a cgroup the watcher watches one by one, with their paths. */
  watchedFiles(node: CgroupNode): { slot: number; path: string }[] {
    const out: { slot: number; path: string }[] = [];
    for (const slot of this.watchSlots) {
      const dir = node.dirs[this.fileHierarchy[slot]];
      if (dir !== null) out.push({ slot, path: path.join(dir, this.files[slot].name) });
    }
    return out;
  }

  /** The watcher placed (true) or lost (false) its watch on a file of the cgroup. */
  setWatched(node: CgroupNode, slot: number, watched: boolean): void {
    node.watched[slot] = watched ? 1 : 0;
    node.markChanged(slot); // nothing known about the time it was not watched
  }

  /** The watcher saw a file of the cgroup change (or may have missed it: a queue overflow). */
  markChanged(node: CgroupNode, slot: number): void {
    node.markChanged(slot);
  }

  /** The watcher saw a file of the cgroup modified (IN_MODIFY); a write to cgroup.freeze changes cgroup.events below. */
  fileModified(node: CgroupNode, slot: number): void {
    node.markChanged(slot);
    if (this.populationSlot >= 0 && this.freezeSlots.includes(slot))
      markEventsChangedBelow(this.nodes.values(), node, this.populationSlot);
  }

  /** Whether a change of the cgroup's "populated" between ticks is seen (its v2 cgroup.events watched). */
  populationWatched(node: CgroupNode): boolean {
    return this.populationSlot >= 0 && node.watched[this.populationSlot] === 1;
  }

  /**
   * A resting file: its last bytes while the cgroup has been empty since
   * they were read (beginTick's judgement, confirmed by this tick's
   * cgroup.events, read before it) and they were at rest; else read.
   */
  private readResting(node: CgroupNode, file: CgroupFileSpec, h: number, dir: string): number {
    const slot = file.slot;
    if (restingServedKept(node, slot, this.tickCount)) return this.serveKept(node, slot);
    const version = node.keptVersion[slot];
    const n = this.readAndKeep(node, slot, h, dir);
    if (node.keptVersion[slot] !== version) {
      // New bytes were kept: judge them once.
      const { data, start } = this.reader;
      node.atRest[slot] = file.atRest?.(data, start, start + n) ? 1 : 0;
    }
    return n;
  }

  /**
   * Reads a file and keeps its bytes, copying them only when they changed (an
   * unchanged file allocates nothing). Every file read is kept: its version
   * (keptVersion) then says whether a read gave the same bytes as the one
   * before (the collection carries unchanged values: src/collect/unchanged.ts),
   * and execution, resting and written files are served from them.
   */
  private readAndKeep(node: CgroupNode, slot: number, h: number, dir: string): number {
    const name = this.files[slot].name;
    const n = this.reopen[slot]
      ? this.reader.readOnce(dir + '/' + name, true)
      : this.reader.read(node.fds, node.batchPositions, slot, dir, name);
    if (n === READ_GONE) {
      this.markDirGone(node, h);
      return n;
    }
    if (n < 0) return n;
    const { data, start } = this.reader;
    const same = this.reader.servedSameAsKept(node.keptVersion[slot]) || keptEquals(node, slot, data, start, n);
    if (!same) keep(node, slot, data, start, n);
    this.reader.keptServed(node.keptVersion[slot]);
    return n;
  }

  /** An execution file: its last bytes while the cgroup is idle, else read (and its bytes kept when they changed). */
  private readExecution(node: CgroupNode, slot: number, h: number, dir: string): number {
    if (node.idle && node.keptLength[slot] !== KEPT_NONE) return this.serveKept(node, slot);
    return this.readAndKeep(node, slot, h, dir);
  }

  /** Points the reader at a slot's kept bytes. */
  private serveKept(node: CgroupNode, slot: number): number {
    this.servedKept = true;
    this.reader.data = node.keptBytes;
    this.reader.start = node.keptOffset[slot];
    return (this.reader.length = node.keptLength[slot]);
  }

  /**
   * Start of a tick: reads every cgroup's gate file (its CPU usage) first,
   * marks the cgroups whose usage did not move as idle, and reads every
   * other kept-open file in one batch, less the gate files (served from the
   * bytes just read) and the execution files of idle cgroups (served from
   * their last bytes). A cgroup idle for IDLE_TICKS_BEFORE_CLOSE ticks gives
   * its execution files' descriptors back: kept open, they would crowd
   * other cgroups' every-tick files out of the descriptor budget (1,000
   * cgroups x 20 files is more than it holds); they are opened again on the
   * tick the cgroup runs. Without the native batch, or with gateIdle off,
   * every file is read.
   */
  beginTick(): void {
    this.tickCount++;
    if (this.gateIdle) this.planKept();
    if (this.gateIdle && this.settingsByEvent)
      this.held.plan(this.nodes, this.tickCount, this.settingTriggers.byEvent, this.reader);
    const batch = this.reader.batch;
    if (!this.gateIdle || !batch || this.gateSlots.length === 0) {
      for (const node of this.nodes.values()) node.idle = false;
      this.reader.beginTick();
      return;
    }
    // Kept from tick to tick (grown, never shrunk): a tick allocates no lists.
    const { gated, positions, slots } = this;
    let count = 0;
    for (const node of this.nodes.values()) {
      node.idle = false;
      for (const slot of this.gateSlots) {
        const pos = node.batchPositions[slot];
        if (pos < 0) continue;
        gated[count] = node;
        positions[count] = pos;
        slots[count] = slot;
        count++;
        break;
      }
    }
    for (let i = count; i < gated.length && gated[i] !== null; i++) gated[i] = null; // no node kept alive
    batch.readSome(positions, count);
    const buf = batch.someBuffer;
    for (let i = 0; i < count; i++) {
      const node = gated[i]!;
      if (this.reader.trace) this.reader.trace(this.filePath(node, slots[i]), 'pread');
      const n = batch.someLength(i);
      if (n < 0 || n >= BATCH_MAX_FILE) continue; // read in the batch, or alone
      const start = batch.someOffset(i);
      const slot = slots[i];
      node.gateTick = this.tickCount;
      node.gateSlot = slot;
      this.reader.skipInBatch(positions[i]);
      if (keptEquals(node, slot, buf, start, n)) {
        node.idle = true;
        const close = ++node.idleTicks >= IDLE_TICKS_BEFORE_CLOSE;
        for (const slot of this.executionSlots) {
          if (node.keptLength[slot] === KEPT_NONE) continue;
          if (close) {
            if (node.fds[slot] >= 0) this.reader.close(node.fds, slot, node.batchPositions);
          } else this.reader.skipInBatch(node.batchPositions[slot]);
        }
      } else {
        node.idleTicks = 0;
        keep(node, slot, buf, start, n);
      }
    }
    this.reader.beginTick();
  }

  /**
   * Leaves out of the batch what this tick serves from kept bytes without
   * the gate: the written files no write was seen to, cgroup.events where
   * no notification of it was seen since it was read, and the resting files
   * at rest of the cgroups that stayed empty since the last tick
   * (cgroup.events said "populated 0" then, and inotify saw no change of it
   * since: a task that came and went in between changed it twice).
   */
  private planKept(): void {
    const pop = this.populationSlot;
    const previous = this.tickCount - 1;
    for (const node of this.nodes.values()) {
      for (const slot of this.writtenSlots) {
        if (node.watched[slot] && !node.changed[slot] && node.keptLength[slot] !== KEPT_NONE) {
          this.reader.skipInBatch(node.batchPositions[slot]);
        }
      }
      if (pop < 0 || !eventsFresh(node, pop)) continue;
      this.reader.skipInBatch(node.batchPositions[pop]);
      if (node.emptyTick !== previous) continue;
      node.quietTick = this.tickCount;
      for (const slot of this.restingSlots) {
        if (node.keptLength[slot] !== KEPT_NONE && node.atRest[slot])
          this.reader.skipInBatch(node.batchPositions[slot]);
      }
    }
  }

  /**
   * A setting file: from memory unless a refresh is due. Settings never hold
   * a descriptor, so the budget goes to the files read every tick.
   */
  private readSetting(node: CgroupNode, slot: number, h: number, dir: string): number {
    const cached = node.keptLength[slot];
    if (this.settingFresh(node, slot, h)) {
      if (cached === KEPT_ABSENT) return READ_ABSENT;
      this.serveKept(node, slot);
      this.servedKept = false;
      return cached;
    }
    node.changed[slot] = 0; // a write after this read is seen at the next tick
    const n = this.reader.readOnce(dir + '/' + this.files[slot].name, false);
    if (n === READ_GONE) {
      this.markDirGone(node, h);
      return n;
    }
    if (n < 0) {
      if (cached !== KEPT_ABSENT) node.settingEpoch++;
      keepAbsent(node, slot);
      return n;
    }
    // Kept again only when the value changed: an unchanged setting keeps its version (and its parse).
    if (!keptEquals(node, slot, this.reader.buf, 0, n)) {
      keep(node, slot, this.reader.buf, 0, n);
      node.settingEpoch++;
    }
    this.serveKept(node, slot);
    this.servedKept = false;
    return n;
  }

  /** A read of the setting now would serve its kept bytes (no re-read due). */
  private settingFresh(node: CgroupNode, slot: number, h: number): boolean {
    const byEvent = this.settingsByEvent && this.settingTriggers.byEvent[slot] === 1 && node.dirWatched[h] === 1;
    return (
      node.keptLength[slot] !== KEPT_NONE &&
      !node.settingsStale &&
      !node.changed[slot] &&
      (byEvent || !this.refreshSettings)
    );
  }

  /**
   * The token (src/collect/unchanged.ts) read() would give now where it would serve the slot's kept bytes (each
   * kind as read() decides), or a file whose read() only reads and keeps it gave them again in the batch; else
   * MUST_READ. At 1,000 idle cgroups nearly all of the check's ~18,000 reads a tick, without read() and the reader.
   */
  keptToken(node: CgroupNode, slot: number): number {
    const h = this.fileHierarchy[slot];
    if (h < 0 || node.dirs[h] === null) return READ_ABSENT;
    const kind = this.kindCode[slot];
    if (kind === KIND.setting) {
      if (!this.settingFresh(node, slot, h)) return MUST_READ;
      return node.keptLength[slot] === KEPT_ABSENT ? READ_ABSENT : keptToken(node, slot);
    }
    if (node.gateTick === this.tickCount && slot === node.gateSlot) return keptToken(node, slot);
    if (node.keptLength[slot] === KEPT_NONE) return MUST_READ; // every other kind serves only kept bytes
    const served =
      (kind === KIND.execution && node.idle) ||
      (kind === KIND.resting && restingServedKept(node, slot, this.tickCount)) ||
      (kind === KIND.written && this.gateIdle && node.watched[slot] === 1 && node.changed[slot] === 0) ||
      (kind === KIND.held && this.held.serves(node, slot, this.tickCount)) ||
      ((kind === KIND.counter || kind === KIND.execution || kind === KIND.resting) &&
        this.reader.unchangedInBatch(node.fds, node.batchPositions, slot, node.keptVersion[slot]));
    return served ? keptToken(node, slot) : MUST_READ;
  }

  /** The watcher placed (true) or lost (false) the watch on a cgroup's directory in a hierarchy. */
  setDirWatched(node: CgroupNode, h: number, watched: boolean): void {
    // Writes before the watch were not seen: read that hierarchy's settings again once.
    if (watched && node.dirWatched[h] === 0) this.settingTriggers.hierarchy(node, h);
    node.dirWatched[h] = watched ? 1 : 0;
  }

  /** Whether every setting of the cgroup is kept fresh by inotify (each of its directories watched). */
  settingsWatched(node: CgroupNode): boolean {
    if (!this.settingsByEvent) return false;
    for (let h = 0; h < node.dirs.length; h++) if (node.dirs[h] !== null && node.dirWatched[h] === 0) return false;
    return true;
  }

  /** Makes the next tick re-read the settings of a cgroup (after the limiter changed one). */
  invalidateSettings(id: string): void {
    const node = this.nodes.get(id);
    if (node) node.settingsStale = true;
  }

  /** Full path of a cgroup's file (for a trace). */
  private filePath(node: CgroupNode, slot: number): string {
    const dir = node.dirs[this.fileHierarchy[slot]];
    return dir === null ? '' : dir + '/' + this.files[slot].name;
  }

  /** Directory of the cgroup in the hierarchy holding key, or null. */
  dirOf(node: CgroupNode, key: string): string | null {
    const h = this.hierarchyIndex(key);
    return h >= 0 ? node.dirs[h] : null;
  }

  private markDirGone(node: CgroupNode, h: number): void {
    node.dirsVersion++;
    this.closeHierarchyFiles(node, h);
    node.dirs[h] = null;
    node.dirWatched[h] = 0;
    if (node.dirs.every((d) => d === null)) node.gone = true;
  }

  private closeHierarchyFiles(node: CgroupNode, h: number): void {
    for (let slot = 0; slot < this.files.length; slot++) {
      if (this.fileHierarchy[slot] === h) {
        this.reader.close(node.fds, slot, node.batchPositions);
        drop(node, slot);
      }
    }
  }

  /** Adds a directory found by a walk or an inotify event. */
  addDir(hierarchyIndex: number, dir: string): CgroupNode {
    const id = cgroupIdOf(this.hierarchies[hierarchyIndex].mountPoint, dir);
    let node = this.nodes.get(id);
    if (!node) {
      node = new CgroupNode(id, this.hierarchies.length, this.files.length);
      this.nodes.set(id, node);
    }
    if (node.dirs[hierarchyIndex] === dir) return node;
    node.dirsVersion++;
    this.closeHierarchyFiles(node, hierarchyIndex);
    node.dirs[hierarchyIndex] = dir;
    node.dirWatched[hierarchyIndex] = 0; // until the watcher watches this directory
    if (node.inode === 0 || this.identityHierarchy(node) === hierarchyIndex) node.inode = inodeOf(dir);
    return node;
  }

  /** Removes a directory (inotify delete); drops the cgroup when no hierarchy has it. */
  removeDir(hierarchyIndex: number, dir: string): void {
    const id = cgroupIdOf(this.hierarchies[hierarchyIndex].mountPoint, dir);
    const node = this.nodes.get(id);
    if (!node) return;
    this.markDirGone(node, hierarchyIndex);
    if (node.gone) this.drop(node);
  }

  drop(node: CgroupNode): void {
    this.reader.closeAll(node.fds, node.batchPositions);
    if (this.nodes.get(node.id) === node) this.nodes.delete(node.id);
  }

  /** Removes the nodes that reads found gone. */
  sweep(): void {
    for (const node of this.nodes.values()) if (node.gone) this.drop(node);
  }

  private identityHierarchy(node: CgroupNode): number {
    for (const h of this.identityOrder) if (node.dirs[h] !== null) return h;
    return -1;
  }

  /**
   * Full walk of every hierarchy: adds new cgroups, drops vanished ones and
   * replaces cgroups recreated under the same path (new inode), so a rate is
   * never computed across two different cgroups. rereadSettings: every
   * cgroup's settings are read again (false where inotify keeps them fresh).
   */
  rescan(rereadSettings = true): void {
    const seen = cgroupDirsById(this.hierarchies);
    for (const node of this.nodes.values()) {
      const dirs = seen.get(node.id);
      if (!dirs) {
        this.drop(node);
        continue;
      }
      const h = this.identityHierarchy(node);
      const identityDir = h >= 0 ? dirs[h] : null;
      if (identityDir !== null && inodeOf(identityDir) !== node.inode) {
        this.drop(node); // recreated: start over as a new cgroup
        continue;
      }
      for (let i = 0; i < dirs.length; i++) {
        if (dirs[i] === null && node.dirs[i] !== null) this.markDirGone(node, i);
      }
      FileReader.reprobe(node.fds);
      if (rereadSettings) node.settingsStale = true;
    }
    for (const [, dirs] of seen) {
      dirs.forEach((dir, i) => {
        if (dir !== null) this.addDir(i, dir);
      });
    }
  }

  close(): void {
    for (const node of this.nodes.values()) this.reader.closeAll(node.fds, node.batchPositions);
    this.nodes.clear();
  }
}

export { READ_ABSENT, READ_GONE };
