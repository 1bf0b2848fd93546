// Docker: <dockerRoot>/containers/<id>/config.v2.json (moby container.Container).

import { join } from 'node:path';
import { criInfoFromAnnotations, kubeInfo } from '../cri.js';
import { FileCache, safeComponent, sharedCache } from '../file-cache.js';
import { isRecord, num, str, strRecord } from '../json.js';
import type { RuntimeConfig } from '../../model/types.js';
import type { ContainerDescription, RuntimeStateProvider, StateContext } from '../provider.js';

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

/** The limits of hostconfig.json (docker run/update's --memory, --cpus, --pids-limit); `paused` comes from config.v2.json. */
export function parseDockerHostConfig(raw: unknown): Omit<RuntimeConfig, 'paused'> | null {
  if (!isRecord(raw)) return null;
  const memory = num(raw.Memory);
  const nanoCpus = num(raw.NanoCpus);
  const quota = num(raw.CpuQuota);
  const period = num(raw.CpuPeriod);
  const pids = num(raw.PidsLimit);
  let cpus: number | null = null;
  if (nanoCpus !== null && nanoCpus > 0) cpus = nanoCpus / 1e9;
  // docker's default period when only --cpu-quota is given is the kernel's 100 ms.
  else if (quota !== null && quota > 0) cpus = quota / (period !== null && period > 0 ? period : 100_000);
  return {
    memoryLimitBytes: memory !== null && memory > 0 ? memory : null,
    cpus,
    pidsLimit: pids !== null && pids > 0 ? pids : null,
  };
}

export function dockerHostConfigPath(dockerRoot: string, id: string): string {
  return join(dockerRoot, 'containers', id, 'hostconfig.json');
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

// `id` is the checked directory name, not the file's own ID field.
function dockerRuntimeConfig(id: string, d: DockerContainer, ctx: StateContext): RuntimeConfig | null {
  const host = ctx.cache.readJson(dockerHostConfigPath(ctx.options.dockerRoot, id), 'docker', parseDockerHostConfig);
  return host === null ? null : { ...host, paused: d.paused };
}

/** A docker container as tstop shows it; also asked by the containerd and runc providers for docker's tasks. */
export function describeDocker(id: string, ctx: StateContext): ContainerDescription | null {
  const d = readDockerContainer(ctx.options.dockerRoot, id, ctx.cache);
  if (d === null) return null;
  return {
    runtime: 'docker',
    name: d.name,
    image: d.image,
    containerId: d.id,
    kubernetes: kubeInfo(criInfoFromAnnotations(d.labels)),
    labels: d.labels,
    runtimeConfig: dockerRuntimeConfig(id, d, ctx),
    pid: d.pid,
    source: dockerConfigPath(ctx.options.dockerRoot, id),
  };
}

export class DockerStateProvider implements RuntimeStateProvider {
  readonly source = 'docker';
  // Also asked for ids the path did not place (kubepods with docker under dockershim, bare ids).
  readonly rank = { docker: 1, kubernetes: 2, runc: 1 };

  constructor(private readonly ctx: StateContext) {}

  locations(): readonly string[] {
    return [this.ctx.options.dockerRoot];
  }

  describe(id: string): ContainerDescription | null {
    return describeDocker(id, this.ctx);
  }
}
