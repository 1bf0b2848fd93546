// One interface for every cgroup collector (node_exporter's Collector):
// each collector file declares the files it reads and fills its fields of a
// container's snapshot from them; collectors/registry.ts lists them in the
// order they run; the orchestrator (src/collect) loops over that list.

import type { CgroupSource } from '../src/cgroupfs/source.js';
import type { ContainerSnapshot } from '../src/model/types.js';
import type { SizeFiles } from './hugetlb.js';
import type { DeviceNamer } from './io.js';

/** What a collector may use besides the cgroup's own files. */
export interface CollectContext {
  /** Host filesystem root ("/" or e.g. "/host"). */
  readonly root: string;
  /** Kernel name of a block device (cached by the orchestrator). */
  readonly deviceName: DeviceNamer;
  /** The huge page sizes of this host, with their files. */
  readonly hugetlbSizes: readonly SizeFiles[];
  /** This cgroup's snapshot of the previous tick (null on its first): values unchanged since are reused. */
  readonly previous: ContainerSnapshot | null;
}

export interface CgroupCollector {
  readonly name: string;
  /** The ContainerSnapshot fields it fills. */
  readonly fields: readonly (keyof ContainerSnapshot)[];
  /** Reads the bound cgroup's files into `out`; a vanished cgroup leaves its fields null, never throws. */
  collect(source: CgroupSource, context: CollectContext, out: ContainerSnapshot): void;
}
