// The v2 lane (`npm run test:v2`, TSTOP_TEST_LANE=v2) must really be pure
// cgroup v2, or its passing tests would prove nothing about v2.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface Mount {
  mountPoint: string;
  fsType: string;
}

// /proc/self/mountinfo: "id parent dev root mountpoint opts [tags] - fstype source superopts"
function cgroupMounts(): Mount[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(' - '))
    .map((line) => {
      const [before, after] = line.split(' - ');
      return { mountPoint: before.split(' ')[4], fsType: after.split(' ')[0] };
    })
    .filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2');
}

const lane = process.env.TSTOP_TEST_LANE;

describe.runIf(lane === 'v2')('v2 lane: pure cgroup v2', () => {
  it('has cgroup2 at /sys/fs/cgroup and no v1 cgroup mounts', () => {
    const mounts = cgroupMounts();
    expect(mounts).toContainEqual({ mountPoint: '/sys/fs/cgroup', fsType: 'cgroup2' });
    expect(mounts.filter((m) => m.fsType === 'cgroup')).toEqual([]);
  });

  it('offers memory, cpu, io and pids at the root', () => {
    const controllers = readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').trim().split(' ');
    expect(controllers).toEqual(expect.arrayContaining(['memory', 'cpu', 'io', 'pids']));
  });
});
