// cpuset: the CPUs and memory nodes a cgroup may use, effective values where
// the kernel has them (v1 cpuset.effective_cpus, v2 cpuset.cpus.effective).

import { settingFile, UNIFIED } from '../src/cgroupfs/files.js';
import { text } from '../src/cgroupfs/parse.js';
import type { CgroupSource } from '../src/cgroupfs/source.js';
import type { CgroupCollector } from './api.js';
import { emptyCpu } from './cpu.js';

const V1 = {
  effectiveCpus: settingFile('cpuset', 'cpuset.effective_cpus'),
  effectiveMems: settingFile('cpuset', 'cpuset.effective_mems'),
  cpus: settingFile('cpuset', 'cpuset.cpus'),
  mems: settingFile('cpuset', 'cpuset.mems'),
};
const V2 = {
  effectiveCpus: settingFile(UNIFIED, 'cpuset.cpus.effective'),
  effectiveMems: settingFile(UNIFIED, 'cpuset.mems.effective'),
};

export interface CpusetStats {
  /** Kernel list syntax, e.g. "0-3,6". */
  cpus: string | null;
  mems: string | null;
}

/** Fills `out` with the cgroup's cpuset; false when it has none (out untouched). No allocation per tick. */
export function collectCpuset(src: CgroupSource, out: CpusetStats): boolean {
  if (src.isV2('cpuset')) {
    const cpus = src.setting(V2.effectiveCpus, text);
    const mems = src.setting(V2.effectiveMems, text);
    if (cpus === null && mems === null) return false;
    out.cpus = cpus;
    out.mems = mems;
    return true;
  }
  if (!src.has(V1.cpus)) return false;
  out.cpus = src.setting(V1.effectiveCpus, text) ?? src.setting(V1.cpus, text);
  out.mems = src.setting(V1.effectiveMems, text) ?? src.setting(V1.mems, text);
  return true;
}

const cpuset: CpusetStats = { cpus: null, mems: null };

/** Runs after the cpu collector: the CPUs and memory nodes are shown with the CPU figures. */
export const cpusetCollector: CgroupCollector = {
  name: 'cpuset',
  fields: ['cpu'],
  uses: ['cpu'],
  collect(src, _context, out) {
    if (!collectCpuset(src, cpuset)) return;
    out.cpu ??= emptyCpu();
    out.cpu.cpus = cpuset.cpus;
    out.cpu.mems = cpuset.mems;
  },
};
