// Where a container's cgroup and its runtime's record disagree. `tstop limit`
// and `tstop freeze` write the cgroup only: docker inspect keeps its own
// config, `docker restart` re-applies it, and docker's pause state does not
// know about a freezer tstop set. The snapshot notes each disagreement and the
// dashboard marks it, so nobody trusts a limit that will silently go away.

import { formatBytes } from '../util/format.js';
import type { ContainerSnapshot } from './types.js';

export type DriftField = 'memory' | 'cpus' | 'pids' | 'frozen';

export interface RuntimeDrift {
  field: DriftField;
  /** What the cgroup has now (null: unlimited / not frozen). */
  cgroup: number | boolean | null;
  /** What the runtime has on record (null: unlimited / not paused). */
  runtime: number | boolean | null;
}

// cpu.max and cfs_quota_us round a docker --cpus value to the microsecond.
const CPUS_TOLERANCE = 0.001;

/** The disagreements between c's cgroup and its runtime's record; [] when none or when the runtime keeps no record. */
export function runtimeDrift(c: ContainerSnapshot): RuntimeDrift[] {
  const rc = c.runtimeConfig;
  if (rc === null) return [];
  const out: RuntimeDrift[] = [];
  const memory = c.memory?.limitBytes;
  if (memory !== undefined && memory !== rc.memoryLimitBytes) {
    out.push({ field: 'memory', cgroup: memory, runtime: rc.memoryLimitBytes });
  }
  const cpus = c.cpu?.quotaCores;
  if (cpus !== undefined && !sameCpus(cpus, rc.cpus)) out.push({ field: 'cpus', cgroup: cpus, runtime: rc.cpus });
  const pids = c.pids?.limit;
  if (pids !== undefined && pids !== rc.pidsLimit) out.push({ field: 'pids', cgroup: pids, runtime: rc.pidsLimit });
  if (c.freezer !== null) {
    const frozen = c.freezer !== 'thawed';
    if (frozen !== rc.paused) out.push({ field: 'frozen', cgroup: frozen, runtime: rc.paused });
  }
  return out;
}

function sameCpus(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) < CPUS_TOLERANCE;
}

const NOTE_NAMES_SHOWN = 5;

/** One drift as words: "memory limit 128M (docker: unlimited)". */
export function describeDrift(d: RuntimeDrift): string {
  switch (d.field) {
    case 'memory':
      return `memory limit ${bytesOrUnlimited(d.cgroup)} (docker: ${bytesOrUnlimited(d.runtime)})`;
    case 'cpus':
      return `cpus ${d.cgroup ?? 'unlimited'} (docker: ${d.runtime ?? 'unlimited'})`;
    case 'pids':
      return `pids limit ${d.cgroup ?? 'unlimited'} (docker: ${d.runtime ?? 'unlimited'})`;
    case 'frozen':
      return d.cgroup === true
        ? 'frozen outside docker (docker ps says Up; docker exec, pause and unpause fail until tstop thaw)'
        : 'paused by docker but thawed outside it (docker still says Paused)';
  }
}

function bytesOrUnlimited(v: number | boolean | null): string {
  return typeof v === 'number' ? formatBytes(v) : 'unlimited';
}

/** The snapshot's note about containers whose cgroup differs from their runtime's record; null when none does. */
export function driftNote(containers: readonly ContainerSnapshot[]): string | null {
  const drifting: string[] = [];
  for (const c of containers) {
    const drift = runtimeDrift(c);
    if (drift.length > 0) drifting.push(`${c.name}: ${drift.map(describeDrift).join(', ')}`);
  }
  if (drifting.length === 0) return null;
  const more = drifting.length - NOTE_NAMES_SHOWN;
  const shown = drifting.slice(0, NOTE_NAMES_SHOWN).join('; ') + (more > 0 ? `; and ${more} more` : '');
  return `cgroup differs from docker's own config for ${drifting.length} container(s), which docker restart puts back: ${shown}`;
}
