// tstop's own launches: <tstopRunDir>/<name>.json, written by src/launcher
// (read loosely: unknown fields are ignored). The name comes from the cgroup path.

import { join } from 'node:path';
import { FileCache, safeComponent, sharedCache } from '../file-cache.js';
import { isRecord, num, str } from '../json.js';
import type { ContainerDescription, RuntimeStateProvider, StateContext } from '../provider.js';

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

export class TstopStateProvider implements RuntimeStateProvider {
  readonly source = 'tstop';
  readonly rank = { tstop: 1 };

  constructor(private readonly ctx: StateContext) {}

  locations(): readonly string[] {
    return [this.ctx.options.tstopRunDir];
  }

  /** Always a description: the path alone names a tstop container. */
  describe(name: string, runDir: string): ContainerDescription {
    const st = readTstopState(runDir, name, this.ctx.cache);
    return {
      runtime: 'tstop',
      name: st?.name ?? name,
      image: st?.image ?? null,
      containerId: name,
      kubernetes: null,
      labels: {},
      pid: st?.pid ?? null,
      source: st === null ? null : join(runDir, `${name}.json`),
    };
  }
}
