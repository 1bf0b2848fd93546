// runc: <runcRoot>/<id>/state.json (libcontainer State, runc 1.1+). Every OCI
// engine that runs runc leaves one, so runc is the last resort for any id, and
// the only state that maps a custom cgroupsPath back to its container.

import { join } from 'node:path';
import type { Runtime } from '../../model/types.js';
import { normalizeCgroupPath } from '../classify.js';
import { criInfoFromAnnotations, kubeDisplayName, kubeInfo } from '../cri.js';
import { FileCache, safeComponent, sharedCache } from '../file-cache.js';
import { isRecord, num, str, strArray, strRecord } from '../json.js';
import type { ContainerDescription, RuntimeStateProvider, StateContext } from '../provider.js';
import { describeDocker } from './docker.js';

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

/** A runc container as tstop shows it: the engine its labels or root tell, docker's own state for docker's. */
export function describeRunc(r: RuncContainer, ctx: StateContext): ContainerDescription {
  const cri = criInfoFromAnnotations(r.labels);
  let runtime: Runtime = 'runc';
  if (r.labels['io.container.manager'] === 'libpod') runtime = 'podman';
  else if (cri?.flavour === 'containerd') runtime = 'containerd';
  else if (cri?.flavour === 'crio') runtime = 'crio';
  else if (/\/(docker|moby)(\/|$)/.test(r.root)) runtime = 'docker';
  if (runtime === 'docker') {
    // docker's runc root: docker's own state has the name and image.
    const d = describeDocker(r.id, ctx);
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

export class RuncStateProvider implements RuntimeStateProvider {
  readonly source = 'runc';
  // Last for every OCI runtime: the engines' own state says more.
  readonly rank = { docker: 9, podman: 9, containerd: 9, crio: 9, kubernetes: 9, runc: 9 };
  private all: RuncContainer[] = [];
  private byCgroup = new Map<string, RuncContainer>();

  constructor(private readonly ctx: StateContext) {}

  rescan(): void {
    const all: RuncContainer[] = [];
    const byCgroup = new Map<string, RuncContainer>();
    for (const root of this.ctx.options.runcRoots) {
      for (const c of listRuncContainers(root, this.ctx.cache, this.ctx.options.cgroupMount)) {
        all.push(c);
        if (c.cgroupPath !== null && !byCgroup.has(c.cgroupPath)) byCgroup.set(c.cgroupPath, c);
      }
    }
    this.all = all;
    this.byCgroup = byCgroup;
  }

  /** runc containers seen by the last rescan. */
  containers(): RuncContainer[] {
    this.ctx.ensureScanned();
    return this.all;
  }

  /** The runc container whose cgroup is this path (for cgroups the path alone does not explain). */
  forCgroup(cgroupId: string): RuncContainer | null {
    this.ctx.ensureScanned();
    return this.byCgroup.get(normalizeCgroupPath(cgroupId)) ?? null;
  }

  locations(): readonly string[] {
    return this.ctx.options.runcRoots;
  }

  describe(id: string, root: string): ContainerDescription | null {
    const r = readRuncContainer(root, id, this.ctx.cache, this.ctx.options.cgroupMount);
    return r === null ? null : describeRunc(r, this.ctx);
  }

  describeCgroup(cgroupId: string): ContainerDescription | null {
    const r = this.forCgroup(cgroupId);
    return r === null ? null : describeRunc(r, this.ctx);
  }
}
