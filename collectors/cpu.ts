// CPU: usage (user/system), CFS throttling, quota/period, shares (v1) or
// weight (v2). Rates (percent) are added by the model from two samples.

import { executionFile, gateFile, heldFile, settingFile, UNIFIED } from '../src/cgroupfs/files.js';
import { KeyedFormat, equalsAscii, indexOf, parseLimit, parseNumber } from '../src/cgroupfs/parse.js';
import { CgroupSource, known } from '../src/cgroupfs/source.js';
import type { CpuStats } from '../src/model/types.js';
import type { CgroupCollector } from './api.js';
import { USER_HZ } from './processes.js';

const V1_QUOTA = settingFile('cpu', 'cpu.cfs_quota_us');

/** v1 cpu.cfs_quota_us says "no quota" (-1). */
export function noQuotaV1(buf: Uint8Array, start: number, end: number): boolean {
  return parseNumber(buf, start, end) === -1;
}

const V1 = {
  usage: gateFile('cpuacct', 'cpuacct.usage'),
  stat: executionFile('cpuacct', 'cpuacct.stat'),
  // Its counters move only under the CFS bandwidth timer and throttling, both
  // only while a quota is set (removing one settles them before write() returns).
  cpuStat: heldFile('cpu', 'cpu.stat', { by: 'cpu.cfs_quota_us', scope: 'cgroup', of: V1_QUOTA, holds: noQuotaV1 }),
  quota: V1_QUOTA,
  period: settingFile('cpu', 'cpu.cfs_period_us'),
  shares: settingFile('cpu', 'cpu.shares'),
};
const V2 = {
  stat: gateFile(UNIFIED, 'cpu.stat'),
  max: settingFile(UNIFIED, 'cpu.max'),
  weight: settingFile(UNIFIED, 'cpu.weight'),
};

export const cpuacctStatV1 = new KeyedFormat(['user', 'system'] as const);
export const cpuStatV1 = new KeyedFormat(['nr_periods', 'nr_throttled', 'throttled_time'] as const);
export const cpuStatV2 = new KeyedFormat([
  'usage_usec',
  'user_usec',
  'system_usec',
  'nr_periods',
  'nr_throttled',
  'throttled_usec',
] as const);

const acct = cpuacctStatV1.newValues();
const throttle = cpuStatV1.newValues();
const stat2 = cpuStatV2.newValues();

/** Pure: cpu.max ("max 100000" or "50000 100000") to quota and period in microseconds. */
export function parseCpuMax(buf: Uint8Array, len: number, start = 0): { quota: number | null; period: number | null } {
  const sp = indexOf(buf, 0x20, start, len);
  const quota = equalsAscii(buf, start, sp, 'max') ? null : parseLimit(buf, start, sp);
  const period = sp < len ? parseNumber(buf, sp + 1, len) : NaN;
  return { quota, period: Number.isNaN(period) ? null : period };
}

export function emptyCpu(): CpuStats {
  return {
    usageSeconds: null,
    userSeconds: null,
    systemSeconds: null,
    percent: null,
    quotaPercent: null,
    quotaCores: null,
    quotaMicroseconds: null,
    periodMicroseconds: null,
    shares: null,
    weight: null,
    periods: null,
    throttledPeriods: null,
    throttledSeconds: null,
    throttledPercent: null,
    cpus: null,
    mems: null,
  };
}

/** CPU figures of the bound cgroup; null when no CPU file exists for it. */
export function collectCpu(src: CgroupSource): CpuStats | null {
  const cpu = emptyCpu();
  let found = false;

  // Usage: v1 cpuacct where mounted, else v2 cpu.stat (present on every v2
  // cgroup, even on hybrid hosts where the cpu controller is on v1).
  const v1Usage = src.has(V1.usage);
  const v2Stat = !v1Usage && src.keyed(V2.stat, cpuStatV2, stat2);
  if (v1Usage) {
    const ns = src.number(V1.usage);
    if (ns !== null) {
      cpu.usageSeconds = ns / 1e9;
      found = true;
    }
    if (src.keyed(V1.stat, cpuacctStatV1, acct)) {
      cpu.userSeconds = known(acct[0] / USER_HZ);
      cpu.systemSeconds = known(acct[1] / USER_HZ);
    }
  } else if (v2Stat) {
    found = true;
    cpu.usageSeconds = known(stat2[0] / 1e6);
    cpu.userSeconds = known(stat2[1] / 1e6);
    cpu.systemSeconds = known(stat2[2] / 1e6);
  }

  if (src.isV2('cpu')) {
    const n = src.read(V2.max);
    if (n >= 0) {
      found = true;
      const max = parseCpuMax(src.buf, src.end, src.start);
      cpu.quotaMicroseconds = max.quota;
      cpu.periodMicroseconds = max.period;
    }
    cpu.weight = src.number(V2.weight);
    // nr_periods etc. are in cpu.stat only when the cpu controller is enabled.
    if (v2Stat) {
      cpu.periods = known(stat2[3]);
      cpu.throttledPeriods = known(stat2[4]);
      cpu.throttledSeconds = known(stat2[5] / 1e6);
    }
  } else if (src.has(V1.quota)) {
    found = true;
    cpu.quotaMicroseconds = src.limit(V1.quota);
    cpu.periodMicroseconds = src.number(V1.period);
    cpu.shares = src.number(V1.shares);
    if (src.keyed(V1.cpuStat, cpuStatV1, throttle)) {
      cpu.periods = known(throttle[0]);
      cpu.throttledPeriods = known(throttle[1]);
      cpu.throttledSeconds = known(throttle[2] / 1e9);
    }
  }

  if (cpu.quotaMicroseconds !== null && cpu.periodMicroseconds) {
    cpu.quotaCores = cpu.quotaMicroseconds / cpu.periodMicroseconds;
  }
  return found ? cpu : null;
}

export const cpuCollector: CgroupCollector = {
  name: 'cpu',
  fields: ['cpu'],
  collect(src, _context, out) {
    out.cpu = collectCpu(src);
  },
};
