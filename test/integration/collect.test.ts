// The collection core on the real kernel: real cgroups with real processes
// that allocate memory, burn CPU, do IO, fork and live in namespaces. The
// same file runs on this host (hybrid) and in the v2 lane (pure v2).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../src/collect/collector.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { cpuQuota, freeze, LoopDevice } from '../helpers/kernel.js';

const MiB = 1024 * 1024;
const isRoot = process.getuid?.() === 0;

function find(s: Snapshot, id: string): ContainerSnapshot {
  const c = s.containers.find((x) => x.id === id);
  if (!c) throw new Error(`${id} not in snapshot (${s.containers.length} cgroups)`);
  return c;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.runIf(isRoot)('collection on the real kernel', () => {
  let cg: TestCgroups;
  let collector: Collector;

  beforeAll(() => {
    cg = new TestCgroups('collect');
    collector = new Collector({ watch: false });
  });

  afterAll(async () => {
    collector?.close();
    await cg?.cleanup();
  });

  it('reports the cgroup mode of the host', () => {
    const s = collector.collect();
    if (process.env.TSTOP_TEST_LANE === 'v2') expect(s.host.cgroupMode).toBe('v2');
    else expect(['v1', 'hybrid', 'v2']).toContain(s.host.cgroupMode);
    expect(s.host.cpus).toBeGreaterThan(0);
    expect(s.host.memoryBytes).toBeGreaterThan(64 * MiB);
  });

  it('sees memory rise by about 64 MiB when a process allocates and touches 64 MiB', async () => {
    const id = cg.mkdir('mem');
    const before = find(collector.collect(), id).memory?.usageBytes ?? 0;
    const w = cg.spawn('mem', ['alloc', '64']);
    await w.ready;
    const after = find(collector.collect(), id);
    const rise = (after.memory!.usageBytes! - before) / MiB;
    expect(rise).toBeGreaterThanOrEqual(60);
    expect(rise).toBeLessThanOrEqual(70);
    expect(after.memory!.workingSetBytes! / MiB).toBeGreaterThanOrEqual(60);
    expect(after.memory!.anonBytes! / MiB).toBeGreaterThanOrEqual(60);
    expect(after.processes).toEqual([w.pid]);
    expect(after.initPid).toBe(w.pid);
  });

  it('reads a busy loop under a 0.5-CPU quota at 40-60 %', async () => {
    const id = cg.mkdir('cpu');
    cpuQuota(cg, 'cpu', 0.5);
    const w = cg.spawn('cpu', ['spin']);
    await w.ready;
    await sleep(500);
    collector.collect();
    await sleep(3000);
    const c = find(collector.collect(), id);
    expect(c.cpu!.quotaCores).toBeCloseTo(0.5, 5);
    expect(c.cpu!.percent).toBeGreaterThanOrEqual(40);
    expect(c.cpu!.percent).toBeLessThanOrEqual(60);
    expect(c.cpu!.quotaPercent).toBeGreaterThanOrEqual(80);
    expect(c.cpu!.throttledPeriods).toBeGreaterThan(0);
    // Every period a busy loop hits the quota, unless the machine is too busy to give it 50 ms.
    expect(c.cpu!.throttledPercent).toBeGreaterThan(0);
    expect(c.cpu!.usageSeconds).toBeGreaterThan(0);
  });

  it('counts io bytes on the right device when a process writes and reads a file', async () => {
    const loop = LoopDevice.create(cg.tmp(''), 64);
    try {
      const id = cg.mkdir('io');
      loop.enableAccounting(cg, 'io');
      const first = find(collector.collect(), id);
      expect(first.io?.devices.find((d) => d.device === loop.name)?.writeBytes ?? 0).toBe(0);
      const w = cg.spawn('io', ['io', path.join(loop.mountPoint, 'data'), '8']);
      await w.ready;
      const dev = await waitFor('io accounting', () => {
        const d = find(collector.collect(), id).io?.devices.find((x) => x.device === loop.name);
        return d && d.writeBytes >= 8 * MiB && d.readBytes >= 8 * MiB ? d : null;
      });
      expect(dev.major).toBe(loop.major);
      expect(dev.minor).toBe(loop.minor);
      expect(dev.writeOps).toBeGreaterThanOrEqual(8);
      expect(dev.readOps).toBeGreaterThanOrEqual(8);
      expect(dev.writeBytes).toBeLessThan(16 * MiB);
    } finally {
      await cg.cleanupProcesses('io');
      loop.destroy();
    }
  });

  it('sees pids.current at 21 after a process forks 20 children', async () => {
    const id = cg.mkdir('pids');
    cg.write('pids', 'pids', 'pids.max', '100');
    const w = cg.spawn('pids', ['fork', '20']);
    await w.ready;
    const c = find(collector.collect(), id);
    expect(c.pids!.current).toBe(21);
    expect(c.pids!.limit).toBe(100);
    expect(c.processes).toHaveLength(21);
    expect(c.initPid).toBe(w.pid);
  });

  it('marks the pid, net, uts, ipc and mnt namespaces of an unshared process isolated and the rest shared', async () => {
    const id = cg.mkdir('ns');
    const w = cg.spawn('ns', ['sleep'], {
      wrap: ['unshare', '--fork', '--pid', '--net', '--uts', '--ipc', '--mount', '--'],
    });
    await w.ready;
    const c = await waitFor('namespaces', () => find(collector.collect(), id).namespaces);
    const isolated = Object.entries(c)
      .filter(([, v]) => v?.isolated)
      .map(([k]) => k)
      .sort();
    expect(isolated).toEqual(['ipc', 'mnt', 'net', 'pid', 'uts']);
    expect(c.user?.isolated).toBe(false);
    expect(c.cgroup?.isolated).toBe(false);
    const snap = find(collector.collect(), id);
    expect(snap.network?.map((i) => i.interface)).toEqual(['lo']);
    expect(snap.capabilities?.effective).toContain('CAP_SYS_ADMIN');
  });

  it('reports the freezer state of a frozen cgroup and of a thawed one', async () => {
    const id = cg.mkdir('frozen');
    const w = cg.spawn('frozen', ['sleep']);
    await w.ready;
    expect(find(collector.collect(), id).freezer).toBe('thawed');
    freeze(cg, 'frozen', true);
    await waitFor('frozen', () => find(collector.collect(), id).freezer === 'frozen');
    freeze(cg, 'frozen', false);
    await waitFor('thawed', () => find(collector.collect(), id).freezer === 'thawed');
  });

  it('reads PSI of a cgroup whose processes compete for CPU', async () => {
    const id = cg.mkdir('psi');
    for (let i = 0; i < 4; i++) await cg.spawn('psi', ['spin']).ready;
    const first = find(collector.collect(), id).pressure?.cpu?.some?.totalSeconds;
    expect(first).not.toBeUndefined();
    await sleep(1500);
    const p = find(collector.collect(), id).pressure!;
    expect(p.cpu!.some!.totalSeconds).toBeGreaterThan(first!);
    expect(p.memory?.some?.avg10).toBeGreaterThanOrEqual(0);
    await cg.cleanupProcesses('psi');
  });

  it('has null rates on the first sample and on a recreated cgroup', async () => {
    const fresh = new Collector();
    try {
      const id = cg.mkdir('recreated');
      const w = cg.spawn('recreated', ['spin']);
      await w.ready;
      const first = find(fresh.collect(), id);
      expect(first.cpu!.percent).toBeNull();
      await sleep(300);
      expect(find(fresh.collect(), id).cpu!.percent).toBeGreaterThan(0);
      await cg.cleanupProcesses('recreated');
      cg.rmdir('recreated');
      cg.mkdir('recreated');
      const again = find(fresh.collect(), id);
      expect(again.cpu!.percent).toBeNull();
      expect(again.inode).not.toBe(first.inode);
    } finally {
      fresh.close();
    }
  });

  it('shows a cgroup created during a run within a tick and drops a removed one', async () => {
    const watching = new Collector({ watch: true });
    try {
      watching.collect();
      await watching.ready();
      watching.collect();
      const id = cg.mkdir('live');
      await sleep(100);
      expect(watching.collect().containers.some((c) => c.id === id)).toBe(true);
      cg.rmdir('live');
      await sleep(100);
      expect(watching.collect().containers.some((c) => c.id === id)).toBe(false);
    } finally {
      watching.close();
    }
  });

  it('prints the test cgroups through `tstop snapshot --json`', async () => {
    const id = cg.mkdir('cli');
    const w = cg.spawn('cli', ['alloc', '16']);
    await w.ready;
    const bin = path.resolve(__dirname, '../../bin/tstop.js');
    const out = execFileSync(process.execPath, [bin, 'snapshot', '--json', '--interval', '0', '--filter', `^${id}$`], {
      encoding: 'utf8',
    });
    const doc = JSON.parse(out) as Snapshot;
    expect(doc.containers.map((c) => c.id)).toEqual([id]);
    expect(doc.containers[0].memory!.usageBytes! / MiB).toBeGreaterThanOrEqual(15);
    // --interval 0: one sample, so no rates
    expect(doc.containers[0].cpu?.percent ?? null).toBeNull();
    expect(fs.existsSync(bin)).toBe(true);
  });

  it('shows CPU % in a one-shot `tstop snapshot` (two samples, --interval apart)', async () => {
    const id = cg.mkdir('oneshot');
    const w = cg.spawn('oneshot', ['spin']);
    await w.ready;
    const usageSeconds = (): number => {
      try {
        return Number(cg.read('cpuacct', 'oneshot', 'cpuacct.usage')) / 1e9;
      } catch {
        return Number(/usage_usec (\d+)/.exec(cg.read('cpu', 'oneshot', 'cpu.stat'))![1]) / 1e6;
      }
    };
    const bin = path.resolve(__dirname, '../../bin/tstop.js');
    const before = usageSeconds();
    const started = Date.now();
    const out = execFileSync(
      process.execPath,
      [bin, 'snapshot', '--json', '--interval', '500ms', '--filter', `^${id}$`],
      { encoding: 'utf8' },
    );
    const usedSeconds = usageSeconds() - before;
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(out.trim().split('\n')).toHaveLength(1);
    const c = (JSON.parse(out) as Snapshot).containers.find((x) => x.id === id)!;
    // The rate is over the 500 ms between the two samples, which lie inside
    // the window measured here: never more CPU than the cgroup used in it.
    expect(c.cpu!.percent!).toBeGreaterThan(0);
    expect((c.cpu!.percent! / 100) * 0.5).toBeLessThanOrEqual(usedSeconds * 1.05);
  });

  it('works without root: cgroup figures, and a note instead of namespaces it may not read', async () => {
    const id = cg.mkdir('nonroot');
    const w = cg.spawn('nonroot', ['alloc', '8'], { wrap: ['unshare', '--fork', '--pid', '--net', '--'] });
    await w.ready;
    const bin = path.resolve(__dirname, '../../bin/tstop.js');
    // nobody:nogroup, no supplementary groups, no capabilities
    const out = execFileSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=-all',
        process.execPath,
        bin,
        'snapshot',
        '--json',
        '--filter',
        `^${id}$`,
      ],
      { encoding: 'utf8' },
    );
    const doc = JSON.parse(out) as Snapshot;
    const c = doc.containers.find((x) => x.id === id)!;
    expect(c.memory!.usageBytes! / MiB).toBeGreaterThanOrEqual(7);
    expect(c.namespaces).toBeNull();
    expect(c.network).toBeNull();
    expect(doc.notes.join(' ')).toMatch(/not running as root/);
  });
});
