// The limit fields, declared once: the request key, the docker flag, the
// value's kind, the cgroup files it lands in, and the help text. The CLI's
// flags (`tstop limit`, `tstop run`), the write API's JSON fields, the
// dashboard form's flag names and the planner's messages all derive from
// this table, so a new limit is one row here plus its plan step.

import type { LimitRequest } from './api.js';

export type LimitKey = keyof LimitRequest;

/** What the value is; the planner's parser for it (src/limiter/units.ts) follows from this. */
export type LimitValueKind = 'bytes' | 'cores' | 'integer' | 'cpu-list' | 'device-rate' | 'device-rule';

export interface LimitField {
  key: LimitKey;
  /** docker run / docker update name, without the dashes. */
  flag: string;
  short?: string;
  kind: LimitValueKind;
  /** Repeatable on the command line, a list in the write API's JSON. */
  multiple: boolean;
  /** Placeholder in help. */
  value: string;
  /** The files it writes (for help and docs/limiter.md): cgroup v1, cgroup v2. */
  v1Files: string[];
  v2Files: string[];
  help: string;
}

const field = (
  key: LimitKey,
  flag: string,
  kind: LimitValueKind,
  value: string,
  files: [v1: string[], v2: string[]],
  help: string,
  extra: { short?: string } = {},
): LimitField => ({
  key,
  flag,
  kind,
  multiple: kind === 'device-rate' || kind === 'device-rule',
  value,
  v1Files: files[0],
  v2Files: files[1],
  help,
  ...extra,
});

export const LIMIT_FIELDS: readonly LimitField[] = [
  field(
    'memory',
    'memory',
    'bytes',
    'BYTES',
    [['memory.limit_in_bytes'], ['memory.max']],
    "memory limit: 512m, 2g, 1.5GiB ('unlimited' lifts it)",
    { short: 'm' },
  ),
  field(
    'memoryReservation',
    'memory-reservation',
    'bytes',
    'BYTES',
    [['memory.soft_limit_in_bytes'], ['memory.low']],
    'soft limit (v1 memory.soft_limit_in_bytes, v2 memory.low); 0 removes it',
  ),
  field(
    'memoryHigh',
    'memory-high',
    'bytes',
    'BYTES',
    [[], ['memory.high']],
    'reclaim and throttle above this (cgroup v2 memory.high)',
  ),
  field(
    'memorySwap',
    'memory-swap',
    'bytes',
    'BYTES',
    [['memory.memsw.limit_in_bytes'], ['memory.swap.max']],
    'memory plus swap, as docker: equal to --memory = no swap, -1 = unlimited swap',
  ),
  field(
    'cpus',
    'cpus',
    'cores',
    'N',
    [['cpu.cfs_quota_us', 'cpu.cfs_period_us'], ['cpu.max']],
    "CPU limit in cores: 0.5, 1.5 ('unlimited' lifts it)",
  ),
  field(
    'cpuShares',
    'cpu-shares',
    'integer',
    'N',
    [['cpu.shares'], ['cpu.weight']],
    'relative CPU weight in v1 units, 2-262144 (converted on v2)',
    { short: 'c' },
  ),
  field(
    'cpuWeight',
    'cpu-weight',
    'integer',
    'N',
    [['cpu.shares'], ['cpu.weight']],
    'relative CPU weight in v2 units, 1-10000 (converted on v1)',
  ),
  field(
    'cpusetCpus',
    'cpuset-cpus',
    'cpu-list',
    'LIST',
    [['cpuset.cpus'], ['cpuset.cpus']],
    'CPUs the container may use: 0-3,6',
  ),
  field(
    'cpusetMems',
    'cpuset-mems',
    'cpu-list',
    'LIST',
    [['cpuset.mems'], ['cpuset.mems']],
    'memory nodes the container may use: 0',
  ),
  field(
    'pidsLimit',
    'pids-limit',
    'integer',
    'N',
    [['pids.max'], ['pids.max']],
    "most tasks at once (-1 or 'unlimited' lifts it)",
  ),
  field(
    'blkioWeight',
    'blkio-weight',
    'integer',
    'N',
    [
      ['blkio.weight', 'blkio.bfq.weight'],
      ['io.weight', 'io.bfq.weight'],
    ],
    'relative IO weight, 10-1000',
  ),
  field(
    'deviceReadBps',
    'device-read-bps',
    'device-rate',
    'DEV:RATE',
    [['blkio.throttle.read_bps_device'], ['io.max']],
    "read rate limit on a disk: /dev/sda:10mb or 8:0:10mb (repeatable; 'unlimited' lifts it)",
  ),
  field(
    'deviceWriteBps',
    'device-write-bps',
    'device-rate',
    'DEV:RATE',
    [['blkio.throttle.write_bps_device'], ['io.max']],
    'write rate limit on a disk (as --device-read-bps)',
  ),
  field(
    'deviceReadIops',
    'device-read-iops',
    'device-rate',
    'DEV:N',
    [['blkio.throttle.read_iops_device'], ['io.max']],
    'read IO operations per second on a disk: /dev/sda:1000',
  ),
  field(
    'deviceWriteIops',
    'device-write-iops',
    'device-rate',
    'DEV:N',
    [['blkio.throttle.write_iops_device'], ['io.max']],
    'write IO operations per second on a disk',
  ),
  field(
    'deviceAllow',
    'device-allow',
    'device-rule',
    'RULE',
    [['devices.allow'], []],
    "allow device access (v1 rule: 'c 1:3 rwm', 'b 8:* r', 'a')",
  ),
  field(
    'deviceDeny',
    'device-deny',
    'device-rule',
    'RULE',
    [['devices.deny'], []],
    "deny device access (v1 rule; 'a' denies every device)",
  ),
];

/** Every request key, in the table's order. */
export const REQUEST_KEYS: readonly LimitKey[] = LIMIT_FIELDS.map((f) => f.key);

/** The keys whose value is a list (repeatable flags). */
export const LIST_KEYS: readonly LimitKey[] = LIMIT_FIELDS.filter((f) => f.multiple).map((f) => f.key);

const BY_KEY = new Map(LIMIT_FIELDS.map((f) => [f.key, f]));

export function limitField(key: LimitKey): LimitField {
  const f = BY_KEY.get(key);
  if (!f) throw new Error(`no limit field '${key}'`);
  return f;
}

/** The flag as the user types it, for messages: '--memory'. */
export function flagOf(key: LimitKey): string {
  return `--${limitField(key).flag}`;
}
