// What the collection keeps of each cgroup between ticks (CgroupNode.memo):
// its identity, its init process, its last container and what the carry of
// unchanged values noted (src/collect/unchanged.ts).

import type { Classification } from '../discovery/classify.js';
import type { CgroupIdentity } from '../discovery/listing.js';
import type { Capabilities, ContainerSnapshot, Namespaces } from '../model/types.js';
import { NOTHING_STALE } from './focus-carry.js';
import type { ReadsMemo } from './unchanged.js';

export interface NodeMemo extends CgroupIdentity, ReadsMemo {
  classification: Classification;
  initPid: number | null;
  startTimeSeconds: number | null;
  namespaces: Namespaces | null;
  capabilities: Capabilities | null;
  /** This cgroup's snapshot of the previous tick: collectors reuse unchanged values from it. */
  last: ContainerSnapshot | null;
  /** With reuseContainers: the container of the tick before last, which this tick's is written into. */
  spare: ContainerSnapshot | null;
  /** Runtime state (name, image) looked up; refreshed at rescans. */
  described: boolean;
  /** A docker container whose state (config.v2.json) was not found: named by its id. */
  stateMissing: boolean;
  /** The runtime state file the identity came from; re-checked with the limits (a rename, docker update). */
  stateSource: string | null;
  /** Set at each rescan: the init process's capabilities are read again (they can be dropped after start). */
  capabilitiesStale: boolean;
  /** Monotonic ms of the last tick that read every file of this cgroup (see focus). */
  fullAtMs: number;
  /** Monotonic ms of the last tick that re-read this cgroup's settings (with a focus, per cgroup: see settingsDue). */
  settingsAtMs: number;
  /** Where in the slow refresh period this cgroup's turn falls (0..1), so turns spread over ticks. */
  phase: number;
  /** Fields the latest snapshot carried over from an older tick. */
  stale: readonly (keyof ContainerSnapshot)[];
  /** Monotonic seconds of the tick that read io, and of the one before (rates across carried-over ticks). */
  ioAtSeconds: number;
  ioBeforeSeconds: number;
  /** "populated" as the collectors filled it, before markPopulated adds the descendants' processes. */
  ownPopulated: boolean;
}

/**
 * A new cgroup's memo. Every field is written out in one literal, not spread
 * in from its parts: a literal of spreads and many more fields gave each memo
 * a hidden class of its own (V8), which made every read of a memo's field in
 * the tick megamorphic (~2,000 classes at 2,000 cgroups).
 */
export function newNodeMemo(classification: Classification, identity: CgroupIdentity, phase: number): NodeMemo {
  return {
    runtime: identity.runtime,
    name: identity.name,
    containerId: identity.containerId,
    image: identity.image,
    kubernetes: identity.kubernetes,
    labels: identity.labels,
    runtimeConfig: identity.runtimeConfig,
    classification,
    initPid: null,
    startTimeSeconds: null,
    namespaces: null,
    capabilities: null,
    last: null,
    spare: null,
    described: false,
    stateMissing: false,
    stateSource: null,
    capabilitiesStale: false,
    fullAtMs: -Infinity,
    settingsAtMs: -Infinity,
    phase,
    stale: NOTHING_STALE,
    ioAtSeconds: -Infinity,
    ioBeforeSeconds: -Infinity,
    ownPopulated: false,
    // ReadsMemo (src/collect/unchanged.ts): nothing noted yet
    reads: null,
    settingsSure: false,
    settingEpoch: -1,
    stable: 0,
    dirsVersion: -1,
    contextVersion: -1,
  };
}
