// A container whose cgroup differs from its runtime's record (tstop limit or
// freeze on a docker container; docker restart puts docker's values back).

import { describe, expect, it } from 'vitest';
import { parseDockerHostConfig } from '../../src/discovery/runtimes/docker.js';
import { driftNote, runtimeDrift } from '../../src/model/drift.js';
import { v2Container } from '../../src/model/samples.js';
import type { ContainerSnapshot } from '../../src/model/types.js';

const MiB = 1024 * 1024;
const DOCKER = { memoryLimitBytes: 256 * MiB, cpus: 0.5, pidsLimit: null, paused: false };

function web(overrides: Partial<ContainerSnapshot> = {}): ContainerSnapshot {
  const c = v2Container({ runtimeConfig: DOCKER, freezer: 'thawed' });
  return { ...c, pids: { ...c.pids!, limit: null }, ...overrides };
}

describe('parseDockerHostConfig', () => {
  it('reads --memory, --cpus (NanoCpus), --cpu-quota and --pids-limit; 0, -1 and null are unlimited', () => {
    expect(parseDockerHostConfig({ Memory: 134217728, NanoCpus: 1500000000, PidsLimit: 64 })).toEqual({
      memoryLimitBytes: 134217728,
      cpus: 1.5,
      pidsLimit: 64,
    });
    expect(parseDockerHostConfig({ Memory: 0, CpuQuota: 50000, CpuPeriod: 0, PidsLimit: -1 })).toEqual({
      memoryLimitBytes: null,
      cpus: 0.5,
      pidsLimit: null,
    });
    expect(parseDockerHostConfig({ Memory: 0, NanoCpus: 0, CpuQuota: 0, PidsLimit: null })).toEqual({
      memoryLimitBytes: null,
      cpus: null,
      pidsLimit: null,
    });
    expect(parseDockerHostConfig('not an object')).toBeNull();
  });
});

describe('runtimeDrift', () => {
  it('finds nothing when the cgroup has docker values (cpus within the microsecond rounding)', () => {
    const c = web();
    expect(c.memory!.limitBytes).toBe(256 * MiB);
    expect(runtimeDrift({ ...c, cpu: { ...c.cpu!, quotaCores: 0.50001 } })).toEqual([]);
    expect(driftNote([c])).toBeNull();
  });

  it('names a tstop limit docker does not know, and a freeze docker does not see', () => {
    const c = web({ freezer: 'frozen' });
    const limited = { ...c, memory: { ...c.memory!, limitBytes: 128 * MiB } };
    expect(runtimeDrift(limited)).toEqual([
      { field: 'memory', cgroup: 128 * MiB, runtime: 256 * MiB },
      { field: 'frozen', cgroup: true, runtime: false },
    ]);
    expect(driftNote([limited])).toBe(
      "cgroup differs from docker's own config for 1 container(s), which docker restart puts back: " +
        'web: memory limit 128MiB (docker: 256MiB), frozen outside docker (docker ps says Up; docker exec, pause and unpause fail until tstop thaw)',
    );
  });

  it('sees a docker pause thawed behind docker, and ignores runtimes without a record', () => {
    expect(runtimeDrift(web({ runtimeConfig: { ...DOCKER, paused: true } }))).toEqual([
      { field: 'frozen', cgroup: false, runtime: true },
    ]);
    expect(runtimeDrift(web({ runtimeConfig: null, freezer: 'frozen' }))).toEqual([]);
  });
});
