// The one interface every runtime's state reader implements, and the types
// it shares with RuntimeStateReader (src/discovery/runtime-state.ts), which
// loops over the providers listed in src/discovery/runtimes/index.ts.
// Adding a runtime: one file in src/discovery/runtimes/ and one line there.

import type { KubernetesInfo, Runtime, RuntimeConfig } from '../model/types.js';
import type { FileCache } from './file-cache.js';

export interface RuntimeStateOptions {
  dockerRoot: string;
  /** runc state roots; each holds <id>/state.json. */
  runcRoots: string[];
  /** containers/storage parent: <podmanRoot>/storage/overlay-containers/containers.json. */
  podmanRoot: string;
  /** containerd state dir holding io.containerd.runtime.v2.task/. */
  containerdRoot: string;
  /** containers/storage roots holding overlay-containers/<id>/userdata/config.json. */
  crioRoots: string[];
  lxcRoot: string;
  tstopRunDir: string;
  /** Where the cgroup hierarchy is mounted, to turn runc's absolute cgroup paths into ids. */
  cgroupMount: string;
}

export const DEFAULT_RUNTIME_STATE_OPTIONS: Readonly<RuntimeStateOptions> = Object.freeze({
  dockerRoot: '/var/lib/docker',
  runcRoots: [
    '/run/runc',
    '/run/docker/runtime-runc/moby',
    '/run/containerd/runc/k8s.io',
    '/run/containerd/runc/moby',
    '/run/containerd/runc/default',
  ],
  podmanRoot: '/var/lib/containers',
  containerdRoot: '/run/containerd',
  crioRoots: ['/run/containers/storage', '/var/lib/containers/storage'],
  lxcRoot: '/var/lib/lxc',
  tstopRunDir: '/run/tstop',
  cgroupMount: '/sys/fs/cgroup',
});

export interface ContainerDescription {
  /** The runtime the state tells, which may be more precise than the path's ('kubernetes' → 'containerd'). */
  runtime: Runtime;
  name: string | null;
  image: string | null;
  containerId: string | null;
  kubernetes: KubernetesInfo | null;
  /** docker Config.Labels; OCI annotations for the CRI runtimes and runc; a few config keys for LXC. */
  labels: Record<string, string>;
  /** docker's limits and pause state on record (hostconfig.json, State.Paused); null for other runtimes. */
  runtimeConfig?: RuntimeConfig | null;
  /** The container's init pid where the state tells. */
  pid: number | null;
  /** The state file the description came from; null when from the path alone. */
  source: string | null;
}

/** What a provider may use: the options, the shared file cache, the reader's listings. */
export interface StateContext {
  readonly options: RuntimeStateOptions;
  readonly cache: FileCache;
  /** Runs the reader's rescan() if it has not run yet (for what providers list at rescans). */
  ensureScanned(): void;
}

/**
 * One runtime's state on disk. For a cgroup whose path carries a container id
 * (or, for LXC and tstop, a name), RuntimeStateReader asks the providers that
 * have a rank for the runtime the path names, lowest rank first, at each of
 * their locations in turn; the first answer wins and is remembered, so the
 * next lookup of that container costs one stat.
 */
export interface RuntimeStateProvider {
  /** Names the provider in lookups and tests ("docker", "containerd", "crio", "storage", "runc", …). */
  readonly source: string;
  /** Runtime the path names → this provider's place in the lookup order for it; absent: not asked. */
  readonly rank: Readonly<Partial<Record<Runtime, number>>>;
  /** Re-list what can change between rescans (containerd namespaces, runc containers). */
  rescan?(): void;
  /** The places that may hold a container's state (a root, a containerd namespace), in lookup order. */
  locations(): readonly string[];
  /** What the state at `location` tells about container `key`; null when it holds nothing for it. */
  describe(key: string, location: string): ContainerDescription | null;
  /**
   * For a cgroup whose path names no runtime at all (runtime 'cgroup'): the
   * container whose cgroup this is, for runtimes that record any cgroup path
   * (runc's cgroupsPath). Asked in registry order.
   */
  describeCgroup?(cgroupId: string): ContainerDescription | null;
}

export type RuntimeStateProviderClass = new (ctx: StateContext) => RuntimeStateProvider;
