// Read container names, images and Kubernetes metadata from the runtimes' own
// state files on disk — no daemon, no socket. Every reader returns null on a
// missing, unreadable or corrupt file and never throws; FileCache remembers
// what it could not read so the caller can put it in a note.
//
// Formats (docs/runtimes.md links the sources):
// - docker   <dockerRoot>/containers/<id>/config.v2.json   (moby container.Container)
// - runc     <runcRoot>/<id>/state.json                     (libcontainer State, runc 1.1+)
// - podman   <podmanRoot>/storage/overlay-containers/containers.json, overlay-images/images.json
// - containerd <containerdRoot>/io.containerd.runtime.v2.task/<ns>/<id>/config.json (OCI spec, CRI annotations)
// - CRI-O    <crioRoot>/overlay-containers/<id>/userdata/config.json (OCI spec, CRI-O + kubelet annotations)
// - LXC      <lxcRoot>/<name>/config
// - tstop    <tstopRunDir>/<name>.json

import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesInfo, Runtime } from '../model/types.js';
import { type Classification, normalizeCgroupPath } from './classify.js';
import { MAX_STATE_FILE_BYTES, readStateFile, SkippedFile, SYMLINK_SKIPPED, tooLarge } from './state-file.js';

// ---------------------------------------------------------------------------
// Small typed JSON helpers (no `any`).

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A non-empty string, else null. */
function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function strRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

function strArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** A single, harmless path component (no "/", not "." or ".."). */
function safeComponent(s: string | null | undefined): s is string {
  return typeof s === 'string' && /^[A-Za-z0-9_][A-Za-z0-9_.@:+-]*$/.test(s) && s !== '.' && s !== '..';
}

function errorCode(e: unknown): string {
  if (isRecord(e) && typeof e.code === 'string') return e.code;
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------
// File cache: one stat per call; read and parse only when (ino, mtime, size) changed.
//
// State files are read only as regular files up to a size cap (state-file.ts).

interface CacheEntry {
  ino: number;
  mtimeMs: number;
  size: number;
  value: unknown;
  usedAt: number;
}

export class FileCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly issues = new Map<string, string>();
  private generation = 0;
  /** Counters, for tests and the bench: stat calls, and reads that parsed a file. */
  readonly counters = { stats: 0, reads: 0 };

  /**
   * Parsed content of `path`, or null when it is missing, unreadable or
   * parse() rejects it. parse may throw (invalid JSON): that is caught.
   * `tag` keeps two parsers of the same path apart.
   */
  read<T>(path: string, tag: string, parse: (text: string) => T | null): T | null {
    const key = `${tag}\0${path}`;
    this.counters.stats++;
    let st;
    try {
      st = lstatSync(path, { throwIfNoEntry: false });
    } catch (e) {
      this.forget(key, path, errorCode(e));
      return null;
    }
    if (st === undefined || st.isDirectory()) {
      this.forget(key, path, null);
      return null;
    }
    if (st.isSymbolicLink()) {
      this.forget(key, path, SYMLINK_SKIPPED);
      return null;
    }
    if (!st.isFile()) {
      this.forget(key, path, 'skipped: not a regular file');
      return null;
    }
    if (st.size > MAX_STATE_FILE_BYTES) {
      this.forget(key, path, tooLarge(st.size));
      return null;
    }
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.ino === st.ino && hit.mtimeMs === st.mtimeMs && hit.size === st.size) {
      hit.usedAt = this.generation;
      return hit.value as T | null;
    }
    let text: string;
    try {
      text = readStateFile(path);
      this.counters.reads++;
    } catch (e) {
      this.forget(
        key,
        path,
        e instanceof SkippedFile ? e.message : errorCode(e) === 'ELOOP' ? SYMLINK_SKIPPED : errorCode(e),
      );
      return null;
    }
    let value: T | null;
    try {
      value = parse(text);
      if (value === null) this.issues.set(path, 'unexpected format');
      else this.issues.delete(path);
    } catch (e) {
      value = null;
      this.issues.set(path, e instanceof SyntaxError ? 'invalid JSON' : `unparsable (${errorCode(e)})`);
    }
    // A corrupt file is remembered too, so it is not re-read until it changes.
    this.entries.set(key, { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, value, usedAt: this.generation });
    return value;
  }

  readJson<T>(path: string, tag: string, parse: (raw: unknown) => T | null): T | null {
    return this.read(path, tag, (text) => parse(JSON.parse(text) as unknown));
  }

  /** Directory entries, [] when missing or unreadable (noted unless missing). */
  list(dir: string): string[] {
    try {
      const names = readdirSync(dir);
      this.issues.delete(dir);
      return names.sort();
    } catch (e) {
      const code = errorCode(e);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.issues.set(dir, code);
      else this.issues.delete(dir);
      return [];
    }
  }

  private forget(key: string, path: string, issue: string | null): void {
    this.entries.delete(key);
    if (issue === null || issue === 'ENOENT' || issue === 'ENOTDIR') this.issues.delete(path);
    else this.issues.set(path, issue);
  }

  /** Files that exist but could not be read or parsed: "path: reason". */
  problems(): string[] {
    return [...this.issues.entries()].map(([p, why]) => `${p}: ${why}`).sort();
  }

  /** Drop entries not used since the previous sweep (containers that went away). */
  sweep(): void {
    for (const [key, e] of this.entries) if (e.usedAt < this.generation) this.entries.delete(key);
    this.generation++;
  }

  get size(): number {
    return this.entries.size;
  }
}

const sharedCache = new FileCache();

// ---------------------------------------------------------------------------
// Docker: <dockerRoot>/containers/<id>/config.v2.json

export interface DockerContainer {
  id: string;
  /** Without docker's leading "/". */
  name: string | null;
  /** Config.Image: the image name as the user typed it. */
  image: string | null;
  /** Image: "sha256:…" */
  imageId: string | null;
  created: string | null;
  labels: Record<string, string>;
  /** State.Pid; null when 0 (not running). */
  pid: number | null;
  running: boolean;
  paused: boolean;
  startedAt: string | null;
}

export function parseDockerConfig(raw: unknown): DockerContainer | null {
  if (!isRecord(raw)) return null;
  const id = str(raw.ID);
  if (id === null) return null;
  const state = isRecord(raw.State) ? raw.State : {};
  const config = isRecord(raw.Config) ? raw.Config : {};
  const name = str(raw.Name);
  const pid = num(state.Pid);
  return {
    id,
    name: name === null ? null : name.replace(/^\/+/, '') || null,
    image: str(config.Image),
    imageId: str(raw.Image),
    created: str(raw.Created),
    labels: strRecord(config.Labels),
    pid: pid !== null && pid > 0 ? pid : null,
    running: state.Running === true,
    paused: state.Paused === true,
    startedAt: str(state.StartedAt),
  };
}

export function dockerConfigPath(dockerRoot: string, id: string): string {
  return join(dockerRoot, 'containers', id, 'config.v2.json');
}

export function readDockerContainer(
  dockerRoot: string,
  id: string,
  cache: FileCache = sharedCache,
): DockerContainer | null {
  if (!safeComponent(id)) return null;
  return cache.readJson(dockerConfigPath(dockerRoot, id), 'docker', parseDockerConfig);
}

// ---------------------------------------------------------------------------
// runc: <runcRoot>/<id>/state.json

export interface RuncCgroupConfig {
  path: string | null;
  name: string | null;
  parent: string | null;
  scopePrefix: string | null;
  systemd: boolean;
}

export interface RuncContainer {
  id: string;
  root: string;
  stateFile: string;
  initPid: number | null;
  /** Start time of the init process in clock ticks since boot (/proc/<pid>/stat field 22). */
  initProcessStart: number | null;
  created: string | null;
  rootless: boolean;
  /** Controller → absolute path; "" is the unified (v2) hierarchy. */
  cgroupPaths: Record<string, string>;
  /** The container's cgroup as tstop ids it ("/" + path below the mount); null if unknown. */
  cgroupPath: string | null;
  /** config.labels "k=v" pairs: the OCI annotations plus runc's own bundle=…. */
  labels: Record<string, string>;
  bundle: string | null;
  cgroupConfig: RuncCgroupConfig | null;
}

/**
 * "kubepods-burstable-pod1.slice" → "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice",
 * as systemd nests slices by the dashes in their names. "-.slice" is the root.
 */
export function expandSlice(slice: string): string {
  if (slice === '' || slice === '-.slice') return '';
  if (!slice.endsWith('.slice')) return '/' + slice.replace(/^\/+/, '');
  const words = slice.slice(0, -'.slice'.length).split('-');
  const out: string[] = [];
  for (let i = 1; i <= words.length; i++) out.push(words.slice(0, i).join('-') + '.slice');
  return '/' + out.join('/');
}

/** "/sys/fs/cgroup/memory/docker/x" → "/docker/x" (v1), "/sys/fs/cgroup/system.slice/x" → "/system.slice/x" (v2). */
export function cgroupPathBelowMount(abs: string, mount: string, v1: boolean): string | null {
  const m = mount.replace(/\/+$/, '');
  if (abs !== m && !abs.startsWith(m + '/')) return null;
  let parts = abs
    .slice(m.length)
    .split('/')
    .filter((p) => p.length > 0);
  if (v1) parts = parts.slice(1);
  else if (parts[0] === 'unified') parts = parts.slice(1); // hybrid layout
  return '/' + parts.join('/');
}

const V1_PREFERENCE = ['memory', 'cpu', 'cpuacct', 'pids', 'devices', 'blkio', 'freezer', 'name=systemd'];

/** The container's cgroup path from state.json's cgroup_paths, else from config.cgroups. */
export function runcCgroupPath(
  cgroupPaths: Record<string, string>,
  config: RuncCgroupConfig | null,
  rootless: boolean,
  mount: string,
): string | null {
  const unified = cgroupPaths[''];
  if (unified) {
    const p = cgroupPathBelowMount(unified, mount, false);
    if (p !== null) return p;
  }
  const keys = [...V1_PREFERENCE, ...Object.keys(cgroupPaths).sort()];
  for (const k of keys) {
    const abs = cgroupPaths[k];
    if (k === '' || !abs) continue;
    const p = cgroupPathBelowMount(abs, mount, true);
    if (p !== null) return p;
  }
  if (config === null) return null;
  if (config.path !== null && !config.path.includes(':')) return normalizeCgroupPath(config.path);
  let { name, parent, scopePrefix } = config;
  if (config.path !== null) {
    // systemd driver given as "slice:prefix:name"
    const bits = config.path.split(':');
    if (bits.length === 3) [parent, scopePrefix, name] = bits;
  }
  if (name === null || name === '') return null;
  if (config.systemd || (config.path !== null && config.path.includes(':'))) {
    const slice = parent !== null && parent !== '' ? parent : rootless ? 'user.slice' : 'system.slice';
    const unit = name.endsWith('.slice') ? name : scopePrefix ? `${scopePrefix}-${name}.scope` : `${name}.scope`;
    return normalizeCgroupPath(expandSlice(slice) + '/' + unit);
  }
  return normalizeCgroupPath(`${parent ?? ''}/${name}`);
}

/** ["bundle=/x", "io.kubernetes.cri.container-name=app"] → record; first "=" splits. */
export function parseLabelPairs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const k = item.slice(0, eq);
    if (!(k in out)) out[k] = item.slice(eq + 1);
  }
  return out;
}

export function parseRuncState(
  raw: unknown,
  mount = '/sys/fs/cgroup',
): Omit<RuncContainer, 'root' | 'stateFile'> | null {
  if (!isRecord(raw)) return null;
  const id = str(raw.id);
  if (id === null) return null;
  const config = isRecord(raw.config) ? raw.config : {};
  const cg = isRecord(config.cgroups) ? config.cgroups : null;
  const cgroupConfig: RuncCgroupConfig | null =
    cg === null
      ? null
      : {
          path: str(cg.path),
          name: str(cg.name),
          parent: str(cg.parent),
          scopePrefix: str(cg.scope_prefix),
          systemd: cg.Systemd === true,
        };
  const cgroupPaths = strRecord(raw.cgroup_paths);
  const labels = parseLabelPairs(strArray(config.labels));
  const rootless = raw.rootless === true;
  const pid = num(raw.init_process_pid);
  return {
    id,
    initPid: pid !== null && pid > 0 ? pid : null,
    initProcessStart: num(raw.init_process_start),
    created: str(raw.created),
    rootless,
    cgroupPaths,
    cgroupPath: runcCgroupPath(cgroupPaths, cgroupConfig, rootless, mount),
    labels,
    bundle: labels.bundle ?? null,
    cgroupConfig,
  };
}

export function readRuncContainer(
  root: string,
  id: string,
  cache: FileCache = sharedCache,
  mount = '/sys/fs/cgroup',
): RuncContainer | null {
  if (!safeComponent(id)) return null;
  const stateFile = join(root, id, 'state.json');
  const parsed = cache.readJson(stateFile, `runc:${mount}`, (raw) => parseRuncState(raw, mount));
  if (parsed === null || parsed.id !== id) return null;
  return { ...parsed, root, stateFile };
}

/** Every container under one runc root (e.g. /run/runc, /run/docker/runtime-runc/moby). */
export function listRuncContainers(
  root: string,
  cache: FileCache = sharedCache,
  mount = '/sys/fs/cgroup',
): RuncContainer[] {
  const out: RuncContainer[] = [];
  for (const id of cache.list(root)) {
    const c = readRuncContainer(root, id, cache, mount);
    if (c !== null) out.push(c);
  }
  return out;
}

// ---------------------------------------------------------------------------
// containers/storage (podman, and CRI-O's storage): containers.json, images.json

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

// ---------------------------------------------------------------------------
// OCI runtime spec config.json (containerd tasks, CRI-O/podman userdata) and
// the Kubernetes metadata CRI runtimes put in its annotations.

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

export function crioConfigPath(storageRoot: string, id: string): string {
  return join(storageRoot, 'overlay-containers', id, 'userdata', 'config.json');
}

export interface CriInfo {
  containerType: 'sandbox' | 'container' | null;
  pod: string | null;
  namespace: string | null;
  podUid: string | null;
  /** "POD" for a sandbox (pause) container, as kubelet names it. */
  container: string | null;
  image: string | null;
  sandboxId: string | null;
  /** Which key family told: containerd CRI, CRI-O, or kubelet labels alone (dockershim). */
  flavour: 'containerd' | 'crio' | 'kubelet';
}

/** Kubernetes metadata from OCI annotations (containerd, CRI-O) or docker labels (dockershim, cri-dockerd). */
export function criInfoFromAnnotations(a: Record<string, string>): CriInfo | null {
  const get = (...keys: string[]): string | null => {
    for (const k of keys) if (a[k]) return a[k];
    return null;
  };
  const flavour: CriInfo['flavour'] | null =
    get('io.kubernetes.cri.container-type', 'io.kubernetes.cri.sandbox-id') !== null
      ? 'containerd'
      : get('io.kubernetes.cri-o.ContainerType', 'io.kubernetes.cri-o.SandboxID') !== null
        ? 'crio'
        : get('io.kubernetes.pod.name', 'io.kubernetes.pod.uid') !== null
          ? 'kubelet'
          : null;
  if (flavour === null) return null;
  const rawType = get(
    'io.kubernetes.cri.container-type',
    'io.kubernetes.cri-o.ContainerType',
    'io.kubernetes.docker.type',
  );
  const containerType =
    rawType === 'sandbox' || rawType === 'podsandbox' ? 'sandbox' : rawType === 'container' ? 'container' : null;
  let container = get('io.kubernetes.cri.container-name', 'io.kubernetes.container.name');
  if (containerType === 'sandbox') container = 'POD';
  return {
    containerType,
    pod: get('io.kubernetes.cri.sandbox-name', 'io.kubernetes.pod.name'),
    namespace: get('io.kubernetes.cri.sandbox-namespace', 'io.kubernetes.pod.namespace'),
    podUid: get('io.kubernetes.cri.sandbox-uid', 'io.kubernetes.pod.uid'),
    container,
    // CRI-O: ImageName is a resolved name; Image is what kubelet asked for (often an image id or digest).
    image: get('io.kubernetes.cri.image-name', 'io.kubernetes.cri-o.ImageName', 'io.kubernetes.cri-o.Image'),
    sandboxId: get('io.kubernetes.cri.sandbox-id', 'io.kubernetes.cri-o.SandboxID'),
    flavour,
  };
}

export interface KubeletName {
  /** "POD" for a sandbox. */
  container: string;
  pod: string;
  namespace: string;
  podUid: string;
  attempt: number;
}

/**
 * Names kubelet-era runtimes give containers: "k8s_<container>_<pod>_<ns>_<uid>_<attempt>"
 * (dockershim, CRI-O containers; dockershim sandboxes use container "POD") and
 * CRI-O's sandbox name "k8s_<pod>_<ns>_<uid>_<attempt>". Kubernetes names hold no "_".
 */
export function parseKubeletName(name: string): KubeletName | null {
  const parts = name.replace(/^\/+/, '').split('_');
  if (parts[0] !== 'k8s' || parts.some((p) => p.length === 0)) return null;
  let rest: string[];
  if (parts.length === 6) rest = parts.slice(1);
  else if (parts.length === 5) rest = ['POD', ...parts.slice(1)];
  else return null;
  const [container, pod, namespace, podUid, attemptText] = rest;
  if (!/^\d+$/.test(attemptText)) return null;
  return { container, pod, namespace, podUid, attempt: Number(attemptText) };
}

// ---------------------------------------------------------------------------
// LXC: <lxcRoot>/<name>/config

export interface LxcConfig {
  /** lxc.uts.name (lxc.utsname before LXC 2.1). */
  utsName: string | null;
  /** key → last value, comments and blank lines dropped. */
  entries: Record<string, string>;
}

export function parseLxcConfig(text: string): LxcConfig {
  const entries: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    if (eq <= 0) continue;
    entries[t.slice(0, eq).trim()] = t.slice(eq + 1).trim();
  }
  return { utsName: entries['lxc.uts.name'] || entries['lxc.utsname'] || null, entries };
}

export function readLxcConfig(lxcRoot: string, name: string, cache: FileCache = sharedCache): LxcConfig | null {
  if (!safeComponent(name)) return null;
  return cache.read(join(lxcRoot, name, 'config'), 'lxc', parseLxcConfig);
}

// ---------------------------------------------------------------------------
// tstop's own launches: <tstopRunDir>/<name>.json (read loosely).

export interface TstopState {
  name: string | null;
  image: string | null;
  pid: number | null;
  cgroup: string | null;
}

export function parseTstopState(raw: unknown): TstopState | null {
  if (!isRecord(raw)) return null;
  const pid = num(raw.pid);
  return {
    name: str(raw.name),
    image: str(raw.image),
    pid: pid !== null && pid > 0 && Number.isInteger(pid) ? pid : null,
    cgroup: str(raw.cgroup),
  };
}

export function readTstopState(runDir: string, name: string, cache: FileCache = sharedCache): TstopState | null {
  if (!safeComponent(name)) return null;
  return cache.readJson(join(runDir, `${name}.json`), 'tstop', parseTstopState);
}

// ---------------------------------------------------------------------------
// RuntimeStateReader: classification + cgroup id → name, image, Kubernetes.

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
  /** The container's init pid where the state tells. */
  pid: number | null;
  /** The state file the description came from; null when from the path alone. */
  source: string | null;
}

type Source =
  | { kind: 'docker' }
  | { kind: 'containerd'; namespace: string }
  | { kind: 'crio'; root: string }
  | { kind: 'storage' }
  | { kind: 'runc'; root: string };

type SourceFamily = Source['kind'];

const LOOKUP_ORDER: Partial<Record<Runtime, SourceFamily[]>> = {
  docker: ['docker', 'runc'],
  podman: ['storage', 'runc'],
  containerd: ['containerd', 'runc'],
  crio: ['crio', 'storage', 'runc'],
  kubernetes: ['containerd', 'docker', 'crio', 'storage', 'runc'],
  // The path did not name the engine: ask the richer sources first, runc last.
  runc: ['docker', 'containerd', 'storage', 'crio', 'runc'],
};

/** "pod/container" for CRI containers; whichever is known otherwise. */
function kubeDisplayName(cri: CriInfo): string | null {
  if (cri.pod !== null && cri.container !== null) return `${cri.pod}/${cri.container}`;
  return cri.container ?? cri.pod;
}

function kubeInfo(cri: CriInfo | null): KubernetesInfo | null {
  if (cri === null) return null;
  return { pod: cri.pod, namespace: cri.namespace, container: cri.container, podUid: cri.podUid };
}

export class RuntimeStateReader {
  readonly options: RuntimeStateOptions;
  readonly cache: FileCache;
  private scanned = false;
  private runc: RuncContainer[] = [];
  private runcByCgroup = new Map<string, RuncContainer>();
  private namespaces: string[] = [];
  /** runtime:id → the source that answered last time (so the next call costs one stat). */
  private readonly resolved = new Map<string, { source: Source; usedAt: number }>();
  /** runtime:id with no state anywhere; cleared by rescan(). */
  private readonly missing = new Set<string>();
  private generation = 0;

  constructor(options: Partial<RuntimeStateOptions> = {}, cache: FileCache = new FileCache()) {
    this.options = { ...DEFAULT_RUNTIME_STATE_OPTIONS, ...options };
    this.cache = cache;
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
    const all: RuncContainer[] = [];
    const byCgroup = new Map<string, RuncContainer>();
    for (const root of this.options.runcRoots) {
      for (const c of listRuncContainers(root, this.cache, this.options.cgroupMount)) {
        all.push(c);
        if (c.cgroupPath !== null && !byCgroup.has(c.cgroupPath)) byCgroup.set(c.cgroupPath, c);
      }
    }
    this.runc = all;
    this.runcByCgroup = byCgroup;
    this.namespaces = listContainerdNamespaces(this.options.containerdRoot, this.cache);
    this.scanned = true;
  }

  /** runc containers seen by the last rescan(). */
  runcContainers(): RuncContainer[] {
    this.ensureScanned();
    return this.runc;
  }

  /** The runc container whose cgroup is this path (for cgroups the path alone does not explain). */
  runcForCgroup(cgroupId: string): RuncContainer | null {
    this.ensureScanned();
    return this.runcByCgroup.get(normalizeCgroupPath(cgroupId)) ?? null;
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
    switch (c.runtime) {
      case 'systemd':
        return null;
      case 'lxc':
        return c.containerId === null ? null : this.describeLxc(c.containerId);
      case 'tstop':
        return c.containerId === null ? null : this.describeTstop(c.containerId);
      case 'cgroup': {
        const r = this.runcForCgroup(cgroupId);
        return r === null ? null : this.fromRunc(r);
      }
      default:
        break;
    }
    const id = c.containerId;
    const order = LOOKUP_ORDER[c.runtime];
    if (id === null || order === undefined || !safeComponent(id)) return null;
    const key = `${c.runtime}:${id}`;
    if (this.missing.has(key)) return null;

    const memo = this.resolved.get(key);
    if (memo !== undefined) {
      const d = this.fromSource(memo.source, id);
      if (d !== null) {
        memo.usedAt = this.generation;
        return this.finish(d, c);
      }
      this.resolved.delete(key);
    }
    for (const family of order) {
      for (const source of this.sources(family)) {
        const d = this.fromSource(source, id);
        if (d !== null) {
          this.resolved.set(key, { source, usedAt: this.generation });
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

  private sources(family: SourceFamily): Source[] {
    switch (family) {
      case 'docker':
        return [{ kind: 'docker' }];
      case 'storage':
        return [{ kind: 'storage' }];
      case 'containerd':
        this.ensureScanned();
        return this.namespaces.map((namespace) => ({ kind: 'containerd', namespace }));
      case 'crio':
        return this.options.crioRoots.map((root) => ({ kind: 'crio', root }));
      case 'runc':
        return this.options.runcRoots.map((root) => ({ kind: 'runc', root }));
    }
  }

  private fromSource(s: Source, id: string): ContainerDescription | null {
    switch (s.kind) {
      case 'docker':
        return this.fromDocker(id);
      case 'containerd':
        return this.fromContainerd(s.namespace, id);
      case 'crio':
        return this.fromCrio(s.root, id);
      case 'storage':
        return this.fromStorage(id);
      case 'runc': {
        const r = readRuncContainer(s.root, id, this.cache, this.options.cgroupMount);
        return r === null ? null : this.fromRunc(r);
      }
    }
  }

  /** Fill what the path knows and the state did not (pod UID, container id). */
  private finish(d: ContainerDescription, c: Classification): ContainerDescription {
    const podUid = c.kubernetes?.podUid ?? null;
    let kubernetes = d.kubernetes;
    if (kubernetes !== null && kubernetes.podUid === null && podUid !== null) kubernetes = { ...kubernetes, podUid };
    if (kubernetes === null && podUid !== null) kubernetes = { pod: null, namespace: null, container: null, podUid };
    return { ...d, kubernetes, containerId: d.containerId ?? c.containerId };
  }

  private fromDocker(id: string): ContainerDescription | null {
    const d = readDockerContainer(this.options.dockerRoot, id, this.cache);
    if (d === null) return null;
    return {
      runtime: 'docker',
      name: d.name,
      image: d.image,
      containerId: d.id,
      kubernetes: kubeInfo(criInfoFromAnnotations(d.labels)),
      labels: d.labels,
      pid: d.pid,
      source: dockerConfigPath(this.options.dockerRoot, id),
    };
  }

  private fromContainerd(namespace: string, id: string): ContainerDescription | null {
    const path = containerdTaskConfigPath(this.options.containerdRoot, namespace, id);
    const cfg = readOciConfig(path, this.cache);
    if (cfg === null) return null;
    if (namespace === 'moby') {
      // docker's own containers run as containerd tasks too; docker's state says more.
      const d = this.fromDocker(id);
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

  private fromCrio(root: string, id: string): ContainerDescription | null {
    const path = crioConfigPath(root, id);
    const cfg = readOciConfig(path, this.cache);
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

  private fromStorage(id: string): ContainerDescription | null {
    const storageDir = join(this.options.podmanRoot, 'storage');
    const containers = readStorageContainers(storageDir, this.cache);
    const sc = containers?.get(id);
    if (sc === undefined) return null;
    const meta = sc.metadata;
    let image = meta.imageName;
    if (image === null && sc.imageId !== null) {
      image = readStorageImages(storageDir, this.cache)?.get(sc.imageId)?.names[0] ?? null;
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

  private fromRunc(r: RuncContainer): ContainerDescription {
    const cri = criInfoFromAnnotations(r.labels);
    let runtime: Runtime = 'runc';
    if (r.labels['io.container.manager'] === 'libpod') runtime = 'podman';
    else if (cri?.flavour === 'containerd') runtime = 'containerd';
    else if (cri?.flavour === 'crio') runtime = 'crio';
    else if (/\/(docker|moby)(\/|$)/.test(r.root)) runtime = 'docker';
    if (runtime === 'docker') {
      // docker's runc root: docker's own state has the name and image.
      const d = this.fromDocker(r.id);
      if (d !== null) return d;
    }
    return {
      runtime,
      name: cri !== null ? kubeDisplayName(cri) : (r.labels['nerdctl/name'] ?? r.id),
      image: cri?.image ?? null,
      containerId: r.id,
      kubernetes: kubeInfo(cri),
      labels: r.labels,
      pid: r.initPid,
      source: r.stateFile,
    };
  }

  private describeLxc(name: string): ContainerDescription {
    const cfg = readLxcConfig(this.options.lxcRoot, name, this.cache);
    const labels: Record<string, string> = {};
    if (cfg !== null) {
      for (const k of ['lxc.uts.name', 'lxc.utsname', 'lxc.rootfs.path', 'lxc.arch']) {
        if (cfg.entries[k]) labels[k] = cfg.entries[k];
      }
    }
    return {
      runtime: 'lxc',
      name,
      image: null,
      containerId: name,
      kubernetes: null,
      labels,
      pid: null,
      source: cfg === null ? null : join(this.options.lxcRoot, name, 'config'),
    };
  }

  private describeTstop(name: string): ContainerDescription {
    const st = readTstopState(this.options.tstopRunDir, name, this.cache);
    return {
      runtime: 'tstop',
      name: st?.name ?? name,
      image: st?.image ?? null,
      containerId: name,
      kubernetes: null,
      labels: {},
      pid: st?.pid ?? null,
      source: st === null ? null : join(this.options.tstopRunDir, `${name}.json`),
    };
  }
}
