// containers/storage, the store podman and CRI-O share:
// - podman: <podmanRoot>/storage/overlay-containers/containers.json (+ volatile-containers.json)
//   and overlay-images/images.json;
// - CRI-O: <crioRoot>/overlay-containers/<id>/userdata/config.json (an OCI config
//   with CRI-O's and kubelet's annotations), and the same containers.json as fallback.

import { join } from 'node:path';
import { criInfoFromAnnotations, kubeDisplayName, kubeInfo, parseKubeletName } from '../cri.js';
import { FileCache, safeComponent, sharedCache } from '../file-cache.js';
import { isRecord, num, str, strArray } from '../json.js';
import type { ContainerDescription, RuntimeStateProvider, StateContext } from '../provider.js';
import { readOciConfig } from './oci.js';

export interface StorageContainerMetadata {
  /** podman: the container name; CRI-O: its generated k8s_… name. */
  name: string | null;
  imageName: string | null;
  imageId: string | null;
  /** CRI-O only. */
  podName: string | null;
  podId: string | null;
  /** CRI-O: the container's name in the pod spec. */
  metadataName: string | null;
  createdAt: number | null;
}

export interface StorageContainer {
  id: string;
  names: string[];
  imageId: string | null;
  layer: string | null;
  created: string | null;
  metadata: StorageContainerMetadata;
}

export interface StorageImage {
  id: string;
  names: string[];
  digest: string | null;
  created: string | null;
}

function parseStorageMetadata(v: unknown): StorageContainerMetadata {
  let m: Record<string, unknown> = {};
  if (typeof v === 'string' && v.length > 0) {
    try {
      const parsed: unknown = JSON.parse(v);
      if (isRecord(parsed)) m = parsed;
    } catch {
      // metadata is free-form for other users of containers/storage (buildah)
    }
  }
  return {
    name: str(m.name),
    imageName: str(m['image-name']),
    imageId: str(m['image-id']),
    podName: str(m['pod-name']),
    podId: str(m['pod-id']),
    metadataName: str(m['metadata-name']),
    createdAt: num(m['created-at']),
  };
}

export function parseStorageContainers(raw: unknown): StorageContainer[] | null {
  if (!Array.isArray(raw)) return null;
  const out: StorageContainer[] = [];
  for (const c of raw) {
    if (!isRecord(c)) continue;
    const id = str(c.id);
    if (id === null) continue;
    out.push({
      id,
      names: strArray(c.names),
      imageId: str(c.image),
      layer: str(c.layer),
      created: str(c.created),
      metadata: parseStorageMetadata(c.metadata),
    });
  }
  return out;
}

export function parseStorageImages(raw: unknown): StorageImage[] | null {
  if (!Array.isArray(raw)) return null;
  const out: StorageImage[] = [];
  for (const i of raw) {
    if (!isRecord(i)) continue;
    const id = str(i.id);
    if (id === null) continue;
    out.push({ id, names: strArray(i.names), digest: str(i.digest), created: str(i.created) });
  }
  return out;
}

function byId<T extends { id: string }>(list: T[] | null): Map<string, T> | null {
  return list === null ? null : new Map(list.map((x) => [x.id, x]));
}

/**
 * Containers of one containers/storage graph root (e.g. /var/lib/containers/storage):
 * <driver>-containers/containers.json plus volatile-containers.json. null when neither is readable.
 */
export function readStorageContainers(
  storageDir: string,
  cache: FileCache = sharedCache,
  driver = 'overlay',
): Map<string, StorageContainer> | null {
  const dir = join(storageDir, `${driver}-containers`);
  const stable = cache.readJson(join(dir, 'containers.json'), 'storage-containers', (r) =>
    byId(parseStorageContainers(r)),
  );
  const volatile = cache.readJson(join(dir, 'volatile-containers.json'), 'storage-containers', (r) =>
    byId(parseStorageContainers(r)),
  );
  if (stable === null && volatile === null) return null;
  if (volatile === null || volatile.size === 0) return stable ?? new Map();
  if (stable === null || stable.size === 0) return volatile;
  return new Map([...volatile, ...stable]);
}

export function readStorageImages(
  storageDir: string,
  cache: FileCache = sharedCache,
  driver = 'overlay',
): Map<string, StorageImage> | null {
  return cache.readJson(join(storageDir, `${driver}-images`, 'images.json'), 'storage-images', (r) =>
    byId(parseStorageImages(r)),
  );
}

export function crioConfigPath(storageRoot: string, id: string): string {
  return join(storageRoot, 'overlay-containers', id, 'userdata', 'config.json');
}

/** CRI-O's per-container OCI config under each of its storage roots. */
export class CrioStateProvider implements RuntimeStateProvider {
  readonly source = 'crio';
  readonly rank = { crio: 1, kubernetes: 3, runc: 4 };

  constructor(private readonly ctx: StateContext) {}

  locations(): readonly string[] {
    return this.ctx.options.crioRoots;
  }

  describe(id: string, root: string): ContainerDescription | null {
    if (!safeComponent(id)) return null;
    const path = crioConfigPath(root, id);
    const cfg = readOciConfig(path, this.ctx.cache);
    if (cfg === null) return null;
    const cri = criInfoFromAnnotations(cfg.annotations);
    const podman = cfg.annotations['io.container.manager'] === 'libpod';
    return {
      runtime: podman ? 'podman' : 'crio',
      name: cri !== null ? kubeDisplayName(cri) : null,
      image: cri?.image ?? null,
      containerId: id,
      kubernetes: kubeInfo(cri),
      labels: cfg.annotations,
      pid: null,
      source: path,
    };
  }
}

/** podman's containers.json (and CRI-O's, when its config.json is gone or unreadable). */
export class StorageStateProvider implements RuntimeStateProvider {
  readonly source = 'storage';
  readonly rank = { podman: 1, crio: 2, kubernetes: 4, runc: 3 };

  constructor(private readonly ctx: StateContext) {}

  locations(): readonly string[] {
    return [join(this.ctx.options.podmanRoot, 'storage')];
  }

  describe(id: string, storageDir: string): ContainerDescription | null {
    if (!safeComponent(id)) return null;
    const containers = readStorageContainers(storageDir, this.ctx.cache);
    const sc = containers?.get(id);
    if (sc === undefined) return null;
    const meta = sc.metadata;
    let image = meta.imageName;
    if (image === null && sc.imageId !== null) {
      image = readStorageImages(storageDir, this.ctx.cache)?.get(sc.imageId)?.names[0] ?? null;
    }
    const source = join(storageDir, 'overlay-containers', 'containers.json');
    if (meta.podName !== null) {
      // CRI-O's storage metadata (when its config.json is gone or unreadable):
      // pod-name is the sandbox's k8s_<pod>_<ns>_<uid>_<n>, name the container's k8s_… name.
      const parsed = parseKubeletName(meta.name ?? '') ?? parseKubeletName(meta.podName);
      const container = parsed?.container ?? meta.metadataName;
      const pod = parsed?.pod ?? null;
      return {
        runtime: 'crio',
        name: pod !== null && container !== null ? `${pod}/${container}` : (container ?? meta.podName),
        image,
        containerId: id,
        kubernetes: { pod, namespace: parsed?.namespace ?? null, container, podUid: parsed?.podUid ?? null },
        labels: {},
        pid: null,
        source,
      };
    }
    return {
      runtime: 'podman',
      name: sc.names[0] ?? meta.name,
      image,
      containerId: id,
      kubernetes: null,
      labels: {},
      pid: null,
      source,
    };
  }
}
