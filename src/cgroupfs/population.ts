// v2 cgroup.events as the tree uses it: whether it says the cgroup is empty,
// whether its kept bytes are fresh, which cgroups' copies a write to
// cgroup.freeze makes stale, and the resting files it lets the tree serve.

import { KEPT_NONE } from './kept.js';
import type { CgroupNode } from './node.js';

/** The line of cgroup.events that says no task is in the cgroup or below it. */
const POPULATED_0 = Buffer.from('populated 0\n', 'latin1');

/** Whether cgroup.events bytes say "populated 0". */
export function saysEmpty(data: Buffer, start: number, length: number): boolean {
  const end = start + length;
  for (let i = start; i + POPULATED_0.length <= end; i++) {
    if (data[i] !== 0x70) continue; // 'p'
    let j = 0;
    while (j < POPULATED_0.length && data[i + j] === POPULATED_0[j]) j++;
    if (j === POPULATED_0.length) return true;
  }
  return false;
}

/**
 * Marks cgroup.events (its slot) changed in a cgroup and every cgroup below
 * it. A write to cgroup.freeze sets "frozen" of an empty subtree before
 * write() returns, but the kernel's notification of cgroup.events comes
 * later (a work item, or up to 10 ms later under its rate limit): the tick
 * after the write must read it. Writes to cgroup.freeze are rare: a walk of
 * every cgroup each time is cheap.
 */
export function markEventsChangedBelow(nodes: Iterable<CgroupNode>, top: CgroupNode, slot: number): void {
  const prefix = top.id === '/' ? '/' : top.id + '/';
  for (const node of nodes) if (node === top || node.id.startsWith(prefix)) node.markChanged(slot);
}

/**
 * cgroup.events' kept bytes are what a read would give: the kernel notifies every change of it
 * (cgroup_file_notify, ~10 ms late at most; docs/architecture.md), and its live watch saw none
 * (nor a queue overflow) since the last read.
 */
export function eventsFresh(node: CgroupNode, slot: number): boolean {
  return node.watched[slot] === 1 && node.changed[slot] === 0 && node.keptLength[slot] >= 0;
}

/**
 * A read of a resting file (PSI) now serves its kept bytes: the cgroup was quiet and empty at this
 * tick (CgroupTree.beginTick, cgroup.events) and those bytes were at rest (see CgroupTree.readResting).
 */
export function restingServedKept(node: CgroupNode, slot: number, tick: number): boolean {
  return (
    node.quietTick === tick && node.emptyTick === tick && node.keptLength[slot] !== KEPT_NONE && node.atRest[slot] === 1
  );
}
