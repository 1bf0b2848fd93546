// Memory limits: --memory, --memory-swap, --memory-reservation, --memory-high,
// in the order that keeps memory <= memory+swap at every step.

import type { LimitOptions } from '../api.js';
import type { CgroupFiles } from '../cgroup.js';
import type { HostFacts } from '../host.js';
import { refused } from '../safety.js';
import { formatBytesExact, invalid, UNLIMITED } from '../units.js';
import { formatBytes } from '../../util/format.js';
import { bytesText, type ParsedRequest } from './request.js';
import { num, pages, type Helpers } from './steps.js';

export function belowUsage(
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

export function planMemory(
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
