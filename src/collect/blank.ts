// A cgroup's container at the start of a tick: its identity, every figure
// still unknown (the collectors fill them in). Written into an older
// container object when the collector reuses them (reuseContainers in
// collector.ts), else a new object; the same fields in the same order either
// way, so both have one shape.

import type { CgroupNode } from '../cgroupfs/tree.js';
import type { CgroupIdentity } from '../discovery/listing.js';
import type { ContainerSnapshot } from '../model/types.js';
import { NO_PROCESSES } from './focus-carry.js';

/** The container of node with this identity, written into spare when given. */
export function blankContainer(
  node: CgroupNode,
  identity: CgroupIdentity,
  spare: ContainerSnapshot | null,
): ContainerSnapshot {
  if (spare !== null) {
    // The same fields in the same order as the literal below: the object keeps its shape.
    spare.id = node.id;
    spare.name = identity.name;
    spare.runtime = identity.runtime;
    spare.containerId = identity.containerId;
    spare.image = identity.image;
    spare.kubernetes = identity.kubernetes;
    spare.labels = identity.labels;
    spare.runtimeConfig = identity.runtimeConfig;
    spare.inode = node.inode;
    spare.populated = false;
    spare.processes = NO_PROCESSES;
    spare.initPid = null;
    spare.startTimeSeconds = null;
    spare.cpu = null;
    spare.memory = null;
    spare.io = null;
    spare.pids = null;
    spare.devices = null;
    spare.hugetlb = null;
    spare.freezer = null;
    spare.pressure = null;
    spare.namespaces = null;
    spare.capabilities = null;
    spare.network = null;
    return spare;
  }
  return {
    id: node.id,
    name: identity.name,
    runtime: identity.runtime,
    containerId: identity.containerId,
    image: identity.image,
    kubernetes: identity.kubernetes,
    labels: identity.labels,
    runtimeConfig: identity.runtimeConfig,
    inode: node.inode,
    populated: false,
    processes: NO_PROCESSES,
    initPid: null,
    startTimeSeconds: null,
    cpu: null,
    memory: null,
    io: null,
    pids: null,
    devices: null,
    hugetlb: null,
    freezer: null,
    pressure: null,
    namespaces: null,
    capabilities: null,
    network: null,
  };
}
