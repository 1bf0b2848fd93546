// The audit log (JSON Lines, torn tails), reference resolution, path safety
// and the per-file value semantics (read-back, restore, device lists).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CgroupMounts, Hierarchy } from '../../src/cgroupfs/mounts.js';
import type { ChangeRecord } from '../../src/limiter/api.js';
import { LimitError } from '../../src/limiter/api.js';
import { AuditLog, latestChanges, parseAuditText } from '../../src/limiter/audit.js';
import { resolveRef, type Candidate } from '../../src/limiter/resolve.js';
import { checkCgroupPolicy, checkTargetPath, verifyTarget } from '../../src/limiter/safety.js';
import { expectedDeviceList, restoreDeviceList, semanticsOf } from '../../src/limiter/values.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-audit-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function record(id: string, result: ChangeRecord['result']): ChangeRecord {
  return {
    type: 'change',
    v: 1,
    id,
    time: '2026-01-01T00:00:00.000Z',
    host: 'h',
    uid: 0,
    user: 'root',
    sudoUser: 'alice',
    pid: 1,
    pidStart: 1,
    via: 'cli',
    remoteAddress: null,
    action: 'limit',
    undoes: null,
    container: { id: '/docker/x', name: 'web' },
    writes: [{ path: '/sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes', oldValue: '-1', newValue: '1' }],
    signal: null,
    pids: null,
    result,
    error: null,
    notes: [],
  };
}

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LimitError);
    return (err as Error).message;
  }
  throw new Error('expected a LimitError');
}

describe('audit log', () => {
  it('appends one JSON line per record and merges a change to its last state', () => {
    const log = new AuditLog(path.join(tmp, 'a/b/audit.jsonl'));
    log.append(record('aaaaaaaaaaaa', 'pending'));
    log.append(record('bbbbbbbbbbbb', 'pending'));
    log.append(record('aaaaaaaaaaaa', 'applied'));
    const text = fs.readFileSync(log.file, 'utf8');
    expect(text.split('\n')).toHaveLength(4);
    expect(text.endsWith('\n')).toBe(true);
    expect(log.changes().map((c) => [c.id, c.result])).toEqual([
      ['aaaaaaaaaaaa', 'applied'],
      ['bbbbbbbbbbbb', 'pending'],
    ]);
    expect(fs.statSync(log.file).mode & 0o777).toBe(0o640);
  });

  it('ignores a torn last line on read and cuts it off (logging a repair) before the next append', () => {
    const log = new AuditLog(path.join(tmp, 'torn.jsonl'));
    log.append(record('aaaaaaaaaaaa', 'applied'));
    const torn = JSON.stringify(record('cccccccccccc', 'pending')).slice(0, 57);
    fs.appendFileSync(log.file, torn);
    const read = log.read();
    expect(read.tornBytes).toBe(57);
    expect(read.badLines).toEqual([]);
    expect(log.changes().map((c) => c.id)).toEqual(['aaaaaaaaaaaa']);
    log.append(record('dddddddddddd', 'applied'));
    const lines = fs
      .readFileSync(log.file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['change', 'repair', 'change']);
    expect(lines[1].droppedBytes).toBe(57);
    expect(log.read().tornBytes).toBe(0);
  });

  it('reports a bad line in the middle and keeps the rest', () => {
    const r = parseAuditText(
      `${JSON.stringify(record('a', 'applied'))}\nnot json\n{"x":1}\n${JSON.stringify(record('b', 'applied'))}\n`,
    );
    expect(r.badLines).toEqual([2, 3]);
    expect(latestChanges(r.lines).map((c) => c.id)).toEqual(['a', 'b']);
  });

  it('refuses to follow a symlink at the log path', () => {
    const target = path.join(tmp, 'elsewhere');
    fs.writeFileSync(target, '');
    const link = path.join(tmp, 'link.jsonl');
    fs.symlinkSync(target, link);
    expect(() => new AuditLog(link).append(record('eeeeeeeeeeee', 'pending'))).toThrow(/ELOOP/);
    expect(fs.readFileSync(target, 'utf8')).toBe('');
  });
});

describe('container references', () => {
  const ID1 = 'a'.repeat(12) + '1'.repeat(52);
  const ID2 = 'a'.repeat(12) + '2'.repeat(52);
  const candidates: Candidate[] = [
    { id: `/docker/${ID1}`, name: 'web', containerId: ID1, runtime: 'docker' },
    { id: `/docker/${ID2}`, name: 'db', containerId: ID2, runtime: 'docker' },
    { id: '/system.slice/ssh.service', name: 'ssh.service', containerId: null, runtime: 'systemd' },
    { id: '/twin/a', name: 'twin', containerId: null, runtime: 'cgroup' },
    { id: '/twin/b', name: 'twin', containerId: null, runtime: 'cgroup' },
  ];

  it('finds by name, full id, unique prefix and path', () => {
    expect(resolveRef('web', candidates).id).toBe(`/docker/${ID1}`);
    expect(resolveRef(ID2, candidates).name).toBe('db');
    expect(resolveRef('aaaaaaaaaaaa2', candidates).name).toBe('db');
    expect(resolveRef('/system.slice/ssh.service/', candidates).name).toBe('ssh.service');
  });

  it('lists the candidates of an ambiguous prefix or name', () => {
    expect(message(() => resolveRef('aaaa', candidates))).toBe(
      `container reference 'aaaa' is ambiguous: a prefix of the ids of 2 containers: web (/docker/${ID1}), db (/docker/${ID2}); give more of the id or the cgroup path`,
    );
    expect(message(() => resolveRef('twin', candidates))).toBe(
      "container reference 'twin' is ambiguous: the name of 2 containers: twin (/twin/a), twin (/twin/b); give more of the id or the cgroup path",
    );
  });

  it.each([
    ['', 'the container reference is empty'],
    ['/', "refusing the root cgroup '/': its limits would apply to the whole machine"],
    ['//', "refusing the root cgroup '/': its limits would apply to the whole machine"],
    ['/docker/../etc', "cgroup path '/docker/../etc' must not contain '.' or '..'"],
    ['/docker/./x', "cgroup path '/docker/./x' must not contain '.' or '..'"],
    ['a/b', "container reference 'a/b': a name or id cannot contain '/' (a cgroup path starts with '/')"],
    ['..', "container reference '..': a name or id cannot contain '..'"],
    ['web\u0000', "container reference 'web\\x00' contains a control character or NUL"],
    ['we\nb', "container reference 'we\\x0ab' contains a control character or NUL"],
    [
      'nope',
      "no container named 'nope' or with an id starting so (tstop snapshot lists them; a cgroup path starts with '/')",
    ],
    ['/no/such', 'no cgroup /no/such on this host'],
  ])('refuses %j', (ref, msg) => {
    expect(message(() => resolveRef(ref, candidates))).toBe(msg);
  });
});

describe('path safety', () => {
  const mount = (kind: 'v1' | 'v2', dir: string, controllers: string[]): Hierarchy => ({
    kind,
    mountPoint: dir,
    mountRoot: '/',
    controllers,
    name: null,
    device: '0:99',
  });
  const mem = path.join(tmp, 'fake/memory');
  const uni = path.join(tmp, 'fake/unified');
  const mounts: CgroupMounts = {
    mode: 'hybrid',
    hierarchies: [mount('v1', mem, ['memory']), mount('v2', uni, [])],
    unified: mount('v2', uni, []),
    source: 'test',
    root: '/',
  };

  it('accepts a known limit file of a cgroup below a mount', () => {
    const t = checkTargetPath(mounts, `${mem}/docker/x/memory.limit_in_bytes`);
    expect([t.cgroupId, t.file, t.hierarchy.kind]).toEqual(['/docker/x', 'memory.limit_in_bytes', 'v1']);
  });

  it.each([
    [`${mem}/memory.limit_in_bytes`, 'it belongs to the root cgroup, which is the whole machine'],
    [`${mem}/docker/x/memory.max`, "'memory.max' is not a cgroup v1 limit file tstop knows"],
    [`${uni}/docker/x/memory.limit_in_bytes`, "'memory.limit_in_bytes' is not a cgroup v2 limit file tstop knows"],
    [`${mem}/docker/x/cgroup.procs`, "'cgroup.procs' is not a cgroup v1 limit file tstop knows"],
    [`${mem}/docker/x/release_agent`, "'release_agent' is not a cgroup v1 limit file tstop knows"],
    [`${mem}/docker/../../etc/passwd`, 'not a normalized absolute path'],
    ['/etc/memory.limit_in_bytes', 'it is not inside a cgroup mount'],
    [`${mem}/a\u0001b/memory.limit_in_bytes`, 'contains a control character'],
  ])('refuses %s', (file, why) => {
    expect(message(() => checkTargetPath(mounts, file))).toContain(why);
  });

  it('refuses a mount that is not a cgroup filesystem (statfs type)', () => {
    fs.mkdirSync(path.join(mem, 'docker/x'), { recursive: true });
    fs.writeFileSync(path.join(mem, 'docker/x/memory.limit_in_bytes'), '-1');
    const t = checkTargetPath(mounts, `${mem}/docker/x/memory.limit_in_bytes`);
    expect(message(() => verifyTarget(t))).toMatch(/its filesystem type is 0x[0-9a-f]+, not cgroup$/);
  });

  it('refuses the root always, and non-containers without allowSystem', () => {
    expect(message(() => checkCgroupPolicy('/', '/', { allowSystem: true }))).toBe(
      "refusing the root cgroup '/': its limits would apply to the whole machine",
    );
    expect(message(() => checkCgroupPolicy('/system.slice/ssh.service', 'ssh.service', {}))).toBe(
      "refusing 'ssh.service' (/system.slice/ssh.service): it is a systemd unit or slice, not a container; pass --allow-system to change it anyway",
    );
    expect(message(() => checkCgroupPolicy('/machine/x', '/machine/x', {}))).toBe(
      'refusing /machine/x: it is a cgroup no container runtime created, not a container; pass --allow-system to change it anyway',
    );
    expect(() => checkCgroupPolicy(`/docker/${'f'.repeat(64)}`, 'web', {})).not.toThrow();
    expect(() => checkCgroupPolicy('/machine/x', '/machine/x', { allowSystem: true })).not.toThrow();
  });
});

describe('value semantics', () => {
  it('reads v1 sentinels and v2 max as unlimited, and restores them as -1 / max', () => {
    const v1 = semanticsOf('memory.limit_in_bytes');
    expect(v1.satisfies('9223372036854771712', '-1')).toBe(true);
    expect(v1.satisfies('536870912', '536870912')).toBe(true);
    expect(v1.satisfies('536866816', '536870912')).toBe(false);
    expect(v1.restore('9223372036854771712')).toBe('-1');
    expect(semanticsOf('memory.max').restore('max')).toBe('max');
    expect(semanticsOf('cpuset.cpus').satisfies('0-1', '0,1')).toBe(true);
    expect(semanticsOf('io.weight').satisfies('default 200', '200')).toBe(true);
    expect(semanticsOf('cpu.max').satisfies('max 100000', 'max')).toBe(true);
  });

  it('compares one device of a per-device file', () => {
    const v1 = semanticsOf('blkio.throttle.read_bps_device');
    expect(v1.current('8:0 100\n7:0 200', '7:0 1')).toBe('7:0 200');
    expect(v1.current('8:0 100', '7:0 1')).toBe('7:0 0');
    const io = semanticsOf('io.max');
    const cur = io.current('7:0 rbps=100 wbps=max riops=max wiops=max', '7:0 rbps=5');
    expect(cur).toBe('7:0 rbps=100 wbps=max riops=max wiops=max');
    expect(io.satisfies(cur, '7:0 rbps=100')).toBe(true);
    expect(io.satisfies(io.current('', '7:0 rbps=max'), '7:0 rbps=max')).toBe(true);
  });

  it("simulates the kernel's device list", () => {
    expect(expectedDeviceList('a *:* rwm', [['devices.deny', 'c 1:3 rwm']])).toBe('a *:* rwm');
    expect(
      expectedDeviceList('a *:* rwm', [
        ['devices.deny', 'a'],
        ['devices.allow', 'c 1:3 rwm'],
        ['devices.allow', 'c 1:5 rw'],
      ]),
    ).toBe('c 1:3 rwm\nc 1:5 rw');
    expect(
      expectedDeviceList('c 1:3 rwm\nc 1:5 rw', [
        ['devices.deny', 'c 1:3 w'],
        ['devices.allow', 'c 1:5 m'],
      ]),
    ).toBe('c 1:3 rm\nc 1:5 rwm');
  });

  it('restores a whitelist by allowing first, then taking away the extra', () => {
    expect(restoreDeviceList('c 1:3 rwm\nc 1:5 rw', 'c 1:3 r\nc 1:5 rwm\nb 8:0 r')).toEqual([
      ['devices.allow', 'c 1:3 rwm'],
      ['devices.allow', 'c 1:5 rw'],
      ['devices.deny', 'c 1:5 m'],
      ['devices.deny', 'b 8:0 r'],
    ]);
    expect(restoreDeviceList('a *:* rwm', 'c 1:3 rwm')).toEqual([['devices.allow', 'a']]);
    expect(restoreDeviceList('c 1:3 rwm', 'a *:* rwm')).toEqual([
      ['devices.deny', 'a'],
      ['devices.allow', 'c 1:3 rwm'],
    ]);
  });
});
