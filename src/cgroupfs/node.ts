// One cgroup as the tree keeps it: its directory in each hierarchy, its
// kept-open descriptors, and the bytes of the last read of each of its
// files (see src/cgroupfs/kept.ts).

const NO_BYTES = Buffer.alloc(0);

/** One cgroup, present in one or more hierarchies. */
export class CgroupNode {
  readonly id: string;
  /** Directory in each hierarchy (index as CgroupTree.hierarchies), null where absent. */
  readonly dirs: (string | null)[];
  /** Descriptor state per declared file slot (see FileReader). */
  readonly fds: Int32Array;
  /** Place of each kept-open descriptor in the reader's batch (-1: none). */
  readonly batchPositions: Int32Array;
  /** Inode of the cgroup's main directory: a different one means recreated. */
  inode = 0;
  /** Set when a read found the cgroup removed; the tree drops it. */
  gone = false;
  /** Free slot for the collection layer's per-cgroup memo. */
  memo: unknown = undefined;
  /**
   * The bytes of the last read of each file (served on later ticks for
   * settings, gate, execution, resting, written and held files), all in one buffer: each slot's at keptOffset, keptLength long
   * (KEPT_NONE, KEPT_ABSENT: see kept.ts, which alone writes them).
   */
  keptBytes: Buffer = NO_BYTES;
  keptUsed = 0;
  /** Bytes of keptBytes no slot uses any more (freed at the next compaction). */
  keptWaste = 0;
  readonly keptOffset: Int32Array;
  readonly keptLength: Int32Array;
  /** Changes whenever a slot's kept bytes do (a parse memoized on them: CgroupSource.setting). */
  readonly keptVersion: Uint16Array;
  /** Settings must be re-read at the next read (new cgroup, or the limiter changed one). */
  settingsStale = true;
  /**
   * Moves whenever a setting's kept bytes change or a file's change is marked
   * (markChanged): unmoved, every setting read since gives the same bytes
   * unless a re-read is due (src/collect/unchanged.ts skips their check).
   */
  settingEpoch = 0;
  /** Nothing in this cgroup ran since the last tick (its gate file is unchanged): see executionFile. */
  idle = false;
  /** The tree's tick in which beginTick read the gate file (slot gateSlot: then served from its kept bytes). */
  gateTick = -1;
  gateSlot = -1;
  /** Changes whenever the cgroup's directories do (a hierarchy's added or gone). */
  dirsVersion = 0;
  /** Consecutive ticks the cgroup was idle (its execution files' descriptors close after a few). */
  idleTicks = 0;
  /** Per hierarchy: inotify watches the cgroup's directory there (its settings are then re-read on writes: settings.ts). */
  readonly dirWatched: Uint8Array;
  /** Per hierarchy: the watch id of the cgroup's directory there (0: none), the TreeWatcher's own record. */
  readonly dirWd: Int32Array;
  /** Per file slot: inotify watches the file (its v2 cgroup.events, its written files). */
  readonly watched: Uint8Array;
  /** Per file slot: the watcher saw the file change (or may have missed it) since it was last read. */
  readonly changed: Uint8Array;
  /** The tree's tick in which cgroup.events last said "populated 0" (-1: not empty at its last read). */
  emptyTick = -1;
  /** The tree's tick in which beginTick found the cgroup empty since the last tick (resting files may be served). */
  quietTick = -1;
  /** The tree's tick of the last held-file plan, and its marks then (src/cgroupfs/held.ts). */
  heldTick = -1;
  heldBits = 0;
  /** Per file slot: the kept bytes of a resting file are at rest (see restingFile). */
  readonly atRest: Uint8Array;
  /**
   * Collectors' parses of settings (see CgroupSource.setting), flat: the file
   * slot, the version of the kept bytes it was parsed from, the value; then the next. A
   * cgroup parses a few settings: two arrays indexed by slot were ~2 MB of
   * heap at 1,000 cgroups, nearly all empty.
   */
  readonly parsedSettings: unknown[] = [];

  constructor(id: string, hierarchyCount: number, fileCount: number) {
    this.id = id;
    this.dirs = new Array<string | null>(hierarchyCount).fill(null);
    // The per-slot arrays are views of one buffer: buffers of their own
    // cost ~1 MB more at 1,000 cgroups (an ArrayBuffer and a backing store each).
    const h4 = hierarchyCount * 4;
    const perSlot = new ArrayBuffer(fileCount * 21 + h4 + hierarchyCount);
    this.fds = new Int32Array(perSlot, 0, fileCount).fill(-2);
    this.batchPositions = new Int32Array(perSlot, fileCount * 4, fileCount).fill(-1);
    this.keptOffset = new Int32Array(perSlot, fileCount * 8, fileCount);
    this.keptLength = new Int32Array(perSlot, fileCount * 12, fileCount).fill(-1);
    this.dirWd = new Int32Array(perSlot, fileCount * 16, hierarchyCount);
    this.keptVersion = new Uint16Array(perSlot, fileCount * 16 + h4, fileCount);
    this.atRest = new Uint8Array(perSlot, fileCount * 18 + h4, fileCount);
    this.watched = new Uint8Array(perSlot, fileCount * 19 + h4, fileCount);
    this.changed = new Uint8Array(perSlot, fileCount * 20 + h4, fileCount);
    this.dirWatched = new Uint8Array(perSlot, fileCount * 21 + h4, hierarchyCount);
  }

  /** Marks a file as changed (see changed): its next read reads it. */
  markChanged(slot: number): void {
    this.changed[slot] = 1;
    this.settingEpoch++;
  }
}
