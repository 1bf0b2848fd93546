// From what the user typed to the exact file writes, for cgroup v1 and v2.
// Two steps, both before any write (the steps live in src/limiter/plan/):
// - parseRequest: every flag parsed and checked on its own and against the
//   other flags (units, ranges that do not depend on the host, conflicts):
//   plan/request.ts;
// - planLimit: against the cgroup's current files and the host (online
//   CPUs, devices, usage, v1 or v2), translated to files and values, in the
//   order that keeps every intermediate state valid.

import type { LimitOptions, PlannedWrite } from './api.js';
import type { CgroupFiles, Controller } from './cgroup.js';
import type { HostFacts } from './host.js';
import { refused } from './safety.js';
import { UNLIMITED } from './units.js';
import { semanticsOf } from './values.js';
import { planCpu, planCpuset } from './plan/cpu.js';
import { planDeviceRules } from './plan/devices.js';
import { planBlkioWeight, planThrottles } from './plan/io.js';
import { planMemory } from './plan/memory.js';
import type { ParsedRequest } from './plan/request.js';

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
