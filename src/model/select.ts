// Which cgroups a face shows: by default the recognised containers and the
// cgroups with processes in their subtree; --all shows every cgroup; a
// filter (regular expression, case-insensitive) matches the same fields in
// every face: the name, the cgroup path, the container id, the image, and the
// host in the fleet view. (Once only the dashboard matched the image, so
// `--filter evalbox` found a container there and nothing in `snapshot`.)

import { instanceOf, type ContainerSnapshot } from './types.js';

/** Runtimes whose cgroups are containers (the exporter names them as cAdvisor does; raw cgroups and units get ""). */
export function isContainerRuntime(runtime: ContainerSnapshot['runtime']): boolean {
  return runtime !== 'cgroup' && runtime !== 'systemd';
}

/**
 * How many containers the cgroups hold: distinct container ids (per host in
 * the fleet view) of container runtimes. Runtime parents (/docker, /tstop,
 * kubepods slices) have no id, and cgroups nested in a container share its id.
 */
export function countContainers(containers: readonly ContainerSnapshot[]): number {
  const ids = new Set<string>();
  for (const c of containers) {
    if (c.containerId !== null && isContainerRuntime(c.runtime)) ids.add(`${instanceOf(c) ?? ''}\0${c.containerId}`);
  }
  return ids.size;
}

/** A --filter value as the regular expression every face uses; throws SyntaxError when it is not one. */
export function filterRegex(text: string): RegExp {
  return new RegExp(text, 'i');
}

/** Whether a filter matches the container: name, cgroup path, container id, image or fleet host. */
export function matchesFilter(re: RegExp, c: ContainerSnapshot): boolean {
  const instance = instanceOf(c);
  return (
    re.test(c.name) ||
    re.test(c.id) ||
    (c.containerId !== null && re.test(c.containerId)) ||
    (c.image !== null && re.test(c.image)) ||
    (instance !== null && re.test(instance))
  );
}

export interface Selection {
  all?: boolean;
  filter?: RegExp | null;
}

export function isShownByDefault(c: ContainerSnapshot): boolean {
  return c.runtime !== 'cgroup' || c.populated;
}

export function selectContainers(containers: ContainerSnapshot[], sel: Selection): ContainerSnapshot[] {
  return containers.filter((c) => (sel.all || isShownByDefault(c)) && (!sel.filter || matchesFilter(sel.filter, c)));
}

/** Highest CPU first, then memory, then id: the order of `top`. */
export function byCpuThenMemory(a: ContainerSnapshot, b: ContainerSnapshot): number {
  const cpu = (b.cpu?.percent ?? -1) - (a.cpu?.percent ?? -1);
  if (cpu !== 0) return cpu;
  const mem = (b.memory?.workingSetBytes ?? -1) - (a.memory?.workingSetBytes ?? -1);
  if (mem !== 0) return mem;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
