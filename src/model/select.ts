// Which cgroups a face shows: by default the recognised containers and the
// cgroups with processes in their subtree; --all shows every cgroup; a
// filter (regular expression) matches the id or the name.

import type { ContainerSnapshot } from './types.js';

export interface Selection {
  all?: boolean;
  filter?: RegExp | null;
}

export function isShownByDefault(c: ContainerSnapshot): boolean {
  return c.runtime !== 'cgroup' || c.populated;
}

export function selectContainers(containers: ContainerSnapshot[], sel: Selection): ContainerSnapshot[] {
  return containers.filter(
    (c) => (sel.all || isShownByDefault(c)) && (!sel.filter || sel.filter.test(c.id) || sel.filter.test(c.name)),
  );
}

/** Highest CPU first, then memory, then id: the order of `top`. */
export function byCpuThenMemory(a: ContainerSnapshot, b: ContainerSnapshot): number {
  const cpu = (b.cpu?.percent ?? -1) - (a.cpu?.percent ?? -1);
  if (cpu !== 0) return cpu;
  const mem = (b.memory?.workingSetBytes ?? -1) - (a.memory?.workingSetBytes ?? -1);
  if (mem !== 0) return mem;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
