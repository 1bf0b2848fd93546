// Read container names, images and Kubernetes metadata from the runtimes' own
// state files on disk — no daemon, no socket. RuntimeStateReader turns a
// classified cgroup into a ContainerDescription by asking the providers of
// src/discovery/runtimes/ (one per runtime, one interface: src/discovery/provider.ts).
// It never throws; FileCache remembers what could not be read for the notes.
//
// Formats (docs/runtimes.md links the sources):
// - docker   <dockerRoot>/containers/<id>/config.v2.json   (runtimes/docker.ts)
// - runc     <runcRoot>/<id>/state.json                     (runtimes/runc.ts)
// - podman   <podmanRoot>/storage/overlay-containers/containers.json, overlay-images/images.json (runtimes/storage.ts)
// - containerd <containerdRoot>/io.containerd.runtime.v2.task/<ns>/<id>/config.json (runtimes/oci.ts)
// - CRI-O    <crioRoot>/overlay-containers/<id>/userdata/config.json (runtimes/storage.ts)
// - LXC      <lxcRoot>/<name>/config                        (runtimes/lxc.ts)
// - tstop    <tstopRunDir>/<name>.json                      (runtimes/tstop.ts)

import { join } from 'node:path';
import type { Runtime } from '../model/types.js';
import type { Classification } from './classify.js';
import { FileCache } from './file-cache.js';
import {
  DEFAULT_RUNTIME_STATE_OPTIONS,
  type ContainerDescription,
  type RuntimeStateOptions,
  type RuntimeStateProvider,
  type StateContext,
} from './provider.js';
import { RUNTIME_STATE_PROVIDERS } from './runtimes/index.js';
import { RuncStateProvider, type RuncContainer } from './runtimes/runc.js';
import { readStorageContainers, type StorageContainer } from './runtimes/storage.js';

export { DEFAULT_RUNTIME_STATE_OPTIONS, type ContainerDescription, type RuntimeStateOptions };

/** Where a container's state was found: the next lookup goes straight there. */
interface Found {
  provider: RuntimeStateProvider;
  location: string;
  usedAt: number;
}

export class RuntimeStateReader {
  readonly options: RuntimeStateOptions;
  readonly cache: FileCache;
  private scanned = false;
  private readonly providers: readonly RuntimeStateProvider[];
  private readonly runc: RuncStateProvider | undefined;
  private readonly orders = new Map<Runtime, readonly RuntimeStateProvider[]>();
  /** runtime:id → the provider and location that answered last time (so the next call costs one stat). */
  private readonly resolved = new Map<string, Found>();
  /** runtime:id with no state anywhere; cleared by rescan(). */
  private readonly missing = new Set<string>();
  private generation = 0;

  constructor(options: Partial<RuntimeStateOptions> = {}, cache: FileCache = new FileCache()) {
    this.options = { ...DEFAULT_RUNTIME_STATE_OPTIONS, ...options };
    this.cache = cache;
    const ctx: StateContext = { options: this.options, cache, ensureScanned: () => this.ensureScanned() };
    this.providers = RUNTIME_STATE_PROVIDERS.map((Provider) => new Provider(ctx));
    this.runc = this.providers.find((p): p is RuncStateProvider => p instanceof RuncStateProvider);
  }

  /**
   * Re-list runc roots and containerd namespaces, forget negative lookups,
   * and drop cached files and lookups unused since the previous rescan.
   * Call it when the set of cgroups changes, or every few ticks.
   */
  rescan(): void {
    this.cache.sweep();
    this.missing.clear();
    for (const [k, v] of this.resolved) if (v.usedAt < this.generation) this.resolved.delete(k);
    this.generation++;
    for (const p of this.providers) p.rescan?.();
    this.scanned = true;
  }

  /** The providers asked, in order, for a container the path attributes to `runtime`. */
  lookupOrder(runtime: Runtime): readonly RuntimeStateProvider[] {
    let order = this.orders.get(runtime);
    if (order === undefined) {
      const rank = (p: RuntimeStateProvider): number => p.rank[runtime] ?? Infinity;
      order = this.providers.filter((p) => p.rank[runtime] !== undefined).sort((a, b) => rank(a) - rank(b));
      this.orders.set(runtime, order);
    }
    return order;
  }

  /** runc containers seen by the last rescan(). */
  runcContainers(): RuncContainer[] {
    return this.runc?.containers() ?? [];
  }

  /** The runc container whose cgroup is this path (for cgroups the path alone does not explain). */
  runcForCgroup(cgroupId: string): RuncContainer | null {
    return this.runc?.forCgroup(cgroupId) ?? null;
  }

  /** podman's containers (containers.json), [] when unreadable. */
  podmanContainers(): StorageContainer[] {
    const m = readStorageContainers(join(this.options.podmanRoot, 'storage'), this.cache);
    return m === null ? [] : [...m.values()];
  }

  /** Files that exist but could not be read or parsed, for the snapshot's notes. */
  problems(): string[] {
    return this.cache.problems();
  }

  /**
   * Name, image and Kubernetes metadata for a classified cgroup, from the
   * runtimes' state files. For monitor and nested cgroups it describes the
   * container they belong to. null when no state tells anything (systemd
   * units, pods and slices, or a container whose state is gone or unreadable).
   */
  describe(classification: Classification, cgroupId: string): ContainerDescription | null {
    try {
      return this.describeUnsafe(classification, cgroupId);
    } catch {
      return null;
    }
  }

  private describeUnsafe(c: Classification, cgroupId: string): ContainerDescription | null {
    const id = c.containerId;
    if (id === null) {
      // The path names no container. If it names no runtime either ('cgroup'), a
      // runtime that records any cgroup path (runc's cgroupsPath) may know it.
      if (c.runtime !== 'cgroup') return null;
      for (const p of this.providers) {
        const d = p.describeCgroup?.(cgroupId) ?? null;
        if (d !== null) return d;
      }
      return null;
    }
    const order = this.lookupOrder(c.runtime);
    if (order.length === 0) return null;
    const key = `${c.runtime}:${id}`;
    if (this.missing.has(key)) return null;

    const memo = this.resolved.get(key);
    if (memo !== undefined) {
      const d = memo.provider.describe(id, memo.location);
      if (d !== null) {
        memo.usedAt = this.generation;
        return this.finish(d, c);
      }
      this.resolved.delete(key);
    }
    for (const provider of order) {
      for (const location of provider.locations()) {
        const d = provider.describe(id, location);
        if (d !== null) {
          this.resolved.set(key, { provider, location, usedAt: this.generation });
          return this.finish(d, c);
        }
      }
    }
    this.missing.add(key);
    return null;
  }

  private ensureScanned(): void {
    if (!this.scanned) this.rescan();
  }

  /** Fill what the path knows and the state did not (pod UID, container id). */
  private finish(d: ContainerDescription, c: Classification): ContainerDescription {
    const podUid = c.kubernetes?.podUid ?? null;
    let kubernetes = d.kubernetes;
    if (kubernetes !== null && kubernetes.podUid === null && podUid !== null) kubernetes = { ...kubernetes, podUid };
    if (kubernetes === null && podUid !== null) kubernetes = { pod: null, namespace: null, container: null, podUid };
    return { ...d, kubernetes, containerId: d.containerId ?? c.containerId };
  }
}
