// The collection core: turns the kernel's files into one Snapshot per tick.
// It owns the cgroup tree (walked, then kept current from inotify events with
// a periodic rescan as the safety net), runs every collector on every cgroup,
// and derives rates from the previous snapshot.

import fs from 'node:fs';
import path from 'node:path';
import { detectCgroupMounts, type CgroupMounts } from '../cgroupfs/mounts.js';
import { FileReader } from '../cgroupfs/reader.js';
import { CgroupSource } from '../cgroupfs/source.js';
import { CgroupTree, type CgroupNode } from '../cgroupfs/tree.js';
import { TreeWatcher } from '../cgroupfs/watch.js';
import { collectCapabilities } from '../../collectors/capabilities.js';
import { collectCpu, emptyCpu } from '../../collectors/cpu.js';
import { collectCpuset } from '../../collectors/cpuset.js';
import { collectDevices } from '../../collectors/devices.js';
import { collectFreezer } from '../../collectors/freezer.js';
import { collectHostDynamic, collectHostStatic, hostNetDevPath, type HostStatic } from '../../collectors/host.js';
import { collectHugetlb, hostPageSizes, hugetlbFilesFor } from '../../collectors/hugetlb.js';
import { collectIo, type DeviceNamer } from '../../collectors/io.js';
import { collectMemory } from '../../collectors/memory.js';
import { collectNamespaces, hostNamespaces, type HostNamespaces } from '../../collectors/namespaces.js';
import { parseNetDev } from '../../collectors/network.js';
import { collectPids } from '../../collectors/pids.js';
import { collectHostPressure, collectPressure } from '../../collectors/pressure.js';
import { bootTimeSeconds, collectProcesses, CLK_TCK, oldestProcess } from '../../collectors/processes.js';
import { classifyCgroupPath, type Classification } from '../discovery/classify.js';
import { RuntimeStateReader, type RuntimeStateOptions } from '../discovery/state.js';
import { applyRates } from './rates.js';
import type {
  Capabilities,
  ContainerSnapshot,
  Runtime,
  KubernetesInfo,
  Namespaces,
  NetworkInterface,
  Pressure,
  Snapshot,
} from './types.js';

export interface CollectorOptions extends Partial<RuntimeStateOptions> {
  /** Filesystem root of the host to read ("/" or e.g. "/host"). */
  root?: string;
  /** Keep the tree current from inotify events (long-running faces). */
  watch?: boolean;
  /** Full rescan interval when watching; without watching every tick rescans. */
  rescanIntervalMs?: number;
  /** Descriptors the reader may keep open. */
  fdBudget?: number;
  /** How often limits and other settings are re-read (they are also re-read at rescans). */
  settingsRefreshMs?: number;
}

/** What tstop remembers about a cgroup between ticks. */
interface NodeMemo {
  classification: Classification;
  /** The runtime, refined by the runtime's state files (a kubepods container found in containerd's state). */
  runtime: Runtime;
  initPid: number | null;
  startTimeSeconds: number | null;
  namespaces: Namespaces | null;
  capabilities: Capabilities | null;
  /** Last PSI figures: reused while unchanged. */
  pressure: Pressure | null;
  /** Runtime state (name, image) looked up; refreshed at rescans. */
  described: boolean;
  name: string;
  image: string | null;
  containerId: string | null;
  kubernetes: KubernetesInfo | null;
}

const DEFAULT_RESCAN_MS = 30_000;
/** Shared by every empty cgroup (snapshots are read-only). */
const NO_PROCESSES: number[] = [];
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
  private readonly deviceNames = new Map<number, string | null>();
  private readonly runtimeState: RuntimeStateReader;
  private readonly watcher: TreeWatcher | null;
  private readonly rescanIntervalMs: number;
  private lastRescanMs = -Infinity;
  private lastSettingsMs = -Infinity;
  private readonly settingsRefreshMs: number;
  private previous: Snapshot | null = null;
  private readonly isRoot = process.getuid?.() === 0;
  private readonly v2Controllers: string[];
  private readonly hostNetDev: string | null;
  readonly namer: DeviceNamer;

  constructor(options: CollectorOptions = {}) {
    this.root = path.resolve(options.root ?? '/');
    this.mounts = detectCgroupMounts(this.root);
    this.tree = new CgroupTree(this.mounts, new FileReader({ fdBudget: options.fdBudget }));
    this.source = new CgroupSource(this.tree);
    this.hostStatic = collectHostStatic(this.root);
    this.hostNs = hostNamespaces(this.root);
    this.bootTime = bootTimeSeconds(this.root);
    this.hugetlbSizes = hugetlbFilesFor(hostPageSizes(this.root, null));
    this.runtimeState = new RuntimeStateReader(options);

    this.namer = (major, minor) => this.deviceName(major, minor);
    this.watcher = options.watch ? TreeWatcher.open(this.tree) : null;
    // Without inotify every tick walks the tree; with it, a walk every rescanIntervalMs.
    this.rescanIntervalMs = this.watcher ? (options.rescanIntervalMs ?? DEFAULT_RESCAN_MS) : 0;
    this.settingsRefreshMs = options.settingsRefreshMs ?? DEFAULT_SETTINGS_REFRESH_MS;
    // Watches go on the directories a walk finds; without watching, every tick walks anyway.
    this.v2Controllers = [...new Set(this.mounts.unified?.controllers ?? [])].filter((c) =>
      this.tree.isV2Controller(c),
    );
    this.hostNetDev = hostNetDevPath(this.root);
    if (this.watcher) this.rescan();
  }

  private rescan(): void {
    this.tree.rescan();
    this.watcher?.watchTree();
    this.runtimeState.rescan();
    for (const node of this.tree.nodes.values()) if (node.memo) (node.memo as NodeMemo).described = false;
    if (this.hugetlbSizes.length === 0) this.findHugetlbSizes();
    this.lastRescanMs = performance.now();
  }

  /** Without /sys/kernel/mm/hugepages, the page sizes are named by a non-root hugetlb cgroup's files. */
  private findHugetlbSizes(): void {
    const h = this.tree.hierarchyIndex('hugetlb');
    if (h < 0) return;
    for (const node of this.tree.nodes.values()) {
      const dir = node.dirs[h];
      if (node.id === '/' || dir === null) continue;
      this.hugetlbSizes = hugetlbFilesFor(hostPageSizes(this.root, dir));
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

  /** Collects one snapshot; rates are relative to the previous call. */
  collect(): Snapshot {
    const overflow = this.watcher?.sync() ?? false;
    if (overflow || performance.now() - this.lastRescanMs >= this.rescanIntervalMs) this.rescan();
    const nowMs = performance.now();
    const timestamp = new Date().toISOString();
    this.tree.refreshSettings = nowMs - this.lastSettingsMs >= this.settingsRefreshMs;
    if (this.tree.refreshSettings) this.lastSettingsMs = nowMs;
    const containers: ContainerSnapshot[] = [];
    this.tree.reader.beginTick();
    try {
      for (const node of this.tree.nodes.values()) {
        const c = this.collectNode(node);
        if (c) containers.push(c);
      }
    } finally {
      this.tree.reader.endTick();
    }
    this.tree.sweep();
    markPopulated(containers);
    this.collectNetworks(containers);
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
      notes: this.notes(),
    };
    applyRates(this.previous, snapshot);
    this.previous = snapshot;
    return snapshot;
  }

  private hostNetwork(): NetworkInterface[] | null {
    if (this.hostNetDev === null) return null;
    try {
      return parseNetDev(fs.readFileSync(this.hostNetDev, 'latin1'));
    } catch {
      return null;
    }
  }

  private notes(): string[] {
    const notes: string[] = [];
    if (!this.isRoot) {
      notes.push("not running as root: namespaces, capabilities and network of other users' processes are not shown");
    }
    if (!this.hostNs) notes.push('host namespaces unreadable: isolation of namespaces is unknown');
    for (const problem of this.runtimeState.problems()) notes.push(`runtime state unreadable: ${problem}`);
    return notes;
  }

  private memoOf(node: CgroupNode): NodeMemo {
    let memo = node.memo as NodeMemo | undefined;
    if (!memo) {
      const classification = classifyCgroupPath(node.id);
      memo = {
        classification,
        runtime: classification.runtime,
        initPid: null,
        startTimeSeconds: null,
        namespaces: null,
        capabilities: null,
        pressure: null,
        described: false,
        name: classification.name ?? node.id,
        image: null,
        containerId: classification.containerId,
        kubernetes: classification.kubernetes?.podUid
          ? { pod: null, namespace: null, container: null, podUid: classification.kubernetes.podUid }
          : null,
      };
      node.memo = memo;
    }
    if (!memo.described) {
      memo.described = true;
      const d = this.runtimeState.describe(memo.classification, node.id);
      if (d) {
        memo.runtime = d.runtime;
        memo.name = d.name ?? memo.name;
        memo.image = d.image;
        memo.containerId = d.containerId ?? memo.containerId;
        memo.kubernetes = d.kubernetes ?? memo.kubernetes;
      }
    }
    return memo;
  }

  private collectNode(node: CgroupNode): ContainerSnapshot | null {
    const src = this.source.bind(node);
    const memo = this.memoOf(node);
    const pids = collectPids(src);
    // pids.current counts every task below: at 0 there is no process to list (saves an open on v1).
    let processes = pids?.current === 0 ? NO_PROCESSES : (collectProcesses(src) ?? NO_PROCESSES);
    if (processes.length === 0) processes = NO_PROCESSES;
    this.updateInit(memo, processes);
    const cpuset = collectCpuset(src);
    const cpu = collectCpu(src) ?? (cpuset ? emptyCpu() : null);
    if (cpu && cpuset) {
      cpu.cpus = cpuset.cpus;
      cpu.mems = cpuset.mems;
    }
    const memory = collectMemory(src);
    const io = collectIo(src, this.namer);
    const devices = collectDevices(src);
    const hugetlb = collectHugetlb(src, this.hugetlbSizes);
    const freezer = collectFreezer(src);
    const pressure = (memo.pressure = collectPressure(src, memo.pressure));
    node.settingsStale = false;
    if (node.gone) return null; // removed while reading: normal, it just disappears
    return {
      id: node.id,
      name: memo.name,
      runtime: memo.runtime,
      containerId: memo.containerId,
      image: memo.image,
      kubernetes: memo.kubernetes,
      inode: node.inode,
      populated: freezer.populated ?? processes.length > 0,
      processes,
      initPid: memo.initPid,
      startTimeSeconds: memo.startTimeSeconds,
      cpu,
      memory,
      io,
      pids,
      devices,
      hugetlb,
      freezer: freezer.state,
      pressure,
      namespaces: memo.namespaces,
      capabilities: memo.capabilities,
      network: null,
    };
  }

  /** Finds the init (oldest) process when the previous one left; reads its namespaces and capabilities. */
  private updateInit(memo: NodeMemo, processes: number[]): void {
    if (memo.initPid !== null && processes.includes(memo.initPid)) {
      // Capabilities can be dropped after start: re-read them with each rescan.
      if (!memo.described && memo.initPid !== null) memo.capabilities = collectCapabilities(this.root, memo.initPid);
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
    memo.startTimeSeconds = this.bootTime === null ? null : this.bootTime + oldest.startTicks / CLK_TCK;
    memo.namespaces = collectNamespaces(this.root, oldest.pid, this.hostNs);
    memo.capabilities = collectCapabilities(this.root, oldest.pid);
  }

  /** Reads each isolated network namespace once, however many cgroups share it. */
  private collectNetworks(containers: ContainerSnapshot[]): void {
    const byNamespace = new Map<number, NetworkInterface[] | null>();
    for (const c of containers) {
      const net = c.namespaces?.net;
      if (!net || !net.isolated || c.initPid === null) continue;
      let ifaces = byNamespace.get(net.inode);
      if (ifaces === undefined) {
        try {
          ifaces = parseNetDev(fs.readFileSync(path.join(this.root, 'proc', String(c.initPid), 'net/dev'), 'latin1'));
        } catch {
          ifaces = null; // the process left between reads: next tick finds a new init
        }
        byNamespace.set(net.inode, ifaces);
      }
      // Each container gets its own objects so rates can be filled per container.
      c.network = ifaces === null ? null : ifaces.map((i) => ({ ...i }));
    }
  }

  /** Kernel name of a block device from <root>/sys/dev/block/MAJ:MIN, cached. */
  deviceName(major: number, minor: number): string | null {
    const key = major * 1_048_576 + minor;
    let name = this.deviceNames.get(key);
    if (name === undefined) {
      try {
        name = path.basename(fs.readlinkSync(path.join(this.root, 'sys/dev/block', `${major}:${minor}`)));
      } catch {
        name = null;
      }
      this.deviceNames.set(key, name);
    }
    return name;
  }
}

/** Parent cgroup path of an id ("/a/b" → "/a", "/a" → "/"), null for "/". */
export function parentId(id: string): string | null {
  if (id === '/') return null;
  const i = id.lastIndexOf('/');
  return i <= 0 ? '/' : id.slice(0, i);
}

/** A cgroup is populated when it or a descendant holds processes. */
function markPopulated(containers: ContainerSnapshot[]): void {
  const byId = new Map<string, ContainerSnapshot>();
  for (const c of containers) byId.set(c.id, c);
  for (const c of containers) {
    if (c.processes.length === 0) continue;
    for (let p: string | null = c.id; p !== null; p = parentId(p)) {
      const a = byId.get(p);
      if (!a) continue;
      if (a.populated && a !== c) break;
      a.populated = true;
    }
  }
}
