// From what the user typed to the exact file writes, for cgroup v1 and v2.
// Two steps, both before any write:
// - parseRequest: every flag parsed and checked on its own and against the
//   other flags (units, ranges that do not depend on the host, conflicts);
// - planLimit: against the cgroup's current files and the host (online
//   CPUs, devices, usage, v1 or v2), translated to files and values, in the
//   order that keeps every intermediate state valid.

import type { LimitOptions, LimitRequest, PlannedWrite } from './api.js';
import { LimitError } from './api.js';
import type { CgroupFiles, Controller } from './cgroup.js';
import type { HostFacts } from './host.js';
import { refused } from './safety.js';
import {
  blkioWeightToIoWeight,
  formatBytesExact,
  formatCpus,
  formatDeviceRule,
  formatList,
  invalid,
  parseBytes,
  parseCpus,
  parseDeviceRate,
  parseDeviceRule,
  parseInteger,
  parseList,
  quote,
  sharesToWeight,
  UNLIMITED,
  weightToShares,
  type DeviceLookup,
  type DeviceRate,
  type DeviceRuleSpec,
  type Unlimited,
} from './units.js';
import { expectedDeviceList, limitValue, parseDevicesList, semanticsOf } from './values.js';
import { formatBytes } from '../util/format.js';

/** The flag each request field comes from, for messages. */
export const FLAG_OF: Record<keyof LimitRequest, string> = {
  memory: '--memory',
  memoryReservation: '--memory-reservation',
  memoryHigh: '--memory-high',
  memorySwap: '--memory-swap',
  cpus: '--cpus',
  cpuShares: '--cpu-shares',
  cpuWeight: '--cpu-weight',
  cpusetCpus: '--cpuset-cpus',
  cpusetMems: '--cpuset-mems',
  pidsLimit: '--pids-limit',
  blkioWeight: '--blkio-weight',
  deviceReadBps: '--device-read-bps',
  deviceWriteBps: '--device-write-bps',
  deviceReadIops: '--device-read-iops',
  deviceWriteIops: '--device-write-iops',
  deviceAllow: '--device-allow',
  deviceDeny: '--device-deny',
};

export const REQUEST_KEYS = Object.keys(FLAG_OF) as (keyof LimitRequest)[];
export const LIST_KEYS: (keyof LimitRequest)[] = [
  'deviceReadBps',
  'deviceWriteBps',
  'deviceReadIops',
  'deviceWriteIops',
  'deviceAllow',
  'deviceDeny',
];

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

const THROTTLE_FIELDS: [keyof LimitRequest, ThrottleKind, 'bytes' | 'iops'][] = [
  ['deviceReadBps', 'readBps', 'bytes'],
  ['deviceWriteBps', 'writeBps', 'bytes'],
  ['deviceReadIops', 'readIops', 'iops'],
  ['deviceWriteIops', 'writeIops', 'iops'],
];

function conflict(message: string): LimitError {
  return new LimitError(message, 2, 'invalid');
}

function bytesText(v: number | Unlimited): string {
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
      const rate = parseDeviceRate(FLAG_OF[key], value, unit, lookup);
      const dev = `${rate.device.major}:${rate.device.minor}`;
      const before = seen.get(dev);
      if (before !== undefined) {
        throw conflict(`${FLAG_OF[key]} names device ${dev} twice (${quote(before)} and ${quote(value)})`);
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

export interface PlanOutput {
  writes: PlannedWrite[];
  notes: string[];
}

/** Builds the ordered writes for a parsed request against one cgroup. */
export function planLimit(
  req: ParsedRequest,
  files: CgroupFiles,
  host: HostFacts,
  options: LimitOptions = {},
  name = files.id,
): PlanOutput {
  const writes: PlannedWrite[] = [];
  const notes: string[] = [];

  const need = (c: Controller, flag: string): 'v1' | 'v2' => {
    const d = files.controller(c);
    if (!d) throw refused(`${flag}: ${files.missing(c)}`);
    return d.kind;
  };
  const needFile = (c: Controller, file: string, flag: string, why?: string): string => {
    need(c, flag);
    if (!files.has(c, file)) {
      const kind = files.kind(c);
      const reason =
        why ??
        (kind === 'v2'
          ? `${file} is missing: the ${c === 'blkio' ? 'io' : c} controller is not enabled for ${files.id} (its parent's cgroup.subtree_control)`
          : `${file} is missing for ${files.id}`);
      throw refused(`${flag}: ${reason}`);
    }
    return files.path(c, file);
  };
  /** Adds a write unless the file already holds the value (noted). */
  const add = (c: Controller, file: string, newValue: string, flag: string, force = false): void => {
    const p = needFile(c, file, flag);
    const sem = semanticsOf(file);
    const content = files.read(c, sem.readFrom ?? file) ?? '';
    const oldValue = sem.current(content, newValue);
    if (!force && sem.satisfies(oldValue, newValue)) {
      notes.push(`${flag}: ${file} already holds ${newValue}; not written`);
      return;
    }
    writes.push({ path: p, oldValue, newValue });
  };

  planMemory(req, files, host, options, name, { need, needFile, add, notes, writes });
  planCpu(req, files, host, { need, add, notes });
  planCpuset(req, files, host, { need, add });
  if (req.pidsLimit !== undefined) {
    const v = req.pidsLimit === UNLIMITED ? 'max' : String(req.pidsLimit);
    add('pids', 'pids.max', v, '--pids-limit');
    const current = Number(files.read('pids', 'pids.current'));
    if (req.pidsLimit !== UNLIMITED && Number.isFinite(current) && current > req.pidsLimit) {
      notes.push(
        `--pids-limit ${req.pidsLimit}: ${current} tasks already run; they keep running, new forks fail until fewer than ${req.pidsLimit} remain`,
      );
    }
  }
  if (req.blkioWeight !== undefined) planBlkioWeight(req.blkioWeight, files, { need, add, notes });
  planThrottles(req, files, host, { need, add });
  planDeviceRules(req, files, { need, add, notes });
  return { writes, notes };
}

interface Helpers {
  need(c: Controller, flag: string): 'v1' | 'v2';
  needFile(c: Controller, file: string, flag: string, why?: string): string;
  add(c: Controller, file: string, newValue: string, flag: string, force?: boolean): void;
  notes: string[];
  writes: PlannedWrite[];
}

/** A byte value rounded down to whole pages as the kernel stores it (noted when that changes it). */
function pages(v: number, host: HostFacts, flag: string, notes: string[]): number {
  const rounded = Math.floor(v / host.pageSize) * host.pageSize;
  if (rounded !== v) {
    notes.push(
      `${flag}: ${v} bytes rounded down to ${rounded} (whole ${host.pageSize}-byte pages, as the kernel stores it)`,
    );
  }
  return rounded;
}

function num(text: string | null): number | null | undefined {
  if (text === null) return undefined;
  const v = limitValue(text);
  return v === undefined ? undefined : v === null ? null : Number(v);
}

function belowUsage(
  flag: string,
  limit: number,
  usage: number | null,
  name: string,
  what: string,
  force: boolean,
  notes: string[],
): void {
  if (usage === null || limit >= usage) return;
  const msg = `${flag} ${formatBytes(limit)} is ${formatBytes(usage - limit)} below the current ${what} of ${formatBytes(usage)} of ${name}`;
  if (!force) {
    throw refused(
      `${msg}: the kernel would have to reclaim that much at once or OOM-kill processes; pass --force to set it anyway`,
    );
  }
  notes.push(`${msg} (--force: the kernel will reclaim or OOM-kill)`);
}

function planMemory(
  req: ParsedRequest,
  files: CgroupFiles,
  host: HostFacts,
  options: LimitOptions,
  name: string,
  h: Helpers,
): void {
  const touched =
    req.memory !== undefined ||
    req.memorySwap !== undefined ||
    req.memoryReservation !== undefined ||
    req.memoryHigh !== undefined;
  if (!touched) return;
  const first =
    req.memory !== undefined
      ? '--memory'
      : req.memorySwap !== undefined
        ? '--memory-swap'
        : req.memoryReservation !== undefined
          ? '--memory-reservation'
          : '--memory-high';
  const kind = h.need('memory', first);
  const force = options.force === true;
  const newMem =
    req.memory === undefined
      ? undefined
      : req.memory === UNLIMITED
        ? null
        : pages(req.memory, host, '--memory', h.notes);

  if (kind === 'v1') {
    if (req.memoryHigh !== undefined) {
      throw refused(
        '--memory-high needs cgroup v2 (memory.high); memory is on cgroup v1 here: use --memory-reservation for a soft limit',
      );
    }
    h.needFile('memory', 'memory.limit_in_bytes', first);
    const curMem = num(files.read('memory', 'memory.limit_in_bytes')) ?? null;
    const hasMemsw = files.has('memory', 'memory.memsw.limit_in_bytes');
    const curSw = hasMemsw ? (num(files.read('memory', 'memory.memsw.limit_in_bytes')) ?? null) : null;
    const effMem = newMem === undefined ? curMem : newMem;
    let newSw: number | null | undefined;
    if (req.memorySwap !== undefined) {
      if (!hasMemsw) {
        throw refused(
          '--memory-swap: this kernel does not account swap for cgroups (memory.memsw.limit_in_bytes is missing; boot with swapaccount=1)',
        );
      }
      if (req.memorySwap === UNLIMITED) newSw = null;
      else {
        if (effMem === null) {
          throw invalid(
            '--memory-swap',
            formatBytesExact(req.memorySwap),
            'needs a memory limit (give --memory too): memory plus swap cannot be limited when memory is not',
          );
        }
        newSw = pages(req.memorySwap, host, '--memory-swap', h.notes);
        if (newSw < effMem) {
          throw invalid(
            '--memory-swap',
            formatBytesExact(req.memorySwap),
            `is below the memory limit ${formatBytes(effMem)}: it is memory plus swap, so it must be at least that`,
          );
        }
      }
    } else if (newMem !== undefined && curSw !== null && (newMem === null || newMem > curSw)) {
      throw invalid(
        '--memory',
        newMem === null ? 'unlimited' : formatBytesExact(newMem),
        `is above the memory+swap limit ${formatBytes(curSw)}; raise --memory-swap at the same time (-1 for unlimited swap)`,
      );
    }
    const usage = num(files.read('memory', 'memory.usage_in_bytes')) ?? null;
    if (typeof newMem === 'number') belowUsage('--memory', newMem, usage, name, 'memory usage', force, h.notes);
    if (typeof newSw === 'number') {
      const swUsage = num(files.read('memory', 'memory.memsw.usage_in_bytes')) ?? null;
      belowUsage('--memory-swap', newSw, swUsage, name, 'memory+swap usage', force, h.notes);
    }
    const memWrite = (): void => {
      if (newMem !== undefined)
        h.add('memory', 'memory.limit_in_bytes', newMem === null ? '-1' : String(newMem), '--memory');
    };
    const swWrite = (): void => {
      if (newSw !== undefined)
        h.add('memory', 'memory.memsw.limit_in_bytes', newSw === null ? '-1' : String(newSw), '--memory-swap');
    };
    // memory <= memory+swap must hold after each write: raise memsw first when
    // the old memory limit fits under the new memsw, else lower memory first.
    const inf = (v: number | null): number => (v === null ? Infinity : v);
    if (newSw !== undefined && inf(curMem) <= inf(newSw)) {
      swWrite();
      memWrite();
    } else {
      memWrite();
      swWrite();
    }
    if (req.memoryReservation !== undefined) {
      const r =
        req.memoryReservation === UNLIMITED
          ? null
          : pages(req.memoryReservation, host, '--memory-reservation', h.notes);
      if (r !== null && effMem !== null && r > effMem) {
        throw invalid(
          '--memory-reservation',
          formatBytesExact(r),
          `is above the memory limit ${formatBytes(effMem)}: a reservation must not exceed the limit`,
        );
      }
      h.add('memory', 'memory.soft_limit_in_bytes', r === null ? '-1' : String(r), '--memory-reservation');
    }
    return;
  }

  // cgroup v2
  h.needFile('memory', 'memory.max', first);
  const curMem = num(files.read('memory', 'memory.max')) ?? null;
  const effMem = newMem === undefined ? curMem : newMem;
  const usage = num(files.read('memory', 'memory.current')) ?? null;
  if (typeof newMem === 'number') belowUsage('--memory', newMem, usage, name, 'memory usage', force, h.notes);
  if (newMem !== undefined) h.add('memory', 'memory.max', newMem === null ? 'max' : String(newMem), '--memory');
  if (req.memorySwap !== undefined) {
    h.needFile(
      'memory',
      'memory.swap.max',
      '--memory-swap',
      'memory.swap.max is missing: this kernel does not account swap for cgroups',
    );
    let swap: string;
    if (req.memorySwap === UNLIMITED) swap = 'max';
    else {
      if (effMem === null) {
        throw invalid(
          '--memory-swap',
          formatBytesExact(req.memorySwap),
          'needs a memory limit (give --memory too): memory plus swap cannot be limited when memory is not',
        );
      }
      const total = pages(req.memorySwap, host, '--memory-swap', h.notes);
      if (total < effMem) {
        throw invalid(
          '--memory-swap',
          formatBytesExact(req.memorySwap),
          `is below the memory limit ${formatBytes(effMem)}: it is memory plus swap, so it must be at least that`,
        );
      }
      swap = String(total - effMem);
      h.notes.push(
        `--memory-swap ${bytesText(total)}: cgroup v2 limits swap alone, so memory.swap.max = ${formatBytes(total - effMem)} (memory+swap minus memory)`,
      );
    }
    h.add('memory', 'memory.swap.max', swap, '--memory-swap');
  } else if (newMem !== undefined && files.has('memory', 'memory.swap.max')) {
    const sw = num(files.read('memory', 'memory.swap.max'));
    if (typeof sw === 'number' && newMem !== null) {
      h.notes.push(
        `--memory: memory.swap.max stays ${formatBytes(sw)}, so memory+swap is now ${formatBytes(newMem + sw)}`,
      );
    }
  }
  if (req.memoryHigh !== undefined) {
    const hi = req.memoryHigh === UNLIMITED ? null : pages(req.memoryHigh, host, '--memory-high', h.notes);
    if (hi !== null && effMem !== null && hi > effMem) {
      throw invalid(
        '--memory-high',
        formatBytesExact(hi),
        `is above the memory limit ${formatBytes(effMem)}: it would never apply`,
      );
    }
    if (hi !== null) belowUsage('--memory-high', hi, usage, name, 'memory usage', force, h.notes);
    h.add('memory', 'memory.high', hi === null ? 'max' : String(hi), '--memory-high');
  }
  if (req.memoryReservation !== undefined) {
    const r =
      req.memoryReservation === UNLIMITED ? null : pages(req.memoryReservation, host, '--memory-reservation', h.notes);
    if (r !== null && effMem !== null && r > effMem) {
      throw invalid(
        '--memory-reservation',
        formatBytesExact(r),
        `is above the memory limit ${formatBytes(effMem)}: a reservation must not exceed the limit`,
      );
    }
    h.notes.push(
      r === null
        ? '--memory-reservation: removing the reservation sets memory.low to 0 on cgroup v2'
        : '--memory-reservation sets memory.low on cgroup v2 (protection from reclaim; v2 has no soft limit)',
    );
    h.add('memory', 'memory.low', r === null ? '0' : String(r), '--memory-reservation');
  }
}

function planCpu(
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

function planCpuset(req: ParsedRequest, files: CgroupFiles, host: HostFacts, h: Pick<Helpers, 'need' | 'add'>): void {
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

function planBlkioWeight(weight: number, files: CgroupFiles, h: Pick<Helpers, 'need' | 'add' | 'notes'>): void {
  const kind = h.need('blkio', '--blkio-weight');
  if (kind === 'v1') {
    const file = files.has('blkio', 'blkio.weight')
      ? 'blkio.weight'
      : files.has('blkio', 'blkio.bfq.weight')
        ? 'blkio.bfq.weight'
        : null;
    if (!file)
      throw refused(
        '--blkio-weight: no blkio.weight or blkio.bfq.weight here (proportional IO weights need the BFQ or CFQ io scheduler)',
      );
    if (file === 'blkio.bfq.weight')
      h.notes.push('--blkio-weight sets blkio.bfq.weight: it applies on devices using the BFQ io scheduler');
    h.add('blkio', file, String(weight), '--blkio-weight');
    return;
  }
  // io.weight first, as the snapshot reads it (runc prefers io.bfq.weight; see docs/limiter.md).
  if (files.has('blkio', 'io.weight')) {
    const w = blkioWeightToIoWeight(weight);
    h.notes.push(`--blkio-weight ${weight} is io.weight ${w} on cgroup v2 (runc's conversion)`);
    h.add('blkio', 'io.weight', `default ${w}`, '--blkio-weight');
  } else if (files.has('blkio', 'io.bfq.weight')) {
    h.notes.push('--blkio-weight sets io.bfq.weight: it applies on devices using the BFQ io scheduler');
    h.add('blkio', 'io.bfq.weight', String(weight), '--blkio-weight');
  } else {
    throw refused(
      '--blkio-weight: no io.weight or io.bfq.weight here (the io controller is not enabled for this cgroup, or no weight-based io scheduler)',
    );
  }
}

const V1_THROTTLE_FILE: Record<ThrottleKind, string> = {
  readBps: 'blkio.throttle.read_bps_device',
  writeBps: 'blkio.throttle.write_bps_device',
  readIops: 'blkio.throttle.read_iops_device',
  writeIops: 'blkio.throttle.write_iops_device',
};
const V2_KEY: Record<ThrottleKind, string> = {
  readBps: 'rbps',
  writeBps: 'wbps',
  readIops: 'riops',
  writeIops: 'wiops',
};
const THROTTLE_FLAG: Record<ThrottleKind, string> = {
  readBps: '--device-read-bps',
  writeBps: '--device-write-bps',
  readIops: '--device-read-iops',
  writeIops: '--device-write-iops',
};

function planThrottles(
  req: ParsedRequest,
  files: CgroupFiles,
  host: HostFacts,
  h: Pick<Helpers, 'need' | 'add'>,
): void {
  const kinds = (Object.keys(req.throttles) as ThrottleKind[]).filter((k) => req.throttles[k].length > 0);
  if (kinds.length === 0) return;
  for (const k of kinds) {
    for (const r of req.throttles[k]) {
      const d = host.blockDevice(r.device.major, r.device.minor);
      const shown = `${r.device.text}:${r.rate === UNLIMITED ? 'unlimited' : r.rate}`;
      if (!d)
        throw invalid(THROTTLE_FLAG[k], shown, `no block device ${r.device.major}:${r.device.minor} on this host`);
      if (d.kind === 'partition') {
        throw invalid(
          THROTTLE_FLAG[k],
          shown,
          `${d.name} is a partition; the kernel throttles whole disks (use /dev/${d.disk ?? 'the disk'})`,
        );
      }
    }
  }
  const kind = h.need('blkio', THROTTLE_FLAG[kinds[0]]);
  if (kind === 'v1') {
    for (const k of kinds) {
      for (const r of req.throttles[k]) {
        h.add(
          'blkio',
          V1_THROTTLE_FILE[k],
          `${r.device.major}:${r.device.minor} ${r.rate === UNLIMITED ? 0 : r.rate}`,
          THROTTLE_FLAG[k],
        );
      }
    }
    return;
  }
  // v2: one io.max line per device carrying every key asked for it.
  const byDevice = new Map<string, string[]>();
  for (const k of kinds) {
    for (const r of req.throttles[k]) {
      const dev = `${r.device.major}:${r.device.minor}`;
      const keys = byDevice.get(dev) ?? [];
      keys.push(`${V2_KEY[k]}=${r.rate === UNLIMITED ? 'max' : r.rate}`);
      byDevice.set(dev, keys);
    }
  }
  for (const [dev, keys] of byDevice) h.add('blkio', 'io.max', `${dev} ${keys.join(' ')}`, THROTTLE_FLAG[kinds[0]]);
}

function planDeviceRules(req: ParsedRequest, files: CgroupFiles, h: Pick<Helpers, 'need' | 'add' | 'notes'>): void {
  if (req.deviceAllow.length === 0 && req.deviceDeny.length === 0) return;
  const flag = req.deviceDeny.length > 0 ? '--device-deny' : '--device-allow';
  const d = files.controller('devices');
  if (!d || d.kind !== 'v1') {
    if (
      files.mounts.unified &&
      !files.mounts.hierarchies.some((x) => x.kind === 'v1' && x.controllers.includes('devices'))
    ) {
      throw refused(
        `${flag}: on cgroup v2 device rules are BPF programs attached to the cgroup, not files; tstop cannot change them yet (that needs the launcher's helper). Nothing was changed`,
      );
    }
    throw refused(`${flag}: ${files.missing('devices')}`);
  }
  const list = files.read('devices', 'devices.list') ?? '';
  // Denies first: "--device-deny a --device-allow 'c 1:3 rwm'" means "only 1:3".
  const ops: [string, DeviceRuleSpec][] = [
    ...req.deviceDeny.map((r): [string, DeviceRuleSpec] => ['devices.deny', r]),
    ...req.deviceAllow.map((r): [string, DeviceRuleSpec] => ['devices.allow', r]),
  ];
  let state = list;
  let hiddenDeny = false;
  for (const [file, r] of ops) {
    const value = r.type === 'a' ? 'a' : formatDeviceRule(r);
    const flag = file === 'devices.deny' ? '--device-deny' : '--device-allow';
    const allowAll = state.trim() === 'a *:* rwm';
    if (file === 'devices.deny' && r.type !== 'a') {
      if (allowAll) hiddenDeny = true;
      else {
        // The kernel removes only the entry with exactly this type and these numbers.
        const after = parseDevicesList(expectedDeviceList(state, [[file, value]]));
        const still = after.filter((e) => overlaps(e, r));
        if (still.length > 0) {
          throw invalid(
            flag,
            value,
            `the kernel only removes a rule with exactly the same type and numbers, so ${still.map((e) => quote(formatDeviceRule(e))).join(', ')} would still grant ${r.access
              .split('')
              .filter((c) => still.some((e) => e.access.includes(c)))
              .join('')}; deny ${still.length === 1 ? 'that rule' : 'those rules'} instead`,
          );
        }
      }
    }
    state = expectedDeviceList(state, [[file, value]]);
    h.add('devices', file, value, flag, true);
  }
  if (hiddenDeny) {
    h.notes.push(
      'device rules: the cgroup allows every device (allow-all mode); the kernel does not list deny exceptions there, so the deny cannot be read back, and undo lifts every deny exception',
    );
  }
}

/** Whether two device rules name some device in common with some access in common. */
function overlaps(e: DeviceRuleSpec, r: DeviceRuleSpec): boolean {
  const num = (a: number | null, b: number | null): boolean => a === null || b === null || a === b;
  return (
    (e.type === 'a' || r.type === 'a' || e.type === r.type) &&
    num(e.major, r.major) &&
    num(e.minor, r.minor) &&
    [...r.access].some((c) => e.access.includes(c))
  );
}

/** Freeze or thaw: v1 freezer.state, v2 cgroup.freeze. */
export function planFreeze(files: CgroupFiles, frozen: boolean): PlanOutput {
  const d = files.controller('freezer');
  const verb = frozen ? 'freeze' : 'thaw';
  if (!d) throw refused(`cannot ${verb} ${files.id}: ${files.missing('freezer')}`);
  const file = d.kind === 'v1' ? 'freezer.state' : 'cgroup.freeze';
  if (!files.has('freezer', file)) throw refused(`cannot ${verb} ${files.id}: ${file} is missing`);
  const newValue = d.kind === 'v1' ? (frozen ? 'FROZEN' : 'THAWED') : frozen ? '1' : '0';
  const oldValue = files.read('freezer', file) ?? '';
  const notes: string[] = [];
  if (oldValue.trim() === newValue) notes.push(`${files.id} is already ${frozen ? 'frozen' : 'thawed'}`);
  return { writes: [{ path: files.path('freezer', file), oldValue, newValue }], notes };
}
