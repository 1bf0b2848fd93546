// Freezer state: v1 freezer.state, v2 cgroup.freeze (asked) with
// cgroup.events "frozen" (reached). On hybrid hosts both may apply; the
// more frozen of the two is reported.

import { heldFile, populationFile, UNIFIED, writtenFile } from '../src/cgroupfs/files.js';
import { KeyedFormat, equalsAscii } from '../src/cgroupfs/parse.js';
import type { CgroupSource } from '../src/cgroupfs/source.js';
import type { FreezerState } from '../src/model/types.js';
import type { CgroupCollector } from './api.js';

/**
 * v1: THAWED becomes FREEZING only by a write of freezer.state in the cgroup
 * or above it (FREEZING becomes FROZEN by itself, and FROZEN becomes
 * FREEZING when a task moves in: those are read every tick).
 */
const V1 = {
  state: heldFile('freezer', 'freezer.state', {
    by: 'freezer.state',
    scope: 'subtree',
    holds: (buf, start, end) => equalsAscii(buf, start, end, 'THAWED'),
  }),
};
const V2 = { freeze: writtenFile(UNIFIED, 'cgroup.freeze'), events: populationFile(UNIFIED, 'cgroup.events') };

export const cgroupEvents = new KeyedFormat(['populated', 'frozen'] as const);
const events = cgroupEvents.newValues();

/** Pure: v1 freezer.state text. */
export function parseFreezerState(buf: Uint8Array, len: number, start = 0): FreezerState | null {
  if (equalsAscii(buf, start, len, 'THAWED')) return 'thawed';
  if (equalsAscii(buf, start, len, 'FREEZING')) return 'freezing';
  if (equalsAscii(buf, start, len, 'FROZEN')) return 'frozen';
  return null;
}

/** Pure: v2 state from cgroup.freeze (1 = asked to freeze) and cgroup.events frozen. */
export function v2FreezerState(freeze: number | null, frozen: number | null): FreezerState | null {
  if (freeze === null) return null;
  if (freeze === 0) return frozen === 1 ? 'frozen' : 'thawed'; // frozen by an ancestor
  return frozen === 1 ? 'frozen' : 'freezing';
}

const RANK: Record<FreezerState, number> = { thawed: 0, freezing: 1, frozen: 2 };

export interface FreezerAndPopulated {
  state: FreezerState | null;
  /** v2 cgroup.events "populated" (processes here or below), null where unknown. */
  populated: boolean | null;
}

/** collectFreezer's answer, one object for every cgroup (read at once by the caller). */
const answer: FreezerAndPopulated = { state: null, populated: null };

function answered(state: FreezerState | null, populated: boolean | null): FreezerAndPopulated {
  answer.state = state;
  answer.populated = populated;
  return answer;
}

/** The freezer state and "populated"; the object returned is reused by the next call. */
export function collectFreezer(src: CgroupSource): FreezerAndPopulated {
  let v1: FreezerState | null = null;
  if (src.has(V1.state) && !src.isV2('freezer')) {
    const n = src.read(V1.state);
    if (n >= 0) v1 = parseFreezerState(src.buf, src.end, src.start);
  }
  let v2: FreezerState | null = null;
  let populated: boolean | null = null;
  if (src.keyed(V2.events, cgroupEvents, events)) {
    if (!Number.isNaN(events[0])) populated = events[0] === 1;
    const frozen = Number.isNaN(events[1]) ? null : events[1];
    v2 = v2FreezerState(src.number(V2.freeze), frozen);
  }
  if (v1 === null) return answered(v2, populated);
  if (v2 === null) return answered(v1, populated);
  return answered(RANK[v2] > RANK[v1] ? v2 : v1, populated);
}

/** Runs after the processes collector: without v2's cgroup.events, "populated" is whether processes were found. */
export const freezerCollector: CgroupCollector = {
  name: 'freezer',
  fields: ['freezer', 'populated'],
  uses: ['processes'],
  collect(src, _context, out) {
    const freezer = collectFreezer(src);
    out.freezer = freezer.state;
    out.populated = freezer.populated ?? out.processes.length > 0;
  },
};
