// CPU limits: --cpus (CFS quota), --cpu-shares / --cpu-weight, --cpuset-cpus/-mems.

import type { CgroupFiles } from '../cgroup.js';
import type { HostFacts } from '../host.js';
import { formatCpus, formatList, invalid, parseList, sharesToWeight, UNLIMITED, weightToShares } from '../units.js';
import { CPU_PERIOD_US, type ParsedRequest } from './request.js';
import type { Helpers } from './steps.js';

export function planCpu(
  req: ParsedRequest,
  files: CgroupFiles,
  host: HostFacts,
  h: Pick<Helpers, 'need' | 'add' | 'notes'>,
): void {
  if (req.cpus !== undefined) {
    const kind = h.need('cpu', '--cpus');
    if (req.cpus !== UNLIMITED && req.cpus > host.onlineCpus.length * 1e9) {
      throw invalid(
        '--cpus',
        formatCpus(req.cpus),
        `this host has ${host.onlineCpus.length} online CPU${host.onlineCpus.length === 1 ? '' : 's'}`,
      );
    }
    const quota = req.cpus === UNLIMITED ? null : Math.floor((req.cpus * CPU_PERIOD_US) / 1e9);
    if (kind === 'v1') {
      if (quota !== null) {
        const period = files.read('cpu', 'cpu.cfs_period_us');
        if (period !== null && period.trim() !== String(CPU_PERIOD_US)) {
          h.add('cpu', 'cpu.cfs_period_us', String(CPU_PERIOD_US), '--cpus');
        }
      }
      h.add('cpu', 'cpu.cfs_quota_us', quota === null ? '-1' : String(quota), '--cpus');
    } else {
      const current = files.read('cpu', 'cpu.max') ?? '';
      const period = /^\S+ (\d+)$/.exec(current.trim())?.[1] ?? String(CPU_PERIOD_US);
      h.add('cpu', 'cpu.max', quota === null ? `max ${period}` : `${quota} ${CPU_PERIOD_US}`, '--cpus');
    }
  }
  if (req.cpuShares !== undefined || req.cpuWeight !== undefined) {
    const flag = req.cpuShares !== undefined ? '--cpu-shares' : '--cpu-weight';
    const kind = h.need('cpu', flag);
    if (kind === 'v1') {
      const shares = req.cpuShares ?? weightToShares(req.cpuWeight!);
      if (req.cpuShares === undefined)
        h.notes.push(`--cpu-weight ${req.cpuWeight} is cpu.shares ${shares} on cgroup v1 (runc's conversion)`);
      h.add('cpu', 'cpu.shares', String(shares), flag);
    } else {
      const weight = req.cpuWeight ?? sharesToWeight(req.cpuShares!);
      if (req.cpuWeight === undefined)
        h.notes.push(`--cpu-shares ${req.cpuShares} is cpu.weight ${weight} on cgroup v2 (runc's conversion)`);
      h.add('cpu', 'cpu.weight', String(weight), flag);
    }
  }
}

export function planCpuset(
  req: ParsedRequest,
  files: CgroupFiles,
  host: HostFacts,
  h: Pick<Helpers, 'need' | 'add'>,
): void {
  const one = (
    flag: string,
    list: number[],
    file: 'cpuset.cpus' | 'cpuset.mems',
    online: number[],
    what: string,
  ): void => {
    const kind = h.need('cpuset', flag);
    const offline = list.filter((x) => !online.includes(x));
    if (offline.length > 0) {
      throw invalid(
        flag,
        formatList(list),
        `${what}${offline.length === 1 ? '' : 's'} ${formatList(offline)} ${offline.length === 1 ? 'is' : 'are'} not online (online: ${formatList(online)})`,
      );
    }
    const parentFile =
      kind === 'v1'
        ? file === 'cpuset.cpus'
          ? 'cpuset.effective_cpus'
          : 'cpuset.effective_mems'
        : `${file}.effective`;
    const parentText =
      files.readParent('cpuset', parentFile) ?? (kind === 'v1' ? files.readParent('cpuset', file) : null);
    const parent = parentText ? parseList('the parent cgroup', parentText, what) : null;
    if (parent && parent.length > 0) {
      const outside = list.filter((x) => !parent.includes(x));
      if (outside.length > 0) {
        throw invalid(
          flag,
          formatList(list),
          `${what}${outside.length === 1 ? '' : 's'} ${formatList(outside)} ${outside.length === 1 ? 'is' : 'are'} outside the parent cgroup's ${formatList(parent)}`,
        );
      }
    }
    h.add('cpuset', file, formatList(list), flag);
  };
  if (req.cpusetCpus !== undefined) one('--cpuset-cpus', req.cpusetCpus, 'cpuset.cpus', host.onlineCpus, 'CPU');
  if (req.cpusetMems !== undefined) one('--cpuset-mems', req.cpusetMems, 'cpuset.mems', host.onlineMems, 'memory node');
}
