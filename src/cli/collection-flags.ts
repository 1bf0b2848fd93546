// Flags every collecting command shares: where the host's filesystem is and
// where the runtimes keep their state (for names and images, no daemon).

import path from 'node:path';
import type { CollectorOptions } from '../collect/collector.js';
import { listFlag, stringFlag, type FlagSpec, type ParsedFlags } from './command.js';

/** --all: what every face means by it (src/model/select.ts). */
export const ALL_FLAG: FlagSpec = {
  name: 'all',
  short: 'a',
  type: 'boolean',
  description: 'every cgroup, not only containers and cgroups with processes',
};

/** --filter: the regex every face matches cgroups with (src/model/select.ts). */
export const FILTER_FLAG: FlagSpec = {
  name: 'filter',
  short: 'f',
  type: 'string',
  value: 'REGEX',
  description:
    'only cgroups whose name, cgroup path, container id or image matches (case-insensitive, as the dashboard)',
};

export const COLLECTION_FLAGS: FlagSpec[] = [
  {
    name: 'root',
    type: 'string',
    value: 'DIR',
    description: 'read the host filesystem mounted at DIR (e.g. /host in a monitoring container)',
    default: '/',
  },
  {
    name: 'docker-root',
    type: 'string',
    value: 'DIR',
    description: "docker's data root, for container names and images",
    default: '<root>/var/lib/docker',
  },
  {
    name: 'runc-root',
    type: 'string',
    value: 'DIR',
    multiple: true,
    description: 'runc state directory (repeatable)',
    default: '<root>/run/runc and the docker/containerd ones',
  },
  {
    name: 'podman-root',
    type: 'string',
    value: 'DIR',
    description: "podman's containers storage root",
    default: '<root>/var/lib/containers',
  },
  {
    name: 'containerd-root',
    type: 'string',
    value: 'DIR',
    description: "containerd's state directory",
    default: '<root>/run/containerd',
  },
  {
    name: 'crio-root',
    type: 'string',
    value: 'DIR',
    multiple: true,
    description: 'CRI-O container storage (repeatable)',
    default: '<root>/run/containers/storage',
  },
];

export function collectorOptions(flags: ParsedFlags): CollectorOptions {
  const root = path.resolve(stringFlag(flags, 'root') ?? '/');
  const under = (p: string): string => path.join(root, p);
  const runc = listFlag(flags, 'runc-root');
  const crio = listFlag(flags, 'crio-root');
  return {
    root,
    dockerRoot: stringFlag(flags, 'docker-root') ?? under('var/lib/docker'),
    runcRoots:
      runc.length > 0
        ? runc
        : [under('run/runc'), under('run/docker/runtime-runc/moby'), under('run/containerd/runc/k8s.io')],
    podmanRoot: stringFlag(flags, 'podman-root') ?? under('var/lib/containers'),
    containerdRoot: stringFlag(flags, 'containerd-root') ?? under('run/containerd'),
    crioRoots: crio.length > 0 ? crio : [under('run/containers/storage'), under('var/lib/containers/storage')],
    lxcRoot: under('var/lib/lxc'),
    tstopRunDir: under('run/tstop'),
  };
}
