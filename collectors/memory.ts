// Memory: usage, peak, working set, the anon/file/kernel/swap breakdown,
// limits and OOM events, on v1 (memory.*_in_bytes, memory.stat total_*) and
// v2 (memory.current, memory.max, memory.stat, memory.events).

import { cgroupFile, executionFile, settingFile, UNIFIED } from '../src/cgroupfs/files.js';
import { KeyedFormat, limitFromNumber } from '../src/cgroupfs/parse.js';
import { CgroupSource, known } from '../src/cgroupfs/source.js';
import type { MemoryEvents, MemoryStats } from '../src/model/types.js';
import type { CgroupCollector } from './api.js';

const V1 = {
  usage: cgroupFile('memory', 'memory.usage_in_bytes'),
  maxUsage: executionFile('memory', 'memory.max_usage_in_bytes'),
  limit: settingFile('memory', 'memory.limit_in_bytes'),
  softLimit: settingFile('memory', 'memory.soft_limit_in_bytes'),
  failcnt: executionFile('memory', 'memory.failcnt'),
  memswUsage: cgroupFile('memory', 'memory.memsw.usage_in_bytes'),
  memswLimit: settingFile('memory', 'memory.memsw.limit_in_bytes'),
  kmemUsage: cgroupFile('memory', 'memory.kmem.usage_in_bytes'),
  oomControl: executionFile('memory', 'memory.oom_control'),
  stat: cgroupFile('memory', 'memory.stat'),
};
const V2 = {
  current: cgroupFile(UNIFIED, 'memory.current'),
  peak: executionFile(UNIFIED, 'memory.peak'),
  max: settingFile(UNIFIED, 'memory.max'),
  high: settingFile(UNIFIED, 'memory.high'),
  low: settingFile(UNIFIED, 'memory.low'),
  min: settingFile(UNIFIED, 'memory.min'),
  swapCurrent: cgroupFile(UNIFIED, 'memory.swap.current'),
  swapMax: settingFile(UNIFIED, 'memory.swap.max'),
  events: cgroupFile(UNIFIED, 'memory.events'),
  eventsLocal: cgroupFile(UNIFIED, 'memory.events.local'),
  stat: cgroupFile(UNIFIED, 'memory.stat'),
};

/** v1 memory.stat: the hierarchical total_* keys count the cgroup and its descendants, like usage. */
export const memoryStatV1 = new KeyedFormat([
  'cache',
  'rss',
  'mapped_file',
  'swap',
  'inactive_file',
  'total_cache',
  'total_rss',
  'total_mapped_file',
  'total_swap',
  'total_inactive_file',
  'total_pgfault',
  'total_pgmajfault',
  'pgfault',
  'pgmajfault',
] as const);

export const memoryStatV2 = new KeyedFormat([
  'anon',
  'file',
  'kernel',
  'kernel_stack',
  'pagetables',
  'percpu',
  'sock',
  'vmalloc',
  'file_mapped',
  'inactive_file',
  'slab',
  'pgfault',
  'pgmajfault',
] as const);

export const memoryEventsV2 = new KeyedFormat(['low', 'high', 'max', 'oom', 'oom_kill'] as const);
export const oomControlV1 = new KeyedFormat(['oom_kill_disable', 'under_oom', 'oom_kill'] as const);

const stat1 = memoryStatV1.newValues();
const stat2 = memoryStatV2.newValues();
const events2 = memoryEventsV2.newValues();
const eventsLocal2 = memoryEventsV2.newValues();
const oom1 = oomControlV1.newValues();

/** usage minus inactive file, floored at 0: what the docker CLI and cAdvisor call the working set. */
export function workingSet(usage: number | null, inactiveFile: number | null): number | null {
  if (usage === null) return null;
  return Math.max(0, usage - (inactiveFile ?? 0));
}

function swapFromMemsw(memsw: number | null, usage: number | null): number | null {
  return memsw === null || usage === null ? null : Math.max(0, memsw - usage);
}

/** A total_* key when the kernel has it, else the cgroup-local key. */
function v1Stat(total: number, local: number): number | null {
  return known(Number.isNaN(total) ? local : total);
}

function collectV1(src: CgroupSource): MemoryStats | null {
  const usage = src.number(V1.usage);
  if (usage === null && !src.has(V1.usage)) return null;
  const hasStat = src.keyed(V1.stat, memoryStatV1, stat1);
  const s = memoryStatV1;
  const inactiveFile = hasStat ? v1Stat(stat1[s.at('total_inactive_file')], stat1[s.at('inactive_file')]) : null;
  const oom = src.keyed(V1.oomControl, oomControlV1, oom1) ? known(oom1[2]) : null;
  return {
    usageBytes: usage,
    maxUsageBytes: src.number(V1.maxUsage),
    workingSetBytes: workingSet(usage, inactiveFile),
    anonBytes: hasStat ? v1Stat(stat1[s.at('total_rss')], stat1[s.at('rss')]) : null,
    fileBytes: hasStat ? v1Stat(stat1[s.at('total_cache')], stat1[s.at('cache')]) : null,
    inactiveFileBytes: inactiveFile,
    mappedFileBytes: hasStat ? v1Stat(stat1[s.at('total_mapped_file')], stat1[s.at('mapped_file')]) : null,
    // memory.stat's swap as cAdvisor reads it; memsw (memory + swap) minus usage as a fallback.
    swapBytes: hasStat
      ? v1Stat(stat1[s.at('total_swap')], stat1[s.at('swap')])
      : swapFromMemsw(src.number(V1.memswUsage), usage),
    kernelBytes: src.number(V1.kmemUsage),
    limitBytes: src.limit(V1.limit),
    highBytes: null,
    softLimitBytes: src.limit(V1.softLimit),
    lowBytes: null,
    minBytes: null,
    swapLimitBytes: src.limit(V1.memswLimit),
    failcnt: src.number(V1.failcnt),
    pageFaults: hasStat ? v1Stat(stat1[s.at('total_pgfault')], stat1[s.at('pgfault')]) : null,
    majorPageFaults: hasStat ? v1Stat(stat1[s.at('total_pgmajfault')], stat1[s.at('pgmajfault')]) : null,
    oomKills: oom,
    events: null, // v1 has no memory.events; its one OOM figure is oomKills
  };
}

function collectV2(src: CgroupSource): MemoryStats | null {
  const usage = src.number(V2.current);
  if (usage === null) return null; // the root cgroup has no memory.current
  const hasStat = src.keyed(V2.stat, memoryStatV2, stat2);
  const s = memoryStatV2;
  const get = (k: Parameters<typeof s.at>[0]): number | null => (hasStat ? known(stat2[s.at(k)]) : null);
  let kernel = get('kernel');
  if (kernel === null && hasStat) {
    // Kernels before 5.18 have no "kernel" key: sum its parts.
    const parts = ['kernel_stack', 'pagetables', 'percpu', 'sock', 'vmalloc', 'slab'] as const;
    kernel = parts.reduce((sum, k) => sum + (get(k) ?? 0), 0);
  }
  let events: MemoryEvents | null = null;
  if (src.keyed(V2.events, memoryEventsV2, events2)) {
    events = {
      low: known(events2[0]),
      high: known(events2[1]),
      max: known(events2[2]),
      oom: known(events2[3]),
      oomKill: known(events2[4]),
    };
  }
  const inactiveFile = get('inactive_file');
  return {
    usageBytes: usage,
    maxUsageBytes: src.number(V2.peak),
    workingSetBytes: workingSet(usage, inactiveFile),
    anonBytes: get('anon'),
    fileBytes: get('file'),
    inactiveFileBytes: inactiveFile,
    mappedFileBytes: get('file_mapped'),
    swapBytes: src.number(V2.swapCurrent),
    kernelBytes: kernel,
    limitBytes: src.limit(V2.max),
    highBytes: src.limit(V2.high),
    softLimitBytes: null,
    lowBytes: limitFromNumber(src.number(V2.low) ?? NaN),
    minBytes: limitFromNumber(src.number(V2.min) ?? NaN),
    swapLimitBytes: src.limit(V2.swapMax),
    failcnt: null,
    pageFaults: get('pgfault'),
    majorPageFaults: get('pgmajfault'),
    // memory.events counts descendants' kills too; .local (5.6+) only this cgroup's.
    oomKills: src.keyed(V2.eventsLocal, memoryEventsV2, eventsLocal2)
      ? known(eventsLocal2[memoryEventsV2.at('oom_kill')])
      : (events?.oomKill ?? null),
    events,
  };
}

export function collectMemory(src: CgroupSource): MemoryStats | null {
  return src.isV2('memory') ? collectV2(src) : collectV1(src);
}

export const memoryCollector: CgroupCollector = {
  name: 'memory',
  fields: ['memory'],
  collect(src, _context, out) {
    out.memory = collectMemory(src);
  },
};
