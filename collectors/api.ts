// One interface for every cgroup collector (node_exporter's Collector):
// each collector file declares the files it reads and fills its fields of a
// container's snapshot from them; collectors/registry.ts lists them in the
// order they run; the orchestrator (src/collect) loops over that list.

import type { CgroupFileSpec } from '../src/cgroupfs/files.js';
import type { CgroupSource } from '../src/cgroupfs/source.js';
import type { ContainerSnapshot } from '../src/model/types.js';

/** Kernel name of a block device by its numbers ("sda"), null when unknown. */
export type DeviceNamer = (major: number, minor: number) => string | null;

/** One huge page size and its files (hugetlb.<size>.* on v1 and v2). */
export interface HugetlbSizeFiles {
  pageSize: string;
  v1: { usage: CgroupFileSpec; maxUsage: CgroupFileSpec; limit: CgroupFileSpec };
  v2: { current: CgroupFileSpec; max: CgroupFileSpec };
}

/** What a collector may use besides the cgroup's own files. */
export interface CollectContext {
  /** Host filesystem root ("/" or e.g. "/host"). */
  readonly root: string;
  /** Kernel name of a block device (cached by the orchestrator). */
  readonly deviceName: DeviceNamer;
  /** The huge page sizes of this host, with their files. */
  readonly hugetlbSizes: readonly HugetlbSizeFiles[];
  /** This cgroup's snapshot of the previous tick (null on its first): values unchanged since are reused. */
  readonly previous: ContainerSnapshot | null;
}

export interface CgroupCollector {
  readonly name: string;
  /** The ContainerSnapshot fields it fills. */
  readonly fields: readonly (keyof ContainerSnapshot)[];
  /**
   * Fields filled by an earlier collector that it reads or changes: the two
   * then run together, or are carried over together while their files give
   * the same bytes (src/collect/unchanged.ts).
   */
  readonly uses?: readonly (keyof ContainerSnapshot)[];
  /** Reads the bound cgroup's files into `out`; a vanished cgroup leaves its fields null, never throws. */
  collect(source: CgroupSource, context: CollectContext, out: ContainerSnapshot): void;
}
