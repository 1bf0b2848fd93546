// pids: tasks in the cgroup, the limit, and how often the limit refused a fork.
// Same file names on v1 and v2.

import { cgroupFile, executionFile, settingFile } from '../src/cgroupfs/files.js';
import { KeyedFormat } from '../src/cgroupfs/parse.js';
import { CgroupSource, known } from '../src/cgroupfs/source.js';
import type { PidsStats } from '../src/model/types.js';
import type { CgroupCollector } from './api.js';

const FILES = {
  current: cgroupFile('pids', 'pids.current'),
  max: settingFile('pids', 'pids.max'),
  peak: executionFile('pids', 'pids.peak'),
  events: executionFile('pids', 'pids.events'),
};

export const pidsEvents = new KeyedFormat(['max'] as const);
const events = pidsEvents.newValues();

export function collectPids(src: CgroupSource): PidsStats | null {
  const current = src.number(FILES.current);
  if (current === null) return null; // the root cgroup has no pids.current
  return {
    current,
    limit: src.limit(FILES.max),
    peak: src.number(FILES.peak),
    limitHits: src.keyed(FILES.events, pidsEvents, events) ? known(events[0]) : null,
  };
}

export const pidsCollector: CgroupCollector = {
  name: 'pids',
  fields: ['pids'],
  collect(src, _context, out) {
    out.pids = collectPids(src);
  },
};
