// What every plan step gets: the checks and the write list of planLimit
// (src/limiter/plan.ts), and the small value helpers they share.

import type { PlannedWrite } from '../api.js';
import type { Controller } from '../cgroup.js';
import type { HostFacts } from '../host.js';
import { limitValue } from '../values.js';

export interface Helpers {
  need(c: Controller, flag: string): 'v1' | 'v2';
  needFile(c: Controller, file: string, flag: string, why?: string): string;
  add(c: Controller, file: string, newValue: string, flag: string, force?: boolean): void;
  notes: string[];
  writes: PlannedWrite[];
}

/** A byte value rounded down to whole pages as the kernel stores it (noted when that changes it). */
export function pages(v: number, host: HostFacts, flag: string, notes: string[]): number {
  const rounded = Math.floor(v / host.pageSize) * host.pageSize;
  if (rounded !== v) {
    notes.push(
      `${flag}: ${v} bytes rounded down to ${rounded} (whole ${host.pageSize}-byte pages, as the kernel stores it)`,
    );
  }
  return rounded;
}

export function num(text: string | null): number | null | undefined {
  if (text === null) return undefined;
  const v = limitValue(text);
  return v === undefined ? undefined : v === null ? null : Number(v);
}
