// applyRates pairs each cgroup with its container of the previous snapshot
// by id (and inode): walked in step while both lists are in the same order,
// by a lookup past a cgroup added, gone or moved. Every pairing must be the
// one a lookup by id gives.

import { describe, expect, it } from 'vitest';
import { applyRates } from '../../src/model/rates.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';

function container(id: string, usageSeconds: number, inode = 1): ContainerSnapshot {
  const cpu = {
    usageSeconds,
    percent: null,
    quotaPercent: null,
    quotaCores: null,
    periods: null,
    throttledPeriods: null,
  };
  return { id, inode, cpu, io: null, network: null } as unknown as ContainerSnapshot;
}

function snapshot(monotonicSeconds: number, containers: ContainerSnapshot[]): Snapshot {
  const host = { cpuUsageSeconds: null, network: null, cpuPercent: null };
  return { monotonicSeconds, host, containers } as unknown as Snapshot;
}

const percents = (s: Snapshot): Record<string, number | null> =>
  Object.fromEntries(s.containers.map((c) => [c.id, c.cpu!.percent]));

describe('applyRates pairs cgroups with their previous containers', () => {
  it('in step, past an added, a gone and a moved cgroup, and never across a new inode', () => {
    const prev = snapshot(10, [
      container('/a', 1),
      container('/b', 2),
      container('/gone', 3),
      container('/c', 4),
      container('/moved', 5),
      container('/d', 6),
      container('/recreated', 7, 1),
    ]);
    const cur = snapshot(12, [
      container('/a', 1.5),
      container('/new', 9),
      container('/b', 3),
      container('/c', 4),
      container('/d', 7),
      container('/moved', 6),
      container('/recreated', 8, 2),
      container('/e', 1),
    ]);
    applyRates(prev, cur);
    expect(percents(cur)).toEqual({
      '/a': 25,
      '/new': null,
      '/b': 50,
      '/c': 0,
      '/d': 50,
      '/moved': 50,
      '/recreated': null,
      '/e': null,
    });
  });
});
