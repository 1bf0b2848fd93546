// run mode without a rootfs: the host's root in private namespaces.
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilitiesFromMask, rangeMapping, resolveCapabilities } from '../../src/launcher/spec.js';
import { CONTAINER_NS, ensureHelper, waitFor, isRoot, procStatus, runHelper, runSpec, startHelper } from './harness.js';

const sh = (script: string): string[] => ['/bin/sh', '-c', script];

/** Parse `key: value` lines printed by a workload. */
function fields(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

describe.skipIf(!isRoot)('tstop-helper run: namespaces', () => {
  beforeAll(() => ensureHelper());

  it('makes the workload PID 1 that sees only its own processes', async () => {
    const r = await runHelper(
      runSpec({ argv: sh('echo "pid: $$"; ps -e -o pid= ; echo; ls /proc | grep -E "^[0-9]+$"') }),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fields(r.stdout).pid).toBe('1');
    const [psPart, lsPart] = r.stdout.split('\n\n');
    const psPids = psPart
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
      .filter(Boolean)
      .map(Number);
    // sh (1) and ps itself; nothing from the host.
    expect(psPids[0]).toBe(1);
    expect(psPids.length).toBeLessThanOrEqual(3);
    expect(Math.max(...psPids)).toBeLessThan(10);
    const procPids = lsPart.split('\n').filter(Boolean).map(Number);
    expect(Math.max(...procPids)).toBeLessThan(10);
    expect(r.events[0]).toMatchObject({ kind: 'pid' });
    expect(r.events.at(-1)).toEqual({ kind: 'exit', code: 0 });
  });

  it('sets the hostname in its own UTS namespace', async () => {
    const r = await runHelper(runSpec({ hostname: 'tstop-box', argv: ['hostname'] }));
    expect(r.stdout.trim()).toBe('tstop-box');
    expect(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()).not.toBe('tstop-box');
  });

  it('shows only lo (up) in /sys/class/net and /proc/net/dev', async () => {
    const r = await runHelper(
      runSpec({
        argv: sh(
          'ls /sys/class/net; echo; tail -n +3 /proc/net/dev | cut -d: -f1; echo; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags',
        ),
      }),
    );
    expect(r.code).toBe(0);
    const [sys, dev, lo] = r.stdout.split('\n\n');
    expect(sys.trim()).toBe('lo');
    expect(dev.trim()).toBe('lo');
    // IFF_UP (0x1) set on lo.
    expect(Number(lo.trim().split('\n')[1]) & 1).toBe(1);
    const hostIfaces = spawnSync('ls', ['/sys/class/net'], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(hostIfaces.length).toBeGreaterThan(1);
  });

  it('has an empty IPC namespace even when the host has objects', async () => {
    const mk = spawnSync('ipcmk', ['-M', '4096'], { encoding: 'utf8' });
    const id = /(\d+)/.exec(mk.stdout)?.[1];
    try {
      expect(spawnSync('ipcs', ['-m'], { encoding: 'utf8' }).stdout).toMatch(/\b4096\b/);
      const r = await runHelper(runSpec({ argv: sh('ipcs -m | grep -c "^0x" || true') }));
      expect(r.stdout.trim()).toBe('0');
    } finally {
      if (id) spawnSync('ipcrm', ['-m', id]);
    }
  });

  it('has a private, shorter mount table with a fresh /proc and read-only /sys', async () => {
    const host = readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n');
    const r = await runHelper(runSpec({ argv: ['cat', '/proc/self/mountinfo'] }));
    const inside = r.stdout.trim().split('\n');
    expect(inside.length).toBeLessThan(host.length);
    const proc = inside.find((l) => l.split(' ')[4] === '/proc');
    const sys = inside.find((l) => l.split(' ')[4] === '/sys');
    expect(proc).toMatch(/ - proc /);
    expect(sys).toMatch(/ - sysfs /);
    expect(sys?.split(' ')[5]).toMatch(/^ro,/);
    // The host's mount table did not change.
    expect(readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n')).toEqual(host);
  });

  it("masks and write-protects Docker's paths", async () => {
    const r = await runHelper(
      runSpec({
        argv: sh(
          'echo "keys: $(wc -c < /proc/keys)"; echo "timer_list: $(wc -c < /proc/timer_list)"; ' +
            'echo "firmware: $(ls /sys/firmware | wc -l)"; ' +
            'echo x > /proc/sys/kernel/hostname 2>/dev/null && echo "sys: writable" || echo "sys: ro"; ' +
            'touch /proc/acpi/x 2>/dev/null && echo "acpi: writable" || echo "acpi: ro"',
        ),
      }),
    );
    const f = fields(r.stdout);
    expect(f).toMatchObject({ keys: '0', timer_list: '0', firmware: '0', sys: 'ro', acpi: 'ro' });
  });

  it("keeps exactly Docker's 14 capabilities, none inheritable, and sets no_new_privs", async () => {
    const r = await runHelper(runSpec({ argv: ['grep', '-E', '^(Cap|NoNewPrivs)', '/proc/self/status'] }));
    const f = fields(r.stdout);
    for (const k of ['CapEff', 'CapPrm', 'CapBnd']) expect(f[k]).toBe('00000000a80425fb');
    // Docker empties it since 20.10.14: file capabilities of a non-root workload's binaries grant nothing.
    expect(f.CapInh).toBe('0000000000000000');
    expect(f.CapAmb).toBe('0000000000000000');
    expect(f.NoNewPrivs).toBe('1');
    expect(capabilitiesFromMask(f.CapEff)).toHaveLength(14);
  });

  it('applies cap-add/cap-drop, no_new_privs=0 and a non-root user', async () => {
    const caps = resolveCapabilities({ drop: ['NET_RAW', 'MKNOD'], add: ['SYS_PTRACE'] });
    const r = await runHelper(
      runSpec({
        capabilities: caps,
        noNewPrivs: false,
        argv: ['grep', '-E', '^(CapBnd|NoNewPrivs)', '/proc/self/status'],
      }),
    );
    const f = fields(r.stdout);
    expect(capabilitiesFromMask(f.CapBnd)).toEqual(expect.arrayContaining(['SYS_PTRACE', 'CHOWN']));
    expect(capabilitiesFromMask(f.CapBnd)).not.toContain('NET_RAW');
    expect(f.NoNewPrivs).toBe('0');

    const u = await runHelper(
      runSpec({
        user: { uid: 1234, gid: 5678, groups: [42] },
        argv: sh('id -u; id -g; id -G; grep -E "^Cap(Eff|Bnd)" /proc/self/status'),
      }),
    );
    const lines = u.stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['1234', '5678', '5678 42']);
    // Non-root after exec: no effective capabilities, bounding set still Docker's.
    expect(fields(u.stdout)).toMatchObject({ CapEff: '0000000000000000', CapBnd: '00000000a80425fb' });
  });

  it('uses a new time namespace when asked', async () => {
    const r = await runHelper(
      runSpec({ namespaces: [...CONTAINER_NS, 'time'], argv: ['readlink', '/proc/self/ns/time'] }),
    );
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^time:\[\d+\]$/);
    expect(r.stdout.trim()).not.toBe(readlinkSync('/proc/self/ns/time'));
    // Without clone3 (CLONE_NEWTIME cannot go through clone(2)): unshare + clone.
    const old = await runHelper(
      runSpec({ namespaces: [...CONTAINER_NS, 'time'], argv: sh('readlink /proc/self/ns/time; echo $$') }),
      {
        env: { TSTOP_HELPER_NO_CLONE3: '1' },
      },
    );
    const [ns, pid] = old.stdout.trim().split('\n');
    expect(ns).toMatch(/^time:\[\d+\]$/);
    expect(ns).not.toBe(readlinkSync('/proc/self/ns/time'));
    expect(pid).toBe('1');
  });
});

describe.skipIf(!isRoot)('tstop-helper run: user namespace', () => {
  const running: Array<ReturnType<typeof startHelper>> = [];
  afterAll(async () => {
    for (const h of running) h.child.kill('SIGKILL');
    await Promise.all(running.map((h) => h.done));
  });

  it('maps uid 0 inside to 100000 outside (parent writes the maps)', async () => {
    const h = startHelper(
      runSpec({
        namespaces: ['user', ...CONTAINER_NS],
        uidMap: [rangeMapping(100000)],
        gidMap: [rangeMapping(100000)],
        hostname: 'userns-box',
        argv: sh(
          'id -u; id -g; cat /proc/self/uid_map; grep CapEff /proc/self/status; touch /proc/marker 2>/dev/null; sleep 30',
        ),
      }),
    );
    running.push(h);
    const pid = await h.pid;
    await waitFor(() => (h.stdout().includes('CapEff') ? true : undefined));
    // The host sees the workload as uid/gid 100000 with the map we asked for.
    expect(procStatus(pid, 'Uid').split(/\s+/)).toEqual(['100000', '100000', '100000', '100000']);
    expect(procStatus(pid, 'Gid').split(/\s+/)[0]).toBe('100000');
    expect(readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
    expect(readFileSync(`/proc/${pid}/gid_map`, 'utf8').trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
    expect(readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim()).toBe('deny');
    h.child.kill('SIGKILL');
    const r = await h.done;
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['0', '0']);
    expect(lines[2].trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
    expect(fields(r.stdout).CapEff).toBe('00000000a80425fb');
  });

  it('fails cleanly (125) when a map cannot be written', async () => {
    const r = await runHelper(
      runSpec({
        namespaces: ['user', 'mnt', 'pid'],
        // Two overlapping ranges: the kernel refuses the uid_map write.
        uidMap: [rangeMapping(100000), rangeMapping(200000)],
        gidMap: [rangeMapping(100000)],
        argv: ['true'],
      }),
    );
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^tstop-helper: write \/proc\/\d+\/uid_map .*: Invalid argument \(EINVAL\)\n$/);
    expect(r.events.map((e) => e.kind)).toEqual(['error', 'exit']);
  });
});
