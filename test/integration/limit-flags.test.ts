// `tstop limit`: each flag writes the right file with the right value on
// real cgroups the test creates, and a fresh Collector snapshot reports it
// (v1 here, v2 in the v2 lane). The rest of the limiter is in limit.test.ts.

import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ContainerSnapshot } from '../../src/model/types.js';
import { TestCgroups } from '../helpers/cgroups.js';
import { hashLimitFiles, RawLoop } from '../helpers/limit.js';
import { limitSuite, snapshotOf } from '../helpers/limit-suite.js';

const MiB = 1024 * 1024;
const isRoot = process.getuid?.() === 0;

describe.runIf(isRoot)('tstop limit flags on the real kernel', () => {
  let cg: TestCgroups;
  let loop: RawLoop;
  const { tstop, kind, read, history } = limitSuite('limit-flags', (s) => ({ cg, loop } = s));

  describe('each flag writes the right file with the right value, and a fresh snapshot reports it', () => {
    let id: string;
    beforeAll(async () => {
      id = cg.mkdir('flags');
      await cg.spawn('flags', ['sleep']).ready;
    });

    type Expected = [string, string | RegExp] | string;
    interface FlagCase {
      args: () => string[];
      controller: string;
      /** The file and the value it must hold, by mode; a string is the refusal expected on that mode. */
      v1: Expected | (() => Expected);
      v2: Expected | (() => Expected);
      snapshot?: (c: ContainerSnapshot, mode: 'v1' | 'v2') => void;
      skip?: () => string | null;
    }

    const weightFile = (): string | null => {
      const dir = cg.controllerDir('blkio', 'flags');
      for (const f of ['blkio.weight', 'blkio.bfq.weight', 'io.weight', 'io.bfq.weight']) {
        if (fs.existsSync(path.join(dir, f))) return f;
      }
      return null;
    };
    const dev = (): string => `${loop.major}:${loop.minor}`;

    const CASES: [string, FlagCase][] = [
      [
        '--memory 256m',
        {
          args: () => ['--memory', '256m'],
          controller: 'memory',
          v1: ['memory.limit_in_bytes', String(256 * MiB)],
          v2: ['memory.max', String(256 * MiB)],
          snapshot: (c) => expect(c.memory!.limitBytes).toBe(256 * MiB),
        },
      ],
      [
        '--memory-reservation 128m',
        {
          args: () => ['--memory-reservation', '128m'],
          controller: 'memory',
          v1: ['memory.soft_limit_in_bytes', String(128 * MiB)],
          v2: ['memory.low', String(128 * MiB)],
          snapshot: (c, mode) => expect(mode === 'v1' ? c.memory!.softLimitBytes : c.memory!.lowBytes).toBe(128 * MiB),
        },
      ],
      [
        '--memory-swap 512m (memory plus swap)',
        {
          args: () => ['--memory-swap', '512m'],
          controller: 'memory',
          v1: ['memory.memsw.limit_in_bytes', String(512 * MiB)],
          v2: ['memory.swap.max', String(256 * MiB)],
          snapshot: (c, mode) => expect(c.memory!.swapLimitBytes).toBe(mode === 'v1' ? 512 * MiB : 256 * MiB),
          skip: () =>
            ['memory.memsw.limit_in_bytes', 'memory.swap.max'].some((f) =>
              fs.existsSync(path.join(cg.controllerDir('memory', 'flags'), f)),
            )
              ? null
              : 'no swap accounting on this kernel',
        },
      ],
      [
        '--memory-high 200m',
        {
          args: () => ['--memory-high', '200m'],
          controller: 'memory',
          v1: 'tstop: limit: --memory-high needs cgroup v2 (memory.high); memory is on cgroup v1 here: use --memory-reservation for a soft limit\n',
          v2: ['memory.high', String(200 * MiB)],
          snapshot: (c) => expect(c.memory!.highBytes).toBe(200 * MiB),
        },
      ],
      [
        '--cpus 0.5',
        {
          args: () => ['--cpus', '0.5'],
          controller: 'cpu',
          v1: ['cpu.cfs_quota_us', '50000'],
          v2: ['cpu.max', '50000 100000'],
          snapshot: (c) => expect(c.cpu!.quotaCores).toBe(0.5),
        },
      ],
      [
        '--cpu-shares 512',
        {
          args: () => ['--cpu-shares', '512'],
          controller: 'cpu',
          v1: ['cpu.shares', '512'],
          v2: ['cpu.weight', '59'],
          snapshot: (c, mode) => expect(mode === 'v1' ? c.cpu!.shares : c.cpu!.weight).toBe(mode === 'v1' ? 512 : 59),
        },
      ],
      [
        '--cpu-weight 200',
        {
          args: () => ['--cpu-weight', '200'],
          controller: 'cpu',
          v1: ['cpu.shares', '2451'],
          v2: ['cpu.weight', '200'],
          snapshot: (c, mode) => expect(mode === 'v1' ? c.cpu!.shares : c.cpu!.weight).toBe(mode === 'v1' ? 2451 : 200),
        },
      ],
      [
        '--cpuset-cpus 0 --cpuset-mems 0',
        {
          args: () => ['--cpuset-cpus', '0', '--cpuset-mems', '0'],
          controller: 'cpuset',
          v1: ['cpuset.cpus', '0'],
          v2: ['cpuset.cpus', '0'],
          snapshot: (c) => {
            expect(c.cpu!.cpus).toBe('0');
            expect(c.cpu!.mems).toBe('0');
          },
        },
      ],
      [
        '--pids-limit 50',
        {
          args: () => ['--pids-limit', '50'],
          controller: 'pids',
          v1: ['pids.max', '50'],
          v2: ['pids.max', '50'],
          snapshot: (c) => expect(c.pids!.limit).toBe(50),
        },
      ],
      [
        '--blkio-weight 300',
        {
          args: () => ['--blkio-weight', '300'],
          controller: 'blkio',
          v1: () => [weightFile() ?? 'blkio.weight', '300'],
          v2: () =>
            weightFile() === 'io.weight' ? ['io.weight', /^default 2930$/m] : ['io.bfq.weight', /^(default )?300$/m],
          snapshot: (c) => expect(c.io!.weight).toBe(weightFile() === 'io.weight' ? 2930 : 300),
          skip: () => (weightFile() ? null : 'no IO weight file (no BFQ or CFQ scheduler)'),
        },
      ],
      [
        '--device-read-bps LOOP:1mb',
        {
          args: () => ['--device-read-bps', `${loop.device}:1mb`],
          controller: 'blkio',
          v1: () => ['blkio.throttle.read_bps_device', new RegExp(`^${dev()} 1048576$`, 'm')],
          v2: () => ['io.max', new RegExp(`^${dev()} rbps=1048576 `, 'm')],
          snapshot: (c) =>
            expect(c.io!.limits.find((l) => l.minor === loop.minor && l.major === loop.major)?.readBps).toBe(MiB),
        },
      ],
      [
        '--device-write-bps MAJ:MIN:2mb',
        {
          args: () => ['--device-write-bps', `${dev()}:2mb`],
          controller: 'blkio',
          v1: () => ['blkio.throttle.write_bps_device', new RegExp(`^${dev()} 2097152$`, 'm')],
          v2: () => ['io.max', new RegExp(`^${dev()} .*wbps=2097152`, 'm')],
          snapshot: (c) => expect(c.io!.limits.find((l) => l.minor === loop.minor)?.writeBps).toBe(2 * MiB),
        },
      ],
      [
        '--device-read-iops and --device-write-iops',
        {
          args: () => ['--device-read-iops', `${loop.device}:300`, '--device-write-iops', `${loop.device}:200`],
          controller: 'blkio',
          v1: () => ['blkio.throttle.write_iops_device', new RegExp(`^${dev()} 200$`, 'm')],
          v2: () => ['io.max', new RegExp(`^${dev()} .*riops=300 wiops=200`, 'm')],
          snapshot: (c) => {
            const l = c.io!.limits.find((x) => x.minor === loop.minor)!;
            expect([l.readIops, l.writeIops]).toEqual([300, 200]);
          },
        },
      ],
      [
        '--device-deny a --device-allow "c 1:3 rwm"',
        {
          args: () => ['--device-deny', 'a', '--device-allow', 'c 1:3 rwm'],
          controller: 'devices',
          v1: ['devices.list', 'c 1:3 rwm'],
          v2: "tstop: limit: --device-deny: on cgroup v2 device rules are BPF programs attached to the cgroup, not files; tstop cannot change them yet (that needs the launcher's helper). Nothing was changed\n",
          snapshot: (c) => expect(c.devices!.rules).toEqual([{ type: 'c', major: 1, minor: 3, access: 'rwm' }]),
        },
      ],
      [
        '--memory unlimited --memory-swap -1 (lifting)',
        {
          args: () =>
            fs.existsSync(path.join(cg.controllerDir('memory', 'flags'), 'memory.memsw.limit_in_bytes')) ||
            fs.existsSync(path.join(cg.controllerDir('memory', 'flags'), 'memory.swap.max'))
              ? ['--memory', 'unlimited', '--memory-swap', '-1']
              : ['--memory', 'unlimited'],
          controller: 'memory',
          v1: ['memory.limit_in_bytes', '9223372036854771712'],
          v2: ['memory.max', 'max'],
          snapshot: (c) => expect(c.memory!.limitBytes).toBeNull(),
        },
      ],
    ];

    for (const [name, c] of CASES) {
      it(name, async (ctx) => {
        const reason = c.skip?.();
        if (reason) ctx.skip(reason);
        const mode = kind(c.controller);
        const e = c[mode];
        const expected = typeof e === 'function' ? e() : e;
        const before = hashLimitFiles(cg);
        const r = await tstop('limit', id, ...c.args(), '--allow-system', '--yes');
        if (typeof expected === 'string') {
          expect(r.stderr).toBe(expected);
          expect(r.code).toBe(2);
          expect(hashLimitFiles(cg)).toEqual(before);
          return;
        }
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const [file, value] = expected;
        const content = read(c.controller, 'flags', file);
        if (typeof value === 'string') expect(content).toBe(value);
        else expect(content).toMatch(value);
        c.snapshot?.(snapshotOf(id), mode);
        const last = (await history()).at(-1)!;
        expect(last.result).toBe('applied');
        expect(last.container.id).toBe(id);
        expect(last.via).toBe('cli');
        expect(last.uid).toBe(0);
        expect(r.stdout).toContain(`change ${last.id}`);
      });
    }
  });
});
