// The OCI runtime spec's config.json (containerd tasks, CRI-O and podman
// userdata) and containerd's tasks:
// <containerdRoot>/io.containerd.runtime.v2.task/<namespace>/<id>/config.json,
// whose annotations carry the CRI metadata (src/discovery/cri.ts) or nerdctl's name.

import { join } from 'node:path';
import { criInfoFromAnnotations, kubeDisplayName, kubeInfo } from '../cri.js';
import { FileCache, safeComponent, sharedCache } from '../file-cache.js';
import { isRecord, str, strRecord } from '../json.js';
import type { ContainerDescription, RuntimeStateProvider, StateContext } from '../provider.js';
import { describeDocker } from './docker.js';

export interface OciConfig {
  annotations: Record<string, string>;
  hostname: string | null;
  cgroupsPath: string | null;
}

export function parseOciConfig(raw: unknown): OciConfig | null {
  if (!isRecord(raw)) return null;
  // Every runtime-spec config carries ociVersion; refuse unrelated JSON.
  if (str(raw.ociVersion) === null) return null;
  const linux = isRecord(raw.linux) ? raw.linux : {};
  return { annotations: strRecord(raw.annotations), hostname: str(raw.hostname), cgroupsPath: str(linux.cgroupsPath) };
}

export function readOciConfig(path: string, cache: FileCache = sharedCache): OciConfig | null {
  return cache.readJson(path, 'oci', parseOciConfig);
}

export function containerdTaskConfigPath(containerdRoot: string, namespace: string, id: string): string {
  return join(containerdRoot, 'io.containerd.runtime.v2.task', namespace, id, 'config.json');
}

/** containerd namespaces that have tasks, "k8s.io" first. */
export function listContainerdNamespaces(containerdRoot: string, cache: FileCache = sharedCache): string[] {
  const names = cache.list(join(containerdRoot, 'io.containerd.runtime.v2.task')).filter((n) => safeComponent(n));
  const rank = (n: string): number => (n === 'k8s.io' ? 0 : n === 'moby' ? 1 : 2);
  return names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export class ContainerdStateProvider implements RuntimeStateProvider {
  readonly source = 'containerd';
  // First for kubepods ids: containerd is the common CRI runtime.
  readonly rank = { containerd: 1, kubernetes: 1, runc: 2 };
  private namespaces: string[] = [];

  constructor(private readonly ctx: StateContext) {}

  rescan(): void {
    this.namespaces = listContainerdNamespaces(this.ctx.options.containerdRoot, this.ctx.cache);
  }

  /** The namespaces that had tasks at the last rescan. */
  locations(): readonly string[] {
    this.ctx.ensureScanned();
    return this.namespaces;
  }

  describe(id: string, namespace: string): ContainerDescription | null {
    if (!safeComponent(id)) return null;
    const path = containerdTaskConfigPath(this.ctx.options.containerdRoot, namespace, id);
    const cfg = readOciConfig(path, this.ctx.cache);
    if (cfg === null) return null;
    if (namespace === 'moby') {
      // docker's own containers run as containerd tasks too; docker's state says more.
      const d = describeDocker(id, this.ctx);
      if (d !== null) return d;
    }
    const cri = criInfoFromAnnotations(cfg.annotations);
    return {
      runtime: namespace === 'moby' ? 'docker' : 'containerd',
      name: cri !== null ? kubeDisplayName(cri) : (cfg.annotations['nerdctl/name'] ?? null),
      image: cri?.image ?? null,
      containerId: id,
      kubernetes: kubeInfo(cri),
      labels: cfg.annotations,
      pid: null,
      source: path,
    };
  }
}
