// Each parser against single-file samples in the kernel's documented formats
// (test/fixtures/parsers, expected values in its expected.json).

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCapabilities, parseStatusCapabilities } from '../../collectors/capabilities.js';
import { parseCpuMax, cpuStatV1, cpuStatV2, cpuacctStatV1 } from '../../collectors/cpu.js';
import { USER_HZ } from '../../collectors/processes.js';
import { parseDevicesList } from '../../collectors/devices.js';
import { cgroupEvents } from '../../collectors/freezer.js';
import { parseBlkioV1, parseIoMaxV2, parseIoStatV2, parseThrottleV1, parseWeight } from '../../collectors/io.js';
import { memoryEventsV2, oomControlV1 } from '../../collectors/memory.js';
import { parseNetDev } from '../../collectors/network.js';
import { parsePressure, pressureAtRest } from '../../collectors/pressure.js';
import { parseStartTicks } from '../../collectors/processes.js';
import { parseCgroupMounts } from '../../src/cgroupfs/mounts.js';
import { parseCpuList, parseLimit, type KeyedFormat } from '../../src/cgroupfs/parse.js';
import type { IoDeviceStats, IoLimit } from '../../src/model/types.js';

const DIR = path.resolve(__dirname, '../fixtures/parsers');
type Any = any;
const expected = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8')) as Record<string, Any>;
const sample = (name: string): Buffer => fs.readFileSync(path.join(DIR, name));
const noName = (): null => null;
const key = (d: { major: number; minor: number }): string => `${d.major}:${d.minor}`;

function keyed<K extends string>(format: KeyedFormat<K>, name: string): Record<string, number> {
  const b = sample(name);
  const out = format.parse(b, b.length, format.newValues());
  const result: Record<string, number> = {};
  format.keys.forEach((k, i) => {
    if (!Number.isNaN(out[i])) result[k] = out[i];
  });
  return result;
}

describe('v1 blkio', () => {
  for (const [name, kind] of [
    ['blkio.throttle.io_service_bytes.k5.4.multi-device', 'bytes'],
    ['blkio.throttle.io_serviced.k3.10.multi-device', 'ops'],
    ['blkio.throttle.io_service_bytes.empty', 'bytes'],
  ] as const) {
    it(`reads Read/Write per device and skips the Total lines: ${name}`, () => {
      const list: IoDeviceStats[] = [];
      const b = sample(name);
      parseBlkioV1(b, b.length, kind, list, noName);
      const want = expected[name].devices as Record<string, { Read: number; Write: number }>;
      expect(list.map(key).sort()).toEqual(Object.keys(want).sort());
      for (const d of list) {
        expect(kind === 'bytes' ? d.readBytes : d.readOps).toBe(want[key(d)].Read);
        expect(kind === 'bytes' ? d.writeBytes : d.writeOps).toBe(want[key(d)].Write);
      }
    });
  }

  it('reads throttle limits per device', () => {
    for (const name of ['blkio.throttle.read_bps_device', 'blkio.throttle.write_iops_device.empty']) {
      const list: IoLimit[] = [];
      const b = sample(name);
      parseThrottleV1(b, b.length, 'readBps', list, noName);
      expect(Object.fromEntries(list.map((l) => [key(l), l.readBps]))).toEqual(expected[name]);
    }
  });
});

describe('v2 io', () => {
  for (const name of [
    'io.stat.k6.1.multi-device',
    'io.stat.k6.1.iocost-iolatency-extras',
    'io.stat.k4.19.no-discard',
  ]) {
    it(`reads rbytes/wbytes/rios/wios and ignores other keys: ${name}`, () => {
      const list: IoDeviceStats[] = [];
      const b = sample(name);
      parseIoStatV2(b, b.length, list, noName);
      const want = expected[name] as Record<string, Record<string, number>>;
      for (const [dev, v] of Object.entries(want)) {
        const d = list.find((x) => key(x) === dev);
        if (v.rbytes === undefined) continue; // a line without byte counters
        expect(d, dev).toBeDefined();
        expect([d!.readBytes, d!.writeBytes, d!.readOps, d!.writeOps]).toEqual([v.rbytes, v.wbytes, v.rios, v.wios]);
      }
    });
  }

  it('reads io.max with "max" as null', () => {
    const list: IoLimit[] = [];
    const b = sample('io.max.two-devices');
    parseIoMaxV2(b, b.length, list, noName);
    const got = Object.fromEntries(
      list.map((l) => [key(l), { rbps: l.readBps, wbps: l.writeBps, riops: l.readIops, wiops: l.writeIops }]),
    );
    expect(got).toEqual(expected['io.max.two-devices']);
  });

  it('reads the default io.weight', () => {
    const b = sample('io.weight.overrides');
    expect(parseWeight(b, b.length)).toBe(expected['io.weight.overrides'].default);
  });
});

describe('pressure', () => {
  for (const name of [
    'pressure.cpu.k5.4.no-full',
    'pressure.cpu.k6.1.system',
    'pressure.memory.cgroup',
    'pressure.irq.k6.1',
  ]) {
    it(`reads some/full lines: ${name}`, () => {
      const b = sample(name);
      const p = parsePressure(b, b.length)!;
      const want = expected[name];
      for (const kind of ['some', 'full'] as const) {
        if (want[kind] === null) expect(p[kind]).toBeNull();
        else {
          expect(p[kind]!.avg10).toBe(want[kind].avg10);
          expect(p[kind]!.avg60).toBe(want[kind].avg60);
          expect(p[kind]!.avg300).toBe(want[kind].avg300);
          expect(p[kind]!.totalSeconds).toBeCloseTo(want[kind].total / 1e6, 6);
        }
      }
    });
  }

  it('is at rest only when every average reads 0.00 (the total may be anything)', () => {
    const atRest = (s: string): boolean => pressureAtRest(Buffer.from(s), 0, s.length);
    expect(
      atRest('some avg10=0.00 avg60=0.00 avg300=0.00 total=8123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=12\n'),
    ).toBe(true);
    expect(atRest('some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n')).toBe(true);
    expect(
      atRest('some avg10=0.00 avg60=0.00 avg300=0.01 total=8123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=12\n'),
    ).toBe(false);
    expect(
      atRest('some avg10=0.00 avg60=0.00 avg300=0.00 total=8123\nfull avg10=1.50 avg60=0.00 avg300=0.00 total=12\n'),
    ).toBe(false);
    expect(atRest('some avg10=10.00 avg60=0.00 avg300=0.00 total=1\n')).toBe(false);
    expect(atRest('')).toBe(false);
    for (const name of ['pressure.cpu.k6.1.system', 'pressure.memory.cgroup']) {
      const b = sample(name);
      const p = parsePressure(b, b.length)!;
      const zero = (l: typeof p.some): boolean => l === null || (l.avg10 === 0 && l.avg60 === 0 && l.avg300 === 0);
      expect(pressureAtRest(b, 0, b.length)).toBe(zero(p.some) && zero(p.full));
    }
  });
});

describe('keyed files', () => {
  it('memory.events (v2) and memory.oom_control (v1)', () => {
    for (const name of ['memory.events.k6.1', 'memory.events.k5.4']) {
      const got = keyed(memoryEventsV2, name);
      for (const k of memoryEventsV2.keys) expect(got[k], `${name} ${k}`).toBe(expected[name][k]);
    }
    for (const name of [
      'memory.oom_control.k5.4.under-oom',
      'memory.oom_control.k3.10',
      'memory.oom_control.k5.4.kill-disabled',
    ]) {
      expect(keyed(oomControlV1, name)).toEqual(expected[name]);
    }
  });

  it('cpu.stat (v1 and v2) and cpuacct.stat', () => {
    expect(keyed(cpuStatV1, 'cpu.stat.v1')).toEqual(expected['cpu.stat.v1']);
    expect(keyed(cpuStatV2, 'cpu.stat.v2.no-cpu-controller')).toEqual(expected['cpu.stat.v2.no-cpu-controller']);
    const acct = keyed(cpuacctStatV1, 'cpuacct.stat');
    expect(acct.user / USER_HZ).toBeCloseTo(expected['cpuacct.stat'].userSeconds, 6);
    expect(acct.system / USER_HZ).toBeCloseTo(expected['cpuacct.stat'].systemSeconds, 6);
  });

  it('cgroup.events, with and without "frozen"', () => {
    expect(keyed(cgroupEvents, 'cgroup.events.frozen')).toEqual(expected['cgroup.events.frozen']);
    expect(keyed(cgroupEvents, 'cgroup.events.k4.x-no-frozen')).toEqual(expected['cgroup.events.k4.x-no-frozen']);
  });
});

describe('limits', () => {
  for (const name of ['cpu.max.unlimited', 'cpu.max.half-core', 'cpu.max.three-cores']) {
    it(`cpu.max: ${name}`, () => {
      const b = sample(name);
      const m = parseCpuMax(b, b.length);
      expect({ quota: m.quota, period: m.period, cores: m.quota === null ? null : m.quota / m.period! }).toEqual(
        expected[name],
      );
    });
  }
  for (const name of [
    'memory.limit_in_bytes.v1-unlimited-page-counter',
    'memory.limit_in_bytes.v1-unlimited-res-counter',
    'memory.max.unlimited',
  ]) {
    it(`unlimited sentinels are null: ${name}`, () => {
      const b = sample(name);
      expect(parseLimit(b, 0, b.length)).toBe(expected[name].limit);
    });
  }
});

describe('lists and procfs', () => {
  it('cpuset lists', () => {
    for (const name of [
      'cpuset.cpus.ranges',
      'cpuset.mems.single',
      'cpuset.cpus.empty',
      'cpuset.cpus.effective.wide',
      'cpuset.cpus.mixed',
    ]) {
      expect(parseCpuList(sample(name).toString()), name).toEqual(expected[name]);
    }
  });

  it('devices.list rules (* as null)', () => {
    for (const name of [
      'devices.list.root',
      'devices.list.docker-default',
      'devices.list.lxc',
      'devices.list.partial-access',
      'devices.list.deny-all',
    ]) {
      const want = (expected[name] as { type: string; major: number | '*'; minor: number | '*'; access: string }[]).map(
        (r) => ({
          ...r,
          major: r.major === '*' ? null : r.major,
          minor: r.minor === '*' ? null : r.minor,
        }),
      );
      expect(parseDevicesList(sample(name).toString()), name).toEqual(want);
    }
  });

  it('capabilities from /proc/<pid>/status', () => {
    for (const name of [
      'proc.pid.status.k6.1.ambient-nnp',
      'proc.pid.status.k3.10.no-capamb',
      'proc.pid.status.k5.4.nonroot',
    ]) {
      const caps = parseStatusCapabilities(sample(name).toString())!;
      expect(caps.effective, name).toEqual(expected[name].effective);
      expect(caps.bounding).toEqual(decodeCapabilities(expected[name].CapBnd));
    }
    expect(decodeCapabilities('00000000a80425fb')).toHaveLength(14);
  });

  it('start time from /proc/<pid>/stat whatever the command name holds', () => {
    for (const name of [
      'proc.pid.stat.comm-with-space',
      'proc.pid.stat.comm-with-parens',
      'proc.pid.stat.comm-with-paren-space',
    ]) {
      expect(parseStartTicks(sample(name).toString()), name).toBe(expected[name].starttime);
    }
  });

  it('/proc/net/dev with long names and without a space after the colon', () => {
    for (const name of ['proc.net.dev.long-names', 'proc.net.dev.old-format-no-space']) {
      const got = parseNetDev(sample(name).toString());
      const want = expected[name] as Record<string, Record<string, number>>;
      expect(got.map((i) => i.interface).sort(), name).toEqual(Object.keys(want).sort());
      for (const i of got)
        for (const [k, v] of Object.entries(want[i.interface]))
          if (k in i) expect((i as unknown as Record<string, number>)[k], `${name} ${i.interface} ${k}`).toBe(v);
    }
  });

  it('cgroup mounts from mountinfo (escaped spaces, optional fields, named hierarchies)', () => {
    for (const name of ['proc.pid.mountinfo.k6.1', 'proc.pid.mountinfo.k5.4.hybrid', 'proc.pid.mountinfo.k3.10']) {
      const { hierarchies } = parseCgroupMounts(sample(name).toString());
      const want = expected[name].cgroupMounts as { mountPoint: string }[];
      expect(hierarchies.map((h) => h.mountPoint).sort(), name).toEqual(want.map((w) => w.mountPoint).sort());
    }
  });
});
