// The collection core: turns the kernel's files into one Snapshot per tick.
// It owns the cgroup tree (walked, then kept current from inotify events with
// a periodic rescan as the safety net), runs every collector on every cgroup,
// and derives rates from the previous snapshot.

import path from 'node:path';
import { detectCgroupMounts, type CgroupMounts } from '../cgroupfs/mounts.js';
import { FileReader } from '../cgroupfs/reader.js';
import { CgroupSource } from '../cgroupfs/source.js';
import { CgroupTree, type CgroupNode } from '../cgroupfs/tree.js';
import { TreeWatcher } from '../cgroupfs/watch.js';
import { phaseOf, SettingsSafety, WATCHED_RESCAN_MS } from './settings-safety.js';
import { blankContainer } from './blank.js';
import { CARRIED, carriedTables, markCarried, NOTHING_STALE, settleFromPids } from './focus-carry.js';
import { UnchangedValues } from './unchanged.js';
import { newNodeMemo, type NodeMemo } from './node-memo.js';
import type { CollectContext } from '../../collectors/api.js';
import { collectCapabilities } from '../../collectors/capabilities.js';
import { collectHostDynamic, collectHostStatic, hostNetDevPath, type HostStatic } from '../../collectors/host.js';
import { hostPageSizes, hugetlbFilesFor } from '../../collectors/hugetlb.js';
import { blockDeviceNamer, type DeviceNamer } from '../../collectors/io.js';
import { collectNamespaces, hostNamespaces, type HostNamespaces } from '../../collectors/namespaces.js';
import { collectNetworks, readNetDev } from '../../collectors/network.js';
import { collectHostPressure } from '../../collectors/pressure.js';
import { bootTimeSeconds, USER_HZ, oldestProcess } from '../../collectors/processes.js';
import { CGROUP_COLLECTORS } from '../../collectors/registry.js';
import { classifyCgroupPath } from '../discovery/classify.js';
import { driftNote } from '../model/drift.js';
import { identityFromPath, withDescription } from '../discovery/listing.js';
import { RuntimeStateReader, type RuntimeStateOptions } from '../discovery/runtime-state.js';
import { applyRates, ioRates } from '../model/rates.js';
import type { CollectFocus, ContainerSnapshot, NetworkInterface, Snapshot } from '../model/types.js';

export interface CollectorOptions extends Partial<RuntimeStateOptions> {
  /** Filesystem root of the host to read ("/" or e.g. "/host"). */
  root?: string;
  /** Keep the tree current from inotify events (long-running faces). */
  watch?: boolean;
  /** Full rescan interval when watching; without watching every tick rescans. */
  rescanIntervalMs?: number;
  /** Descriptors the reader may keep open. */
  fdBudget?: number;
  /**
   * How often the settings not kept fresh by inotify are re-read (all of
   * them without watching; they are then also re-read at rescans).
   */
  settingsRefreshMs?: number;
  /**
   * With watch: re-read a setting (limit) only when a write that can change
   * it is seen (src/cgroupfs/settings.ts), not every settingsRefreshMs.
   * Default true; false is the fallback path (tests, the benchmark's reference).
   */
  watchSettings?: boolean;
  /**
   * Carry a collector's fields over while the files it read give the same
   * bytes (src/collect/unchanged.ts). Default true; false parses every file
   * every tick (tests' reference). Off too while tree.gateIdle is off.
   */
  carryUnchanged?: boolean;
  /**
   * Write each cgroup's container into the object of the snapshot before the
   * last (two per cgroup, used in turn) instead of a new one: a snapshot's
   * containers then stay valid only until the second collect() after it.
   * For a face that drops each snapshot by then (the exporter alone: its render
   * cache keeps field values, not containers); see keepSnapshots. At 1,000
   * cgroups a new container per cgroup and tick is ~250 KB a tick that lives
   * into the old generation and is garbage there (docs/exporter.md).
   */
  reuseContainers?: boolean;
}

/**
 * What tstop remembers about a cgroup between ticks. Its identity (runtime,
 * name, image, …) is the path's, refined by the runtime's state files at each
 * rescan (a kubepods container found in containerd's state).
 */
/** Off screen, settings are re-read at most this many times settingsRefreshMs apart (60 s by default). */
const OFF_SCREEN_SETTINGS_FACTOR = 6;

const PROCESSES_INDEX = CGROUP_COLLECTORS.findIndex((c) => c.fields.includes('processes'));
/** Per collector: it fills "populated" (carried as the collectors filled it: NodeMemo.ownPopulated). */
const FILLS_POPULATED = CGROUP_COLLECTORS.map((c) => c.fields.includes('populated'));

/**
 * Copies a collector's field from the cgroup's last container. Named stores
 * for the collectors' fields: out[key] by a key that varies is a megamorphic
 * access, and carrying runs ~10,000 times a tick at 1,000 idle cgroups.
 */
function carry<K extends keyof ContainerSnapshot>(out: ContainerSnapshot, last: ContainerSnapshot, key: K): void {
  switch (key) {
    case 'cpu':
      out.cpu = last.cpu;
      return;
    case 'memory':
      out.memory = last.memory;
      return;
    case 'io':
      out.io = last.io;
      return;
    case 'pids':
      out.pids = last.pids;
      return;
    case 'pressure':
      out.pressure = last.pressure;
      return;
    case 'processes':
      out.processes = last.processes;
      return;
    default:
      out[key] = last[key];
  }
}

const DEFAULT_RESCAN_MS = 30_000;
const DEFAULT_SETTINGS_REFRESH_MS = 10_000;

export class Collector {
  readonly root: string;
  readonly mounts: CgroupMounts;
  readonly tree: CgroupTree;
  private readonly source: CgroupSource;
  private readonly hostStatic: HostStatic;
  private readonly hostNs: HostNamespaces | null;
  private readonly bootTime: number | null;
  private hugetlbSizes: ReturnType<typeof hugetlbFilesFor>;
  private readonly runtimeState: RuntimeStateReader;
  private readonly watcher: TreeWatcher | null;
  private readonly rescanIntervalMs: number;
  /** The walk's period when watching is complete (WATCHED_RESCAN_MS unless rescanIntervalMs was given). */
  private readonly watchedRescanMs: number;
  private lastRescanMs = -Infinity;
  private lastDescribeMs = -Infinity;
  private readonly safety: SettingsSafety;
  private lastSettingsMs = -Infinity;
  private readonly settingsRefreshMs: number;
  private previous: Snapshot | null = null;
  private readonly isRoot = process.getuid?.() === 0;
  private readonly v2Controllers: string[];
  private readonly hostNetDev: string | null;
  readonly namer: DeviceNamer;
  private focusSpec: CollectFocus | null = null;
  /** Per CARRIED kind and collector (CGROUP_COLLECTORS order): carried over this tick for cgroups out of focus. */
  private readonly skipped = carriedTables();
  /** Carries the fields of collectors whose files did not change (null: off). */
  readonly unchanged: UnchangedValues | null;
  /** This tick may carry unchanged fields (see collect). */
  private carryTick = false;
  private readonly context: { -readonly [K in keyof CollectContext]: CollectContext[K] };
  /** Containers are written into the objects of the snapshot before the last (see reuseContainers). */
  private reuseContainers: boolean;

  constructor(options: CollectorOptions = {}) {
    this.root = path.resolve(options.root ?? '/');
    this.mounts = detectCgroupMounts(this.root);
    this.tree = new CgroupTree(this.mounts, new FileReader({ fdBudget: options.fdBudget }));
    this.source = new CgroupSource(this.tree);
    this.unchanged = options.carryUnchanged === false ? null : new UnchangedValues(CGROUP_COLLECTORS);
    this.reuseContainers = options.reuseContainers === true;
    this.hostStatic = collectHostStatic(this.root);
    this.hostNs = hostNamespaces(this.root);
    this.bootTime = bootTimeSeconds(this.root);
    this.hugetlbSizes = hugetlbFilesFor(hostPageSizes(this.root, null));
    this.runtimeState = new RuntimeStateReader(options);

    this.namer = blockDeviceNamer(this.root);
    this.context = { root: this.root, deviceName: this.namer, hugetlbSizes: this.hugetlbSizes, previous: null };
    this.watcher = options.watch ? TreeWatcher.open(this.tree) : null;
    // Without inotify every tick walks the tree; with it, a walk every rescanIntervalMs
    // (WATCHED_RESCAN_MS while every directory is watched and settings come from writes).
    this.rescanIntervalMs = this.watcher ? (options.rescanIntervalMs ?? DEFAULT_RESCAN_MS) : 0;
    this.watchedRescanMs = options.rescanIntervalMs ?? WATCHED_RESCAN_MS;
    this.settingsRefreshMs = options.settingsRefreshMs ?? DEFAULT_SETTINGS_REFRESH_MS;
    this.tree.settingsByEvent = this.watcher !== null && options.watchSettings !== false;
    this.safety = new SettingsSafety(this.root, this.tree);
    this.v2Controllers = [...new Set(this.mounts.unified?.controllers ?? [])].filter((c) =>
      this.tree.isV2Controller(c),
    );
    this.hostNetDev = hostNetDevPath(this.root);
    if (this.watcher) this.rescan(); // watches go on the directories a walk finds (else every tick walks)
  }

  private rescan(): void {
    // A rescan marks every cgroup's settings for a re-read; with a focus they are re-read per
    // cgroup instead (settingsDue): keep the marks of only those marked before (new, changed).
    const marked = this.focusSpec ? [...this.tree.nodes.values()].filter((n) => n.settingsStale) : null;
    // Where inotify reports writes, the walk leaves settings alone (new or re-watched cgroups read theirs).
    this.tree.rescan(!this.tree.settingsByEvent);
    if (marked) {
      const keep = new Set(marked);
      for (const node of this.tree.nodes.values()) if (node.memo && !keep.has(node)) node.settingsStale = false;
    }
    this.watcher?.watchTree();
    if (this.hugetlbSizes.length === 0) this.findHugetlbSizes();
    this.lastRescanMs = performance.now();
    this.describeAgain();
  }

  /** Runtime names and images, and init's capabilities, are looked up again (every rescanIntervalMs). */
  private describeAgain(): void {
    this.runtimeState.rescan();
    for (const node of this.tree.nodes.values()) if (node.memo) (node.memo as NodeMemo).described = false;
    this.lastDescribeMs = performance.now();
  }

  /** The walk's period: slower while inotify sees everything (see WATCHED_RESCAN_MS). */
  private walkIntervalMs(): number {
    return this.tree.settingsByEvent && this.watcher?.complete ? this.watchedRescanMs : this.rescanIntervalMs;
  }

  /** Without /sys/kernel/mm/hugepages, the page sizes are named by a non-root hugetlb cgroup's files. */
  private findHugetlbSizes(): void {
    const h = this.tree.hierarchyIndex('hugetlb');
    if (h < 0) return;
    for (const node of this.tree.nodes.values()) {
      const dir = node.dirs[h];
      if (node.id === '/' || dir === null) continue;
      this.hugetlbSizes = hugetlbFilesFor(hostPageSizes(this.root, dir));
      if (this.unchanged) this.unchanged.contextVersion++; // the hugetlb collector reads other files now
      if (this.hugetlbSizes.length > 0) return;
    }
  }

  /** Stops watching and closes every descriptor. */
  close(): void {
    this.watcher?.close();
    this.tree.close();
  }

  /** The next tick re-reads the limits of this cgroup (the limiter calls it after a change). */
  invalidateSettings(id: string): void {
    this.tree.invalidateSettings(id);
    // Out of focus too, the next tick reads this cgroup whole (its new limits shown at once).
    const memo = this.tree.nodes.get(id)?.memo as NodeMemo | undefined;
    if (memo) memo.fullAtMs = -Infinity;
  }

  /**
   * Another face keeps snapshots beyond the next collect() (the recorder's own
   * rates, the guard): from now on every snapshot gets containers of its own.
   */
  keepSnapshots(): void {
    this.reuseContainers = false;
    for (const node of this.tree.nodes.values()) if (node.memo) (node.memo as NodeMemo).spare = null;
  }

  /** Whether cgroups are followed live from inotify events (false: only rescans). */
  get watching(): boolean {
    return this.watcher !== null;
  }

  /** Kept for callers that await readiness: watches are in place once constructed. */
  ready(): Promise<void> {
    return Promise.resolve();
  }

  /** The descriptors kept open between ticks (for tests and the benchmark). */
  get openDescriptors(): number {
    return this.tree.reader.openDescriptors;
  }

  /** Reads less of the cgroups out of focus from the next tick on (null: everything, every tick). */
  focus(focus: CollectFocus | null): void {
    this.focusSpec = focus;
  }

  /** The fields the latest snapshot carried over from an older tick for this cgroup. */
  staleFields(id: string): readonly (keyof ContainerSnapshot)[] {
    return (this.tree.nodes.get(id)?.memo as NodeMemo | undefined)?.stale ?? NOTHING_STALE;
  }

  /**
   * Which cgroups are read whole this tick (the rest partly, see focus), and
   * the kept-open files of the skipped collectors left out of the batch read.
   * With a focus, settings (limits) are re-read per cgroup (settingsDue).
   */
  private planTick(nowMs: number): Uint8Array {
    const focus = this.focusSpec;
    const partial = new Uint8Array(this.tree.nodes.size);
    if (!focus) return partial;
    this.tree.refreshSettings = false;
    const skipSlots = markCarried(this.skipped, focus.fresh, this.tree.slotOwner);
    let i = 0;
    for (const node of this.tree.nodes.values()) {
      const memo = this.memoOf(node);
      const inFocus = focus.ids.has(node.id);
      if (!this.tree.settingsWatched(node) && this.settingsDue(memo, inFocus, focus, nowMs)) node.settingsStale = true;
      const hidden = focus.hidden?.has(node.id) === true;
      const due = hidden ? Infinity : memo.fullAtMs + focus.slowRefreshMs * (0.5 + memo.phase / 2);
      if (memo.last !== null && !inFocus && !node.settingsStale && nowMs < due) {
        partial[i] = hidden ? CARRIED.hidden : CARRIED.offScreen;
        for (const slot of skipSlots[partial[i]]) this.tree.reader.skipInBatch(node.batchPositions[slot]);
      }
      i++;
    }
    return partial;
  }

  /**
   * With a focus, whether a cgroup's settings are re-read this tick (the
   * cgroup is then read whole): in focus, or for every cgroup when the reader
   * sorts by a limit, when they are settingsRefreshMs old, as without a focus;
   * off screen OFF_SCREEN_SETTINGS_FACTOR times that at most, each cgroup at its
   * own point of the period (no tick re-reads every limit at once).
   */
  private settingsDue(memo: NodeMemo, inFocus: boolean, focus: CollectFocus, nowMs: number): boolean {
    const ageMs = nowMs - memo.settingsAtMs;
    if (inFocus || focus.settingsFresh) return ageMs >= this.settingsRefreshMs;
    return ageMs >= this.settingsRefreshMs * OFF_SCREEN_SETTINGS_FACTOR * (0.5 + memo.phase / 2);
  }

  /** Collects one snapshot; rates are relative to the previous call. */
  collect(): Snapshot {
    const overflow = this.watcher?.sync() ?? false;
    const beforeMs = performance.now();
    if (overflow || beforeMs - this.lastRescanMs >= this.walkIntervalMs()) this.rescan();
    else if (beforeMs - this.lastDescribeMs >= this.rescanIntervalMs) this.describeAgain();
    const nowMs = performance.now();
    if (this.tree.settingsByEvent) this.safety.pass(nowMs);
    const timestamp = new Date().toISOString();
    this.tree.refreshSettings = nowMs - this.lastSettingsMs >= this.settingsRefreshMs;
    if (this.tree.refreshSettings) this.lastSettingsMs = nowMs; // planTick clears it with a focus
    const containers: ContainerSnapshot[] = [];
    let dockerStateMissing = 0;
    const partial = this.planTick(nowMs);
    /** Containers whose io was read now while the previous snapshot carried theirs over. */
    const ioCatchUp: ContainerSnapshot[] = [];
    const nowSeconds = nowMs / 1000;
    // Carried fields keep the rates of their last run: only while every tick has rates (a later clock).
    this.carryTick =
      this.unchanged !== null && this.tree.gateIdle && (!this.previous || nowSeconds > this.previous.monotonicSeconds);
    this.tree.beginTick();
    try {
      let i = 0;
      for (const node of this.tree.nodes.values()) {
        const c = this.collectNode(node, partial[i++], nowMs);
        if (c) containers.push(c);
        if (!c) continue;
        const memo = node.memo as NodeMemo;
        if (memo.stateMissing) dockerStateMissing++;
        if (memo.ioAtSeconds === nowSeconds && this.previous && memo.ioBeforeSeconds < this.previous.monotonicSeconds) {
          ioCatchUp.push(c);
        }
      }
    } finally {
      this.tree.reader.endTick();
    }
    this.tree.sweep();
    markPopulated(containers, this.tree.nodes);
    collectNetworks(this.root, containers);
    const dynamic = collectHostDynamic(this.root);
    const snapshot: Snapshot = {
      timestamp,
      monotonicSeconds: nowMs / 1000,
      host: {
        hostname: this.hostStatic.hostname,
        kernel: this.hostStatic.kernel,
        cgroupMode: this.mounts.mode,
        cpus: this.hostStatic.cpus,
        memoryBytes: dynamic.memoryBytes,
        memoryAvailableBytes: dynamic.memoryAvailableBytes,
        cpuUsageSeconds: dynamic.cpuUsageSeconds,
        cpuPercent: null,
        pressure: collectHostPressure(this.root),
        namespaceReference: this.hostNs?.reference ?? null,
        v2Controllers: this.v2Controllers,
        machineId: this.hostStatic.machineId,
        bootId: this.hostStatic.bootId,
        systemUuid: this.hostStatic.systemUuid,
        network: this.hostNetwork(),
      },
      containers,
      notes: this.notes(dockerStateMissing, containers),
    };
    applyRates(this.previous, snapshot);
    if (ioCatchUp.length > 0) this.catchUpIoRates(ioCatchUp, nowSeconds);
    this.previous = snapshot;
    return snapshot;
  }

  /**
   * io rates of cgroups whose io the previous snapshot carried over: the
   * counters it holds are from an older tick, so the rate spans the time
   * since that tick, not one tick.
   */
  private catchUpIoRates(containers: ContainerSnapshot[], nowSeconds: number): void {
    const before = new Map<string, ContainerSnapshot>();
    for (const p of this.previous?.containers ?? []) before.set(p.id, p);
    for (const c of containers) {
      const p = before.get(c.id);
      const memo = this.tree.nodes.get(c.id)?.memo as NodeMemo | undefined;
      if (!p?.io || !c.io || !memo || p.inode !== c.inode) continue;
      ioRates(c.io, p.io, nowSeconds - memo.ioBeforeSeconds);
    }
  }

  private hostNetwork(): NetworkInterface[] | null {
    return this.hostNetDev === null ? null : readNetDev(this.hostNetDev);
  }

  private notes(dockerStateMissing: number, containers: readonly ContainerSnapshot[]): string[] {
    const notes: string[] = [];
    if (!this.isRoot) {
      notes.push("not running as root: namespaces, capabilities and network of other users' processes are not shown");
    }
    if (!this.hostNs) notes.push('host namespaces unreadable: isolation of namespaces is unknown');
    for (const problem of this.runtimeState.problems()) notes.push(`runtime state unreadable: ${problem}`);
    if (dockerStateMissing > 0) {
      // Without this, a host whose docker root is elsewhere shows bare ids with no hint why.
      const dir = path.join(this.runtimeState.options.dockerRoot, 'containers');
      notes.push(
        `docker state not found in ${dir} for ${dockerStateMissing} container(s): shown by id, without image (docker's data root elsewhere? --docker-root)`,
      );
    }
    const drift = driftNote(containers);
    if (drift !== null) notes.push(drift);
    return notes;
  }

  private memoOf(node: CgroupNode): NodeMemo {
    let memo = node.memo as NodeMemo | undefined;
    if (!memo) {
      const classification = classifyCgroupPath(node.id);
      memo = newNodeMemo(classification, identityFromPath(node.id, classification), phaseOf(node.id));
      node.memo = memo;
    }
    // Renames and docker update rewrite the state files: re-read them when the
    // limits are re-read, so runtimeConfig and the cgroup's limits agree (one stat each when unchanged).
    const restate = memo.stateSource !== null && (this.tree.refreshSettings || node.settingsStale);
    if (!memo.described || restate) {
      if (!memo.described) memo.capabilitiesStale = true;
      memo.described = true;
      const d = this.runtimeState.describe(memo.classification, node.id);
      memo.stateMissing = d === null && memo.runtime === 'docker' && memo.classification.containerId !== null;
      memo.stateSource = d?.source ?? null;
      Object.assign(memo, withDescription(memo, d));
    }
    return memo;
  }

  /** partial: 0 read whole, else the CARRIED kind (which collectors' fields are carried over). */
  private collectNode(node: CgroupNode, partial: number, nowMs: number): ContainerSnapshot | null {
    const src = this.source.bind(node);
    const memo = this.memoOf(node);
    const out = blankContainer(node, memo, this.reuseContainers ? memo.spare : null);
    memo.spare = null;
    // One context for every cgroup (collectors do not keep it): no object per cgroup and tick.
    const context = this.context;
    context.hugetlbSizes = this.hugetlbSizes;
    context.previous = memo.last;
    const last = memo.last;
    const settingsRead = this.tree.refreshSettings || node.settingsStale;
    let stale: (keyof ContainerSnapshot)[] | null = null;
    const unchanged = this.carryTick ? this.unchanged : null;
    unchanged?.begin(node);
    const carried = unchanged && last && !partial ? unchanged.check(this.tree, node, memo) : 0;
    let ran = 0;
    src.listener = unchanged;
    for (let i = 0; i < CGROUP_COLLECTORS.length; i++) {
      const collector = CGROUP_COLLECTORS[i];
      // Without pids.current nothing else says whether the cgroup holds processes: its list is read.
      if (partial && last && this.skipped[partial][i] && !(i === PROCESSES_INDEX && out.pids === null)) {
        for (const field of collector.fields) carry(out, last, field);
        (stale ??= []).push(...collector.fields);
        continue;
      }
      if (carried & (1 << i)) {
        // Its files gave the same bytes: the same values (src/collect/unchanged.ts).
        for (const field of collector.fields) carry(out, last!, field);
        if (FILLS_POPULATED[i]) out.populated = memo.ownPopulated;
        unchanged!.carry(i, memo);
        continue;
      }
      this.tree.reading = i;
      unchanged?.startCollector(i);
      collector.collect(src, context, out);
      ran |= 1 << i;
    }
    this.tree.reading = -1;
    src.listener = null;
    if (unchanged) unchanged.end(node, memo, ran, !partial);
    else memo.stable = 0; // not noted this tick: start over
    memo.ownPopulated = out.populated;
    if (!partial) {
      if (settingsRead) memo.settingsAtMs = nowMs;
      node.settingsStale = false;
      memo.fullAtMs = nowMs;
    }
    if (stale !== null) stale = settleFromPids(out, stale);
    memo.stale = stale === null || stale.length === 0 ? NOTHING_STALE : stale;
    if (stale === null || !stale.includes('io')) {
      memo.ioBeforeSeconds = memo.ioAtSeconds;
      memo.ioAtSeconds = nowMs / 1000;
    }
    if (node.gone) return null; // removed while reading: normal, it just disappears
    this.updateInit(memo, out.processes);
    out.initPid = memo.initPid;
    out.startTimeSeconds = memo.startTimeSeconds;
    out.namespaces = memo.namespaces;
    out.capabilities = memo.capabilities;
    if (this.reuseContainers) memo.spare = memo.last;
    memo.last = out;
    return out;
  }

  /** Finds the init (oldest) process when the previous one left; reads its namespaces and capabilities. */
  private updateInit(memo: NodeMemo, processes: number[]): void {
    if (memo.initPid !== null && processes.includes(memo.initPid)) {
      // Capabilities can be dropped after start: re-read them with each rescan.
      if (memo.capabilitiesStale) memo.capabilities = collectCapabilities(this.root, memo.initPid);
      memo.capabilitiesStale = false;
      return;
    }
    memo.initPid = null;
    memo.startTimeSeconds = null;
    memo.namespaces = null;
    memo.capabilities = null;
    if (processes.length === 0) return;
    const oldest = oldestProcess(this.root, processes);
    if (!oldest) return;
    memo.initPid = oldest.pid;
    memo.startTimeSeconds = this.bootTime === null ? null : this.bootTime + oldest.startTicks / USER_HZ;
    memo.namespaces = collectNamespaces(this.root, oldest.pid, this.hostNs);
    memo.capabilities = collectCapabilities(this.root, oldest.pid);
  }

  /** Kernel name of a block device (cached). */
  deviceName(major: number, minor: number): string | null {
    return this.namer(major, minor);
  }
}

/** Parent cgroup path of an id ("/a/b" → "/a", "/a" → "/"), null for "/". */
export function parentId(id: string): string | null {
  if (id === '/') return null;
  const i = id.lastIndexOf('/');
  return i <= 0 ? '/' : id.slice(0, i);
}

/**
 * A cgroup is populated when it or a descendant holds processes. After the
 * sweep every node has this tick's container as memo.last (the gone ones,
 * without one, are dropped): looked up there, no map of every id per tick.
 */
function markPopulated(containers: ContainerSnapshot[], nodes: ReadonlyMap<string, CgroupNode>): void {
  for (const c of containers) {
    if (c.processes.length === 0) continue;
    for (let p: string | null = c.id; p !== null; p = parentId(p)) {
      const a = (nodes.get(p)?.memo as NodeMemo | undefined)?.last;
      if (!a) continue;
      if (a.populated && a !== c) break;
      a.populated = true;
    }
  }
}
