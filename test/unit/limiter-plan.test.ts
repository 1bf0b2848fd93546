// The v1/v2 translation, planned against the fixture trees in
// test/fixtures/limiter (a container with 100 MiB in use, 12 tasks, a read
// throttle on 8:0, a v1 device whitelist). Nothing here writes a file.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CgroupMounts, Hierarchy } from '../../src/cgroupfs/mounts.js';
import { LimitError, type LimitOptions, type LimitRequest } from '../../src/limiter/api.js';
import { CgroupFiles } from '../../src/limiter/cgroup.js';
import type { HostFacts } from '../../src/limiter/host.js';
import { planFreeze, planLimit } from '../../src/limiter/plan.js';
import { parseRequest } from '../../src/limiter/plan/request.js';

const FIXTURES = path.resolve(__dirname, '../fixtures/limiter');
const CID = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const ID = `/docker/${CID}`;
const U = '9223372036854771712';
const MiB = 1024 * 1024;

function v1Mounts(root = FIXTURES): CgroupMounts {
  const ctrls = ['memory', 'cpu', 'cpuset', 'pids', 'blkio', 'devices', 'freezer'];
  const hierarchies: Hierarchy[] = ctrls.map((c, i) => ({
    kind: 'v1',
    mountPoint: path.join(root, 'v1', c),
    mountRoot: '/',
    controllers: [c],
    name: null,
    device: `0:${40 + i}`,
  }));
  return { mode: 'v1', hierarchies, unified: null, source: 'fixture', root: '/' };
}

function v2Mounts(root = FIXTURES): CgroupMounts {
  const unified: Hierarchy = {
    kind: 'v2',
    mountPoint: path.join(root, 'v2'),
    mountRoot: '/',
    controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'],
    name: null,
    device: '0:50',
  };
  return { mode: 'v2', hierarchies: [unified], unified, source: 'fixture', root: '/' };
}

const host: HostFacts = {
  onlineCpus: [0, 1, 2, 3],
  onlineMems: [0],
  pageSize: 4096,
  lookupDevice: (p) =>
    p === '/dev/sda'
      ? { major: 8, minor: 0, isBlock: true }
      : p === '/dev/sda1'
        ? { major: 8, minor: 1, isBlock: true }
        : p === '/dev/null'
          ? { major: 1, minor: 3, isBlock: false }
          : 'missing',
  blockDevice: (major, minor) =>
    major === 8 && minor === 0
      ? { kind: 'disk', name: 'sda', disk: null }
      : major === 8 && minor === 1
        ? { kind: 'partition', name: 'sda1', disk: 'sda' }
        : null,
};

function plan(mounts: CgroupMounts, req: LimitRequest, options: LimitOptions = {}, root = FIXTURES) {
  const out = planLimit(parseRequest(req, host.lookupDevice), new CgroupFiles(mounts, ID), host, options);
  return {
    writes: out.writes.map((w) => [path.relative(root, w.path).replace(`docker/${CID}/`, ''), w.oldValue, w.newValue]),
    notes: out.notes,
  };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

interface Case {
  name: string;
  req: LimitRequest;
  v1: string[][] | string;
  v2: string[][] | string;
}

const CASES: Case[] = [
  {
    name: '--memory',
    req: { memory: '512m' },
    v1: [['v1/memory/memory.limit_in_bytes', U, '536870912']],
    v2: [['v2/memory.max', 'max', '536870912']],
  },
  {
    name: '--memory with --memory-swap (docker: memory plus swap)',
    req: { memory: '512m', memorySwap: '1g' },
    v1: [
      ['v1/memory/memory.limit_in_bytes', U, '536870912'],
      ['v1/memory/memory.memsw.limit_in_bytes', U, '1073741824'],
    ],
    v2: [
      ['v2/memory.max', 'max', '536870912'],
      ['v2/memory.swap.max', 'max', '536870912'],
    ],
  },
  {
    name: '--memory-swap equal to --memory (no swap)',
    req: { memory: '512m', memorySwap: '512m' },
    v1: [
      ['v1/memory/memory.limit_in_bytes', U, '536870912'],
      ['v1/memory/memory.memsw.limit_in_bytes', U, '536870912'],
    ],
    v2: [
      ['v2/memory.max', 'max', '536870912'],
      ['v2/memory.swap.max', 'max', '0'],
    ],
  },
  {
    name: '--memory-reservation (v1 soft limit, v2 memory.low)',
    req: { memoryReservation: '256m' },
    v1: [['v1/memory/memory.soft_limit_in_bytes', U, '268435456']],
    v2: [['v2/memory.low', '0', '268435456']],
  },
  {
    name: '--memory-high',
    req: { memoryHigh: '400m' },
    v1: '--memory-high needs cgroup v2 (memory.high); memory is on cgroup v1 here: use --memory-reservation for a soft limit',
    v2: [['v2/memory.high', 'max', '419430400']],
  },
  {
    name: '--cpus',
    req: { cpus: '0.5' },
    v1: [['v1/cpu/cpu.cfs_quota_us', '-1', '50000']],
    v2: [['v2/cpu.max', 'max 100000', '50000 100000']],
  },
  {
    name: '--cpu-shares (converted to a weight on v2)',
    req: { cpuShares: '512' },
    v1: [['v1/cpu/cpu.shares', '1024', '512']],
    v2: [['v2/cpu.weight', '100', '59']],
  },
  {
    name: '--cpu-weight (converted to shares on v1)',
    req: { cpuWeight: '200' },
    v1: [['v1/cpu/cpu.shares', '1024', '2451']],
    v2: [['v2/cpu.weight', '100', '200']],
  },
  {
    name: '--cpuset-cpus and --cpuset-mems',
    req: { cpusetCpus: '1,0', cpusetMems: '0' },
    v1: [['v1/cpuset/cpuset.cpus', '0-3', '0-1']],
    v2: [
      ['v2/cpuset.cpus', '', '0-1'],
      ['v2/cpuset.mems', '', '0'],
    ],
  },
  {
    name: '--pids-limit',
    req: { pidsLimit: '100' },
    v1: [['v1/pids/pids.max', 'max', '100']],
    v2: [['v2/pids.max', 'max', '100']],
  },
  {
    name: '--blkio-weight',
    req: { blkioWeight: '300' },
    v1: [['v1/blkio/blkio.weight', '500', '300']],
    v2: [['v2/io.weight', '100', 'default 2930']],
  },
  {
    name: '--device-read-bps on a path',
    req: { deviceReadBps: ['/dev/sda:2mb'] },
    v1: [['v1/blkio/blkio.throttle.read_bps_device', '8:0 1048576', '8:0 2097152']],
    v2: [['v2/io.max', '8:0 rbps=1048576 wbps=max riops=max wiops=max', '8:0 rbps=2097152']],
  },
  {
    name: 'several throttles on one device (one io.max line on v2)',
    req: { deviceReadBps: ['/dev/sda:unlimited'], deviceWriteIops: ['8:0:500'] },
    v1: [
      ['v1/blkio/blkio.throttle.read_bps_device', '8:0 1048576', '8:0 0'],
      ['v1/blkio/blkio.throttle.write_iops_device', '8:0 0', '8:0 500'],
    ],
    v2: [['v2/io.max', '8:0 rbps=1048576 wbps=max riops=max wiops=max', '8:0 rbps=max wiops=500']],
  },
  {
    name: '--device-deny',
    req: { deviceDeny: ['c 1:5 w'] },
    v1: [['v1/devices/devices.deny', 'c 1:3 rwm\nc 1:5 rwm\nb 8:* r', 'c 1:5 w']],
    v2: "--device-deny: on cgroup v2 device rules are BPF programs attached to the cgroup, not files; tstop cannot change them yet (that needs the launcher's helper). Nothing was changed",
  },
  {
    name: '--device-deny of a rule a broader one still grants',
    req: { deviceDeny: ['b 8:0 r'] },
    v1: "--device-deny 'b 8:0 r': the kernel only removes a rule with exactly the same type and numbers, so 'b 8:* r' would still grant r; deny that rule instead",
    v2: "--device-deny: on cgroup v2 device rules are BPF programs attached to the cgroup, not files; tstop cannot change them yet (that needs the launcher's helper). Nothing was changed",
  },
  {
    name: '--memory below usage',
    req: { memory: '50m' },
    v1: `--memory 50.0MiB is 50.0MiB below the current memory usage of 100MiB of ${ID}: the kernel would have to reclaim that much at once or OOM-kill processes; pass --force to set it anyway`,
    v2: `--memory 50.0MiB is 50.0MiB below the current memory usage of 100MiB of ${ID}: the kernel would have to reclaim that much at once or OOM-kill processes; pass --force to set it anyway`,
  },
  {
    name: '--cpus above the online CPUs',
    req: { cpus: '8' },
    v1: "--cpus '8': this host has 4 online CPUs",
    v2: "--cpus '8': this host has 4 online CPUs",
  },
  {
    name: '--cpuset-cpus with offline CPUs',
    req: { cpusetCpus: '0-5' },
    v1: "--cpuset-cpus '0-5': CPUs 4-5 are not online (online: 0-3)",
    v2: "--cpuset-cpus '0-5': CPUs 4-5 are not online (online: 0-3)",
  },
  {
    name: '--device-read-bps on a partition',
    req: { deviceReadBps: ['/dev/sda1:1mb'] },
    v1: "--device-read-bps '/dev/sda1:1048576': sda1 is a partition; the kernel throttles whole disks (use /dev/sda)",
    v2: "--device-read-bps '/dev/sda1:1048576': sda1 is a partition; the kernel throttles whole disks (use /dev/sda)",
  },
  {
    name: '--memory-swap without any memory limit',
    req: { memorySwap: '1g' },
    v1: "--memory-swap '1g': needs a memory limit (give --memory too): memory plus swap cannot be limited when memory is not",
    v2: "--memory-swap '1g': needs a memory limit (give --memory too): memory plus swap cannot be limited when memory is not",
  },
];

describe('planning against fixture trees (v1 and v2 translation)', () => {
  for (const c of CASES) {
    for (const mode of ['v1', 'v2'] as const) {
      it(`${c.name} on ${mode}`, () => {
        const expected = c[mode];
        const mounts = mode === 'v1' ? v1Mounts() : v2Mounts();
        if (typeof expected === 'string') expect(refusal(() => plan(mounts, c.req))).toBe(expected);
        else expect(plan(mounts, c.req).writes).toEqual(expected);
      });
    }
  }

  it('sets a memory limit below usage with --force, and says so', () => {
    const out = plan(v1Mounts(), { memory: '50m' }, { force: true });
    expect(out.writes).toEqual([['v1/memory/memory.limit_in_bytes', U, String(50 * MiB)]]);
    expect(out.notes).toContain(
      `--memory 50.0MiB is 50.0MiB below the current memory usage of 100MiB of ${ID} (--force: the kernel will reclaim or OOM-kill)`,
    );
  });

  it('rounds memory down to whole pages and notes it', () => {
    const out = plan(v2Mounts(), { memory: '200000001' });
    expect(out.writes).toEqual([['v2/memory.max', 'max', '199999488']]);
    expect(out.notes[0]).toBe(
      '--memory: 200000001 bytes rounded down to 199999488 (whole 4096-byte pages, as the kernel stores it)',
    );
  });

  it('skips a value the file already holds', () => {
    const out = plan(v1Mounts(), { pidsLimit: 'max', cpus: '0.5' });
    expect(out.writes).toEqual([['v1/cpu/cpu.cfs_quota_us', '-1', '50000']]);
    expect(out.notes).toEqual(['--pids-limit: pids.max already holds max; not written']);
  });

  it('notes on v2 that swap is limited alone', () => {
    expect(plan(v2Mounts(), { memory: '512m', memorySwap: '1g' }).notes).toContain(
      '--memory-swap 1.00GiB: cgroup v2 limits swap alone, so memory.swap.max = 512MiB (memory+swap minus memory)',
    );
  });

  it('freezes with freezer.state on v1 and cgroup.freeze on v2', () => {
    const v1 = planFreeze(new CgroupFiles(v1Mounts(), ID), true).writes[0];
    expect([path.relative(FIXTURES, v1.path), v1.oldValue, v1.newValue]).toEqual([
      `v1/freezer/docker/${CID}/freezer.state`,
      'THAWED',
      'FROZEN',
    ]);
    const v2 = planFreeze(new CgroupFiles(v2Mounts(), ID), true).writes[0];
    expect([path.relative(FIXTURES, v2.path), v2.oldValue, v2.newValue]).toEqual([
      `v2/docker/${CID}/cgroup.freeze`,
      '0',
      '1',
    ]);
  });
});

describe('v1 memory and memory+swap ordering (memory <= memory+swap after every write)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-limiter-plan-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  fs.cpSync(FIXTURES, tmp, { recursive: true });
  const dir = path.join(tmp, 'v1/memory/docker', CID);
  fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), `${1024 * MiB}\n`);
  fs.writeFileSync(path.join(dir, 'memory.memsw.limit_in_bytes'), `${2048 * MiB}\n`);
  const order = (req: LimitRequest): string[] =>
    plan(v1Mounts(tmp), req, {}, tmp).writes.map((w) => `${path.basename(w[0])}=${w[2]}`);

  it('raising: memory+swap first', () => {
    expect(order({ memory: '3g', memorySwap: '4g' })).toEqual([
      `memory.memsw.limit_in_bytes=${4096 * MiB}`,
      `memory.limit_in_bytes=${3072 * MiB}`,
    ]);
  });

  it('lowering: memory first', () => {
    expect(order({ memory: '512m', memorySwap: '768m' })).toEqual([
      `memory.limit_in_bytes=${512 * MiB}`,
      `memory.memsw.limit_in_bytes=${768 * MiB}`,
    ]);
  });

  it('memory up, memory+swap down: memory+swap first while the old memory still fits', () => {
    expect(order({ memory: '1536m', memorySwap: '1536m' })).toEqual([
      `memory.memsw.limit_in_bytes=${1536 * MiB}`,
      `memory.limit_in_bytes=${1536 * MiB}`,
    ]);
  });

  it('refuses raising memory above the memory+swap limit without --memory-swap', () => {
    expect(refusal(() => order({ memory: '3g' }))).toBe(
      "--memory '3g': is above the memory+swap limit 2.00GiB; raise --memory-swap at the same time (-1 for unlimited swap)",
    );
  });

  it('lifts both with -1', () => {
    expect(order({ memory: 'unlimited', memorySwap: '-1' })).toEqual([
      'memory.memsw.limit_in_bytes=-1',
      'memory.limit_in_bytes=-1',
    ]);
  });
});
