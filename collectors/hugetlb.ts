// hugetlb: huge page usage and limits per page size, where the controller is
// mounted (v1 hugetlb.<size>.*_in_bytes, v2 hugetlb.<size>.current/max).

import fs from 'node:fs';
import path from 'node:path';
import { cgroupFile, settingFile, UNIFIED } from '../src/cgroupfs/files.js';
import type { CgroupSource } from '../src/cgroupfs/source.js';
import type { HugetlbStats } from '../src/model/types.js';
import type { CgroupCollector, HugetlbSizeFiles as SizeFiles } from './api.js';

/** Page sizes the kernel may name in hugetlb files (x86, arm64, ppc, s390). */
const KNOWN_SIZES = ['64KB', '2MB', '32MB', '512MB', '1GB', '16GB', '16MB', '8MB', '256MB'];

export type { HugetlbSizeFiles as SizeFiles } from './api.js';

const FILES: SizeFiles[] = KNOWN_SIZES.map((size) => ({
  pageSize: size,
  v1: {
    usage: cgroupFile('hugetlb', `hugetlb.${size}.usage_in_bytes`),
    maxUsage: cgroupFile('hugetlb', `hugetlb.${size}.max_usage_in_bytes`),
    limit: settingFile('hugetlb', `hugetlb.${size}.limit_in_bytes`),
  },
  v2: {
    current: cgroupFile(UNIFIED, `hugetlb.${size}.current`),
    max: settingFile(UNIFIED, `hugetlb.${size}.max`),
  },
}));

/** Pure: "hugepages-2048kB" → "2MB", the kernel's name for the size in hugetlb files. */
export function pageSizeName(dirName: string): string | null {
  const m = /^hugepages-(\d+)kB$/.exec(dirName);
  if (!m) return null;
  let kb = Number(m[1]);
  const units = ['KB', 'MB', 'GB'];
  let u = 0;
  while (kb >= 1024 && kb % 1024 === 0 && u < units.length - 1) {
    kb /= 1024;
    u++;
  }
  return `${kb}${units[u]}`;
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The host's huge page sizes: from <root>/sys/kernel/mm/hugepages, else from
 * the hugetlb.<size>.* file names of a cgroup directory of the hugetlb
 * hierarchy (all that a host mounted without /sys/kernel may show).
 */
export function hostPageSizes(root: string, hugetlbCgroupDir: string | null): string[] {
  const sizes = new Set<string>();
  for (const d of listDir(path.join(root, 'sys/kernel/mm/hugepages'))) {
    const s = pageSizeName(d);
    if (s) sizes.add(s);
  }
  if (sizes.size === 0 && hugetlbCgroupDir) {
    for (const f of listDir(hugetlbCgroupDir)) {
      const m = /^hugetlb\.(\d+[KMG]B)\./.exec(f);
      if (m) sizes.add(m[1]);
    }
  }
  return [...sizes];
}

export function hugetlbFilesFor(sizes: string[]): SizeFiles[] {
  return FILES.filter((f) => sizes.includes(f.pageSize));
}

export function collectHugetlb(src: CgroupSource, sizes: readonly SizeFiles[]): HugetlbStats[] | null {
  if (sizes.length === 0) return null;
  const v2 = src.isV2('hugetlb');
  const out: HugetlbStats[] = [];
  for (const f of sizes) {
    if (v2) {
      const usage = src.number(f.v2.current);
      if (usage === null) continue;
      out.push({ pageSize: f.pageSize, usageBytes: usage, maxUsageBytes: null, limitBytes: src.limit(f.v2.max) });
    } else {
      const usage = src.number(f.v1.usage);
      if (usage === null) continue;
      out.push({
        pageSize: f.pageSize,
        usageBytes: usage,
        maxUsageBytes: src.number(f.v1.maxUsage),
        limitBytes: src.limit(f.v1.limit),
      });
    }
  }
  return out.length > 0 ? out : null;
}

export const hugetlbCollector: CgroupCollector = {
  name: 'hugetlb',
  fields: ['hugetlb'],
  collect(src, context, out) {
    out.hugetlb = collectHugetlb(src, context.hugetlbSizes);
  },
};
