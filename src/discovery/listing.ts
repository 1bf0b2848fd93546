// What each cgroup is, as every face shows it: the path's classification
// (classify.ts), refined by the runtime's state (RuntimeStateReader). The
// collector keeps one identity per cgroup of its tree; the limiter lists the
// cgroups of the hierarchies that hold containers to find one by name or id.

import type { CgroupMounts } from '../cgroupfs/mounts.js';
import { cgroupIdOf, walkDirs } from '../cgroupfs/tree.js';
import type { KubernetesInfo, Runtime, RuntimeConfig } from '../model/types.js';
import { classifyCgroupPath, type Classification } from './classify.js';
import type { ContainerDescription } from './provider.js';
import type { RuntimeStateReader } from './runtime-state.js';

/** A cgroup's name and runtime as the snapshot shows them. */
export interface CgroupIdentity {
  runtime: Runtime;
  name: string;
  containerId: string | null;
  image: string | null;
  kubernetes: KubernetesInfo | null;
  labels: Record<string, string>;
  runtimeConfig: RuntimeConfig | null;
}

const NO_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** What the path alone tells: the classifier's name, else the cgroup path. */
export function identityFromPath(id: string, c: Classification): CgroupIdentity {
  return {
    runtime: c.runtime,
    name: c.name ?? id,
    containerId: c.containerId,
    image: null,
    kubernetes: c.kubernetes?.podUid
      ? { pod: null, namespace: null, container: null, podUid: c.kubernetes.podUid }
      : null,
    labels: NO_LABELS,
    runtimeConfig: null,
  };
}

/** `identity` with what the runtime's state tells; what the state leaves unknown is kept. */
export function withDescription(identity: CgroupIdentity, d: ContainerDescription | null): CgroupIdentity {
  if (d === null) return identity;
  return {
    runtime: d.runtime,
    name: d.name ?? identity.name,
    containerId: d.containerId ?? identity.containerId,
    image: d.image,
    kubernetes: d.kubernetes ?? identity.kubernetes,
    labels: d.labels,
    runtimeConfig: d.runtimeConfig ?? null,
  };
}

export interface ListedCgroup extends CgroupIdentity {
  /** The cgroup path. */
  id: string;
}

/**
 * Every cgroup of the hierarchies that hold containers: containers have a
 * memory (or pids, or cpu) cgroup on v1 and are in the unified tree on v2, so
 * walking those is enough to find them, at a fraction of walking every
 * hierarchy. In walk order (v1 first), each path once.
 */
export function listCgroupIds(mounts: CgroupMounts): string[] {
  const ids = new Set<string>();
  const v1 = ['memory', 'pids', 'cpu']
    .map((c) => mounts.hierarchies.find((h) => h.kind === 'v1' && h.controllers.includes(c)))
    .find((h) => h !== undefined);
  for (const h of [v1, mounts.unified]) {
    if (h) walkDirs(h.mountPoint, (dir) => ids.add(cgroupIdOf(h.mountPoint, dir)));
  }
  return [...ids];
}

/** Every cgroup of listCgroupIds with its identity, without reading any statistics. */
export function listCgroups(mounts: CgroupMounts, state: RuntimeStateReader): ListedCgroup[] {
  state.rescan();
  return listCgroupIds(mounts).map((id) => {
    const c = classifyCgroupPath(id);
    return { id, ...withDescription(identityFromPath(id, c), state.describe(c, id)) };
  });
}
