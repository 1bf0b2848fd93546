// Step one of a limit change: every field parsed and checked on its own and
// against the other fields (units, ranges that do not depend on the host,
// conflicts), before the cgroup or the host is looked at.

import type { LimitRequest } from '../api.js';
import { LimitError } from '../api.js';
import {
  formatDeviceRule,
  invalid,
  parseBytes,
  parseCpus,
  parseDeviceRate,
  parseDeviceRule,
  parseInteger,
  parseList,
  quote,
  UNLIMITED,
  type DeviceLookup,
  type DeviceRate,
  type DeviceRuleSpec,
  type Unlimited,
} from '../units.js';
import { formatBytes } from '../../util/format.js';
import { flagOf, REQUEST_KEYS } from '../fields.js';

/** docker's smallest memory limit (linuxMinMemory): less leaves no room for the container's own processes. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
/** The kernel's PID_MAX_LIMIT: pids.max cannot be higher. */
export const MAX_PIDS = 4_194_304;
/** The CFS period tstop sets with --cpus (docker's and the kernel's default). */
export const CPU_PERIOD_US = 100_000;
/** The kernel refuses a CFS quota below 1 ms. */
export const MIN_QUOTA_US = 1_000;

export type ThrottleKind = 'readBps' | 'writeBps' | 'readIops' | 'writeIops';

export interface ParsedRequest {
  memory?: number | Unlimited;
  memoryReservation?: number | Unlimited;
  memoryHigh?: number | Unlimited;
  memorySwap?: number | Unlimited;
  /** nano-CPUs */
  cpus?: number | Unlimited;
  cpuShares?: number;
  cpuWeight?: number;
  cpusetCpus?: number[];
  cpusetMems?: number[];
  pidsLimit?: number | Unlimited;
  blkioWeight?: number;
  throttles: Record<ThrottleKind, DeviceRate[]>;
  deviceDeny: DeviceRuleSpec[];
  deviceAllow: DeviceRuleSpec[];
}

/** The throttle fields: request key, the kind in ParsedRequest.throttles, the unit. */
export const THROTTLE_FIELDS: [keyof LimitRequest, ThrottleKind, 'bytes' | 'iops'][] = [
  ['deviceReadBps', 'readBps', 'bytes'],
  ['deviceWriteBps', 'writeBps', 'bytes'],
  ['deviceReadIops', 'readIops', 'iops'],
  ['deviceWriteIops', 'writeIops', 'iops'],
];

function conflict(message: string): LimitError {
  return new LimitError(message, 2, 'invalid');
}

export function bytesText(v: number | Unlimited): string {
  return v === UNLIMITED ? 'unlimited' : formatBytes(v);
}

/** Parses and checks every field on its own and against each other; touches nothing. */
export function parseRequest(req: LimitRequest, lookup: DeviceLookup): ParsedRequest {
  const out: ParsedRequest = {
    throttles: { readBps: [], writeBps: [], readIops: [], writeIops: [] },
    deviceDeny: [],
    deviceAllow: [],
  };
  const atLeast = (flag: string, value: string, v: number | Unlimited, min: number): void => {
    if (v !== UNLIMITED && v < min) {
      throw invalid(
        flag,
        value,
        `below the minimum of ${formatBytes(min)} (docker's too: less leaves the container no room to run)`,
      );
    }
  };
  if (req.memory !== undefined) {
    out.memory = parseBytes('--memory', req.memory, { unlimited: true, minusOne: true });
    atLeast('--memory', req.memory, out.memory, MIN_MEMORY_BYTES);
  }
  if (req.memoryReservation !== undefined) {
    const v = parseBytes('--memory-reservation', req.memoryReservation, { unlimited: true });
    out.memoryReservation = v === 0 ? UNLIMITED : v;
    if (v !== 0) atLeast('--memory-reservation', req.memoryReservation, v, MIN_MEMORY_BYTES);
  }
  if (req.memoryHigh !== undefined) {
    out.memoryHigh = parseBytes('--memory-high', req.memoryHigh, { unlimited: true });
    atLeast('--memory-high', req.memoryHigh, out.memoryHigh, MIN_MEMORY_BYTES);
  }
  if (req.memorySwap !== undefined) {
    out.memorySwap = parseBytes('--memory-swap', req.memorySwap, { unlimited: true, minusOne: true });
    if (out.memorySwap === 0) {
      throw invalid(
        '--memory-swap',
        req.memorySwap,
        'is memory plus swap, so it cannot be 0 (equal to --memory means no swap; -1 unlimited)',
      );
    }
  }
  if (req.cpus !== undefined) {
    const v = parseCpus('--cpus', req.cpus, { unlimited: true });
    if (v === 0)
      throw invalid('--cpus', req.cpus, "0 CPUs would stop the container; use 'unlimited' to lift the limit");
    if (v !== UNLIMITED && v < 10_000_000) {
      throw invalid(
        '--cpus',
        req.cpus,
        'below the minimum of 0.01 (the kernel refuses a quota under 1 ms per 100 ms period)',
      );
    }
    out.cpus = v;
  }
  if (req.cpuShares !== undefined && req.cpuWeight !== undefined) {
    throw conflict(
      `--cpu-shares ${quote(req.cpuShares)} and --cpu-weight ${quote(req.cpuWeight)} set the same thing (v1 shares, v2 weight); give one`,
    );
  }
  if (req.cpuShares !== undefined) out.cpuShares = parseInteger('--cpu-shares', req.cpuShares, 2, 262144);
  if (req.cpuWeight !== undefined) out.cpuWeight = parseInteger('--cpu-weight', req.cpuWeight, 1, 10000);
  if (req.cpusetCpus !== undefined) out.cpusetCpus = parseList('--cpuset-cpus', req.cpusetCpus, 'CPU');
  if (req.cpusetMems !== undefined) out.cpusetMems = parseList('--cpuset-mems', req.cpusetMems, 'memory node');
  if (req.pidsLimit !== undefined) {
    const p = req.pidsLimit;
    if (p === '-1' || p === 'unlimited' || p === 'max') out.pidsLimit = UNLIMITED;
    else
      out.pidsLimit = parseInteger(
        '--pids-limit',
        p,
        1,
        MAX_PIDS,
        p === '0' || p.startsWith('-')
          ? "must be above 0 (to lift the limit use -1, 'unlimited' or 'max')"
          : `must be between 1 and ${MAX_PIDS} (the kernel's PID_MAX_LIMIT)`,
      );
  }
  if (req.blkioWeight !== undefined) out.blkioWeight = parseInteger('--blkio-weight', req.blkioWeight, 10, 1000);
  for (const [key, kind, unit] of THROTTLE_FIELDS) {
    const seen = new Map<string, string>();
    for (const value of (req[key] as string[] | undefined) ?? []) {
      const rate = parseDeviceRate(flagOf(key), value, unit, lookup);
      const dev = `${rate.device.major}:${rate.device.minor}`;
      const before = seen.get(dev);
      if (before !== undefined) {
        throw conflict(`${flagOf(key)} names device ${dev} twice (${quote(before)} and ${quote(value)})`);
      }
      seen.set(dev, value);
      out.throttles[kind].push(rate);
    }
  }
  for (const value of req.deviceDeny ?? []) out.deviceDeny.push(parseDeviceRule('--device-deny', value));
  for (const value of req.deviceAllow ?? []) out.deviceAllow.push(parseDeviceRule('--device-allow', value));
  for (const a of out.deviceAllow) {
    if (out.deviceDeny.some((d) => formatDeviceRule(d) === formatDeviceRule(a))) {
      throw conflict(`--device-allow and --device-deny both name ${quote(formatDeviceRule(a))}`);
    }
  }
  // Relations between the memory flags that need no current values.
  const mem = out.memory;
  if (typeof mem === 'number') {
    if (typeof out.memorySwap === 'number' && out.memorySwap < mem) {
      throw conflict(
        `--memory-swap ${quote(req.memorySwap!)} is below --memory ${quote(req.memory!)}: it is memory plus swap, so it must be at least the memory limit (-1 for unlimited swap)`,
      );
    }
    if (typeof out.memoryReservation === 'number' && out.memoryReservation > mem) {
      throw conflict(
        `--memory-reservation ${quote(req.memoryReservation!)} is above --memory ${quote(req.memory!)}: a reservation must not exceed the limit`,
      );
    }
    if (typeof out.memoryHigh === 'number' && out.memoryHigh > mem) {
      throw conflict(
        `--memory-high ${quote(req.memoryHigh!)} is above --memory ${quote(req.memory!)}: it would never apply`,
      );
    }
  }
  if (out.memory === UNLIMITED && typeof out.memorySwap === 'number') {
    throw conflict(
      `--memory-swap ${quote(req.memorySwap!)} with --memory unlimited: memory plus swap cannot be limited when memory is not`,
    );
  }
  const given = REQUEST_KEYS.some(
    (k) => req[k] !== undefined && (!Array.isArray(req[k]) || (req[k] as string[]).length > 0),
  );
  if (!given)
    throw new LimitError(
      'nothing to change: give at least one limit (for example --memory 512m or --cpus 1.5)',
      2,
      'invalid',
    );
  return out;
}
