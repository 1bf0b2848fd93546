// LXC, LXD, Incus: <lxcRoot>/<name>/config. The name comes from the cgroup
// path; the config is optional and adds a few labels.

import { join } from 'node:path';
import { FileCache, safeComponent, sharedCache } from '../file-cache.js';
import type { ContainerDescription, RuntimeStateProvider, StateContext } from '../provider.js';

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

export class LxcStateProvider implements RuntimeStateProvider {
  readonly source = 'lxc';
  readonly rank = { lxc: 1 };

  constructor(private readonly ctx: StateContext) {}

  locations(): readonly string[] {
    return [this.ctx.options.lxcRoot];
  }

  /** Always a description: the path alone names an LXC container. */
  describe(name: string, lxcRoot: string): ContainerDescription {
    const cfg = readLxcConfig(lxcRoot, name, this.ctx.cache);
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
      source: cfg === null ? null : join(lxcRoot, name, 'config'),
    };
  }
}
