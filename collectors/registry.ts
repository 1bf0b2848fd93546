// Every cgroup collector, in the order they run on each cgroup (the one list
// the orchestrator loops over). Order matters where a collector reads what
// an earlier one filled: processes after pids (no list when pids.current is
// 0), cpuset after cpu (its lists go into the CPU figures), freezer after
// processes ("populated" without v2's cgroup.events).
// A new resource: its collector file, one line here, its field in
// src/model/types.ts, its exporter family and its dashboard column.

import type { CgroupCollector } from './api.js';
import { cpuCollector } from './cpu.js';
import { cpusetCollector } from './cpuset.js';
import { devicesCollector } from './devices.js';
import { freezerCollector } from './freezer.js';
import { hugetlbCollector } from './hugetlb.js';
import { ioCollector } from './io.js';
import { memoryCollector } from './memory.js';
import { pidsCollector } from './pids.js';
import { pressureCollector } from './pressure.js';
import { processesCollector } from './processes.js';

export const CGROUP_COLLECTORS: readonly CgroupCollector[] = [
  pidsCollector,
  processesCollector,
  cpuCollector,
  cpusetCollector,
  memoryCollector,
  ioCollector,
  devicesCollector,
  hugetlbCollector,
  freezerCollector,
  pressureCollector,
];
