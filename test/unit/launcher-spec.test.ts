import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CAPABILITIES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  capabilitiesFromMask,
  capabilityMask,
  capabilityNumber,
  parseSpecRecords,
  rangeMapping,
  resolveCapabilities,
  serializeSpec,
  SpecError,
  type ExecSpec,
  type RunSpec,
} from '../../src/launcher/spec.js';
import { exitOrigin, helperBinaryPath, parseReport, parseReportLine } from '../../src/launcher/helper.js';

const base: RunSpec = {
  mode: 'run',
  argv: ['/bin/true'],
  env: { PATH: '/usr/bin:/bin' },
  namespaces: [],
  capabilities: [],
};

function records(spec: RunSpec | ExecSpec): Array<[string, string]> {
  return parseSpecRecords(serializeSpec(spec));
}

function values(spec: RunSpec | ExecSpec, key: string): string[] {
  return records(spec)
    .filter(([k]) => k === key)
    .map(([, v]) => v);
}

describe('serializeSpec', () => {
  it('frames records with version first and end last, NUL-terminated', () => {
    const buf = serializeSpec(base);
    expect(buf.at(-1)).toBe(0);
    expect(buf.toString('utf8')).toBe('version=1\0mode=run\0argv=/bin/true\0env=PATH=/usr/bin:/bin\0end=1\0');
  });

  it('writes a full run spec with lists as repeated keys', () => {
    const spec: RunSpec = {
      ...base,
      argv: ['sh', '-c', 'echo "a=b"; exit 3'],
      env: { PATH: '/bin', X: 'a=b=c', EMPTY: '' },
      cwd: '/work',
      user: { uid: 1000, gid: 100, groups: [10, 20] },
      namespaces: ['user', 'mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup', 'time'],
      hostname: 'box',
      uidMap: [rangeMapping(100000)],
      gidMap: [rangeMapping(100000), { inside: 65536, outside: 1000, count: 1 }],
      cgroupProcs: ['/sys/fs/cgroup/memory/t/cgroup.procs', '/sys/fs/cgroup/unified/t/cgroup.procs'],
      rootfs: '/var/lib/tstop/rootfs',
      readonlyRootfs: true,
      volumes: [
        { source: '/srv/data', target: '/data', readonly: true },
        { source: '/tmp/x', target: '/x' },
      ],
      capabilities: resolveCapabilities(),
      noNewPrivs: false,
      init: true,
      tty: true,
      reportFd: 4,
    };
    const r = records(spec);
    expect(r[0]).toEqual(['version', '1']);
    expect(r.at(-1)).toEqual(['end', '1']);
    expect(values(spec, 'argv')).toEqual(['sh', '-c', 'echo "a=b"; exit 3']);
    expect(values(spec, 'env')).toEqual(['PATH=/bin', 'X=a=b=c', 'EMPTY=']);
    expect(values(spec, 'ns')).toEqual(['user', 'mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup', 'time']);
    expect(values(spec, 'uid_map')).toEqual(['0 100000 65536']);
    expect(values(spec, 'gid_map')).toEqual(['0 100000 65536', '65536 1000 1']);
    expect(values(spec, 'user')).toEqual(['1000:100']);
    expect(values(spec, 'group')).toEqual(['10', '20']);
    expect(values(spec, 'mount')).toEqual(['/srv/data:/data:ro', '/tmp/x:/x']);
    expect(values(spec, 'mask')).toEqual([...DEFAULT_MASKED_PATHS]);
    expect(values(spec, 'readonly_path')).toEqual([...DEFAULT_READONLY_PATHS]);
    expect(values(spec, 'cap').map(Number)).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31]);
    expect(values(spec, 'no_new_privs')).toEqual(['0']);
    expect(values(spec, 'readonly')).toEqual(['1']);
    expect(values(spec, 'init')).toEqual(['1']);
    expect(values(spec, 'tty')).toEqual(['1']);
    expect(values(spec, 'report_fd')).toEqual(['4']);
    expect(values(spec, 'hostname')).toEqual(['box']);
    expect(values(spec, 'cwd')).toEqual(['/work']);
  });

  it('omits defaults and only masks paths when there is a mount namespace', () => {
    expect(values(base, 'mask')).toEqual([]);
    expect(values({ ...base, namespaces: ['mnt'] }, 'mask')).toHaveLength(DEFAULT_MASKED_PATHS.length);
    expect(values({ ...base, namespaces: ['mnt'], maskedPaths: [], readonlyPaths: [] }, 'mask')).toEqual([]);
    expect(values({ ...base, noNewPrivs: true, init: false, tty: false }, 'no_new_privs')).toEqual([]);
  });

  it('writes exec specs with the target pid', () => {
    const spec: ExecSpec = { mode: 'exec', pid: 1234, argv: ['ps'], env: {}, capabilities: [5] };
    expect(records(spec)).toEqual([
      ['version', '1'],
      ['mode', 'exec'],
      ['pid', '1234'],
      ['argv', 'ps'],
      ['cap', '5'],
      ['end', '1'],
    ]);
  });

  it.each<[string, RunSpec | ExecSpec]>([
    ['empty argv', { ...base, argv: [] }],
    ['NUL in an argument', { ...base, argv: ['a\0b'] }],
    ['NUL in an env value', { ...base, env: { A: 'x\0' } }],
    ['= in an env name', { ...base, env: { 'A=B': 'x' } }],
    ['relative cwd', { ...base, cwd: 'tmp' }],
    ['hostname without uts', { ...base, hostname: 'x' }],
    ['user ns without maps', { ...base, namespaces: ['user'] }],
    ['maps without user ns', { ...base, uidMap: [rangeMapping(1)], gidMap: [rangeMapping(1)] }],
    [
      'zero-length map',
      { ...base, namespaces: ['user'], uidMap: [{ inside: 0, outside: 1, count: 0 }], gidMap: [rangeMapping(1)] },
    ],
    ['rootfs without mnt', { ...base, rootfs: '/r' }],
    ['volume without rootfs', { ...base, namespaces: ['mnt'], volumes: [{ source: '/a', target: '/b' }] }],
    [
      'volume path with a colon',
      { ...base, namespaces: ['mnt'], rootfs: '/r', volumes: [{ source: '/a:b', target: '/b' }] },
    ],
    [
      'volume target with ..',
      { ...base, namespaces: ['mnt'], rootfs: '/r', volumes: [{ source: '/a', target: '/b/../../etc' }] },
    ],
    ['capability out of range', { ...base, capabilities: [64] }],
    ['negative uid', { ...base, user: { uid: -1 } }],
    ['report fd 2', { ...base, reportFd: 2 }],
    ['exec pid 0', { mode: 'exec', pid: 0, argv: ['x'], env: {}, capabilities: [] }],
    ['masks without mnt', { ...base, maskedPaths: ['/proc/kcore'] }],
  ])('rejects %s', (_name, spec) => {
    expect(() => serializeSpec(spec)).toThrow(SpecError);
  });

  it('round-trips any NUL-free argv and env (property)', () => {
    const text = fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\0'));
    const name = fc.string({ minLength: 1 }).filter((s) => !s.includes('\0') && !s.includes('='));
    fc.assert(
      fc.property(
        fc.array(text, { minLength: 1 }).filter((a) => a[0] !== ''),
        fc.dictionary(name, text),
        (argv, env) => {
          const spec: RunSpec = { ...base, argv, env };
          expect(values(spec, 'argv')).toEqual(argv);
          expect(values(spec, 'env')).toEqual(Object.entries(env).map(([k, v]) => `${k}=${v}`));
        },
      ),
    );
  });
});

describe('capabilities', () => {
  it("resolves Docker's default 14 to CapEff 00000000a80425fb", () => {
    expect(resolveCapabilities()).toHaveLength(14);
    expect(capabilityMask(resolveCapabilities())).toBe('00000000a80425fb');
  });

  it('applies cap-add and cap-drop like docker', () => {
    expect(resolveCapabilities({ drop: ['NET_RAW'] })).not.toContain(13);
    expect(resolveCapabilities({ add: ['cap_sys_admin'] })).toContain(21);
    expect(resolveCapabilities({ drop: ['ALL'], add: ['CHOWN', 'KILL'] })).toEqual([0, 5]);
    expect(resolveCapabilities({ add: ['ALL'], drop: ['SYS_ADMIN'] })).toHaveLength(CAPABILITIES.length - 1);
    expect(resolveCapabilities({ add: ['KILL'], drop: ['KILL'] })).toContain(5);
    expect(() => resolveCapabilities({ add: ['NOPE'] })).toThrow(SpecError);
  });

  it('names numbers and decodes masks', () => {
    expect(capabilityNumber('CAP_SETFCAP')).toBe(31);
    expect(capabilityNumber('net_bind_service')).toBe(10);
    expect(capabilitiesFromMask('00000000a80425fb').sort()).toEqual([
      'AUDIT_WRITE',
      'CHOWN',
      'DAC_OVERRIDE',
      'FOWNER',
      'FSETID',
      'KILL',
      'MKNOD',
      'NET_BIND_SERVICE',
      'NET_RAW',
      'SETFCAP',
      'SETGID',
      'SETPCAP',
      'SETUID',
      'SYS_CHROOT',
    ]);
    expect(capabilitiesFromMask(capabilityMask([40, 0]))).toEqual(['CHOWN', 'CHECKPOINT_RESTORE']);
  });
});

describe('helper report and exit codes', () => {
  it('parses report lines', () => {
    expect(parseReportLine('pid=42')).toEqual({ kind: 'pid', pid: 42 });
    expect(parseReportLine('exit=137')).toEqual({ kind: 'exit', code: 137 });
    expect(parseReportLine('error=pivot_root(/x): Invalid argument (EINVAL)')).toEqual({
      kind: 'error',
      message: 'pivot_root(/x): Invalid argument (EINVAL)',
    });
    expect(parseReportLine('pid=x')).toBeNull();
    expect(parseReport('pid=1\nexit=0\n')).toEqual([
      { kind: 'pid', pid: 1 },
      { kind: 'exit', code: 0 },
    ]);
  });

  it('tells helper failures from workload exit codes', () => {
    expect(exitOrigin(127, parseReport('error=execvp(x): No such file or directory (ENOENT)\nexit=127\n'))).toBe(
      'helper',
    );
    expect(exitOrigin(127, parseReport('pid=5\nexit=127\n'))).toBe('workload');
    expect(exitOrigin(125, [])).toBe('helper');
    expect(exitOrigin(3, [])).toBe('workload');
  });

  it('explains how to build a missing helper binary', () => {
    expect(() => helperBinaryPath('/nonexistent/dir/file.js')).toThrow(/build:native/);
  });
});
