// tstop against Docker's own view of the same containers: discovery (name,
// image, id, runtime) from config.v2.json under a non-default data root, and
// memory, pids, block IO and CPU against `docker stats --no-stream` and the
// engine API (/containers/ID/stats?stream=false over the lane's socket).

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ContainerSnapshot } from '../../src/model/types.js';
import { LoopDevice } from '../helpers/kernel.js';
import { docker, dockerOk, engineApi } from './engine.js';
import {
  containerOf,
  dockerCpuPercent,
  dockerStats,
  parseDockerSize,
  MiB,
  runContainer,
  snapshot,
  waitReady,
  type EngineStats,
} from './tstop.js';

const info = inject('docker');
const ALLOC_MIB = 64;
const IO_MIB = 8;
/** The burner's CPU quota: steady (throttled) even on a loaded two-core host. */
const BURN_CPUS = 0.5;

interface PsLine {
  ID: string;
  Names: string;
  Image: string;
}

describe('tstop snapshot against docker stats and the engine API', () => {
  const ids: Record<string, string> = {};
  let ioDir: string;
  let ioLoop: LoopDevice | null = null;

  beforeAll(async () => {
    // The O_DIRECT writer's IO goes to an ext4 loop device of the test's own, a whole device nothing
    // else uses, whatever backs the host's root.
    ioLoop = LoopDevice.create(fs.mkdtempSync(path.join(info.dir, 'io-')), 64);
    ioDir = ioLoop.mountPoint;
    ids.web = await runContainer(info, [
      '--name',
      'web',
      '--label',
      'com.docker.compose.project=shop',
      '--label',
      'com.docker.compose.service=web',
      info.image,
      'sleep',
      '100000',
    ]);
    ids.mem = await runContainer(info, [
      '--name',
      'mem',
      info.image,
      'testload',
      '--ready',
      '/tmp/ready',
      'alloc',
      String(ALLOC_MIB),
    ]);
    ids.burn = await runContainer(info, [
      '--name',
      'burn',
      '--cpus',
      String(BURN_CPUS),
      info.image,
      'testload',
      'spin',
    ]);
    ids.io = await runContainer(info, [
      '--name',
      'io',
      '-v',
      `${ioDir}:/data`,
      // v1 blk-throttle counts a queue's IO only while a throttle rule is set on it: a limit nobody
      // reaches (1 TiB/s, in the container's own cgroup) makes the counters count on any host.
      '--device-write-bps',
      `${ioLoop.device}:1tb`,
      '--device-read-bps',
      `${ioLoop.device}:1tb`,
      info.image,
      'testload',
      '--ready',
      '/tmp/ready',
      'io',
      '/data/f',
      String(IO_MIB),
    ]);
    await waitReady(info, 'mem');
    await waitReady(info, 'io');
  });

  afterAll(async () => {
    await docker(info, ['rm', '-f', 'web', 'mem', 'burn', 'io']);
    ioLoop?.destroy();
  });

  it('finds every docker container with the id, name and image docker ps shows (non-default data root)', async () => {
    const ps = (await dockerOk(info, ['ps', '--no-trunc', '--format', '{{json .}}']))
      .split('\n')
      .map((l) => JSON.parse(l) as PsLine);
    expect(ps.map((p) => p.Names).sort()).toEqual(['burn', 'io', 'mem', 'web']);
    const snap = await snapshot(info);
    for (const p of ps) {
      const c = containerOf(snap, p.ID);
      expect({ name: c.name, image: c.image, runtime: c.runtime, containerId: c.containerId }).toEqual({
        name: p.Names,
        image: p.Image,
        runtime: 'docker',
        containerId: p.ID,
      });
      const pid = Number(await dockerOk(info, ['inspect', '--format', '{{.State.Pid}}', p.ID]));
      expect(c.processes).toContain(pid);
    }
  });

  it('without --docker-root the containers are still found, by id, and a note says which state directory was looked for', async () => {
    const snap = await snapshot(info, ['--docker-root', path.join(info.dir, 'nowhere')], false);
    const c = containerOf(snap, ids.web);
    expect(c.name).toBe(ids.web.slice(0, 12));
    expect(c.image).toBeNull();
    expect(snap.notes.join('\n')).toContain(path.join(info.dir, 'nowhere'));
  });

  it('memory usage, working set, pids: equal to the engine API; docker stats shows the same', async () => {
    // Engine, tstop, engine again (one-shot: read at once). Kernel memory moves by a few hundred
    // KiB now and then even in an idle container: a bracket where the engine read the same twice
    // must show tstop's reading equal too; up to 5 brackets to find a still one.
    const url = `/containers/${ids.mem}/stats?stream=false&one-shot=true`;
    let still: { api: EngineStats; c: ContainerSnapshot } | null = null;
    for (let attempt = 0; attempt < 5 && still === null; attempt++) {
      const before = await engineApi<EngineStats>(info, url);
      const snap = await snapshot(info);
      const after = await engineApi<EngineStats>(info, url);
      if (after.memory_stats.usage === before.memory_stats.usage)
        still = { api: before, c: containerOf(snap, ids.mem) };
    }
    if (still === null) throw new Error('the engine never read the same memory usage twice in a row');
    const { api, c } = still;
    const usage = api.memory_stats.usage ?? NaN;
    const workingSet = usage - (api.memory_stats.stats?.total_inactive_file ?? 0);
    expect(c.memory?.usageBytes).toBe(usage);
    expect(c.memory?.workingSetBytes).toBe(workingSet);
    expect(c.memory?.maxUsageBytes).toBe(api.memory_stats.max_usage);
    expect(c.pids?.current).toBe(api.pids_stats.current);
    // The known allocation: 64 MiB touched, plus a little for the process itself.
    expect(workingSet).toBeGreaterThanOrEqual(ALLOC_MIB * MiB);
    expect(workingSet).toBeLessThan((ALLOC_MIB + 4) * MiB);
    // docker stats, a separate read: its 4 digits, and what moved since (under 1 %).
    const line = (await dockerStats(info, ['mem'])).get('mem');
    const shown = parseDockerSize(line?.MemUsage.split(' / ')[0] ?? '');
    expect(Math.abs(shown - workingSet) / workingSet).toBeLessThan(0.01);
    expect(line?.PIDs).toBe(String(c.pids?.current));
  });

  it('block IO of an O_DIRECT writer: equal to the engine API and docker stats', async () => {
    const api = await engineApi<EngineStats>(info, `/containers/${ids.io}/stats?stream=false`);
    const snap = await snapshot(info);
    const c = containerOf(snap, ids.io);
    const sum = (op: string): number =>
      (api.blkio_stats.io_service_bytes_recursive ?? []).filter((e) => e.op === op).reduce((a, e) => a + e.value, 0);
    const tstopSum = (k: 'readBytes' | 'writeBytes'): number => (c.io?.devices ?? []).reduce((a, d) => a + d[k], 0);
    expect(tstopSum('writeBytes')).toBe(sum('Write'));
    expect(tstopSum('readBytes')).toBe(sum('Read'));
    expect(tstopSum('writeBytes')).toBeGreaterThanOrEqual(IO_MIB * MiB);
    const [read, write] = (await dockerStats(info, ['io'])).get('io')?.BlockIO.split(' / ') ?? [];
    expect(parseFloat(read) > 0 && parseFloat(write) > 0).toBe(true);
    expect(Math.abs(parseDockerDecimal(write) - sum('Write'))).toBeLessThanOrEqual(sum('Write') * 0.001);
  });

  it('CPU: the usage counter sits between two engine readings; CPU % within 5 points over the same 1 s window', async () => {
    const first = await engineApi<EngineStats>(info, `/containers/${ids.burn}/stats?stream=false&one-shot=true`);
    const snap1 = await snapshot(info);
    const second = await engineApi<EngineStats>(info, `/containers/${ids.burn}/stats?stream=false&one-shot=true`);
    const used = containerOf(snap1, ids.burn).cpu?.usageSeconds ?? NaN;
    expect(used * 1e9).toBeGreaterThanOrEqual(first.cpu_stats.cpu_usage.total_usage - 1);
    expect(used * 1e9).toBeLessThanOrEqual(second.cpu_stats.cpu_usage.total_usage + 1);

    // Same window: tstop's two ticks 1 s apart while the engine takes its two samples (about 1 s apart).
    const [snap, api] = await Promise.all([
      snapshot(info, ['--count', '2', '--interval', '1s']),
      engineApi<EngineStats>(info, `/containers/${ids.burn}/stats?stream=false`),
    ]);
    const tstopPercent = containerOf(snap, ids.burn).cpu?.percent ?? NaN;
    const dockerPercent = dockerCpuPercent(api);
    expect(Math.abs(tstopPercent - dockerPercent), `tstop ${tstopPercent}%, docker ${dockerPercent}%`).toBeLessThan(5);
    // The quota caps both: never above it (a little slack for the period boundaries).
    expect(tstopPercent).toBeLessThan(BURN_CPUS * 100 + 5);
    expect(containerOf(snap, ids.burn).cpu?.quotaCores).toBe(BURN_CPUS);
  });

  it('network IO of a container on a docker bridge network: equal to the engine API; docker stats shows the same', async () => {
    // dockerd runs in a network namespace of its own (engine.ts): this bridge and its veths live there.
    await dockerOk(info, ['network', 'create', '--driver', 'bridge', 'tstoplane']);
    try {
      const server = await runContainer(info, [
        '--name',
        'netsrv',
        '--network',
        'tstoplane',
        info.image,
        'sleep',
        '100000',
      ]);
      const client = await runContainer(info, [
        '--name',
        'netcli',
        '--network',
        'tstoplane',
        info.image,
        'sleep',
        '100000',
      ]);
      const address = await dockerOk(info, [
        'inspect',
        '--format',
        '{{.NetworkSettings.Networks.tstoplane.IPAddress}}',
        server,
      ]);
      // 40 pings of 1,000 bytes each way: about 42 KB on each side's eth0.
      await dockerOk(info, ['exec', 'netcli', 'ping', '-c', '40', '-i', '0.05', '-s', '1000', '-q', address]);
      const url = `/containers/${client}/stats?stream=false&one-shot=true`;
      let still: { api: EngineStats; c: ContainerSnapshot } | null = null;
      for (let attempt = 0; attempt < 5 && still === null; attempt++) {
        const before = await engineApi<EngineStats>(info, url);
        const snap = await snapshot(info);
        const after = await engineApi<EngineStats>(info, url);
        if (JSON.stringify(after.networks) === JSON.stringify(before.networks))
          still = { api: before, c: containerOf(snap, client) };
      }
      if (still === null) throw new Error('the engine never read the same network counters twice in a row');
      const eth0 = still.api.networks?.eth0;
      const mine = still.c.network?.find((i) => i.interface === 'eth0');
      expect(eth0?.rx_bytes).toBeGreaterThan(40 * 1000);
      expect([mine?.rxBytes, mine?.txBytes, mine?.rxPackets, mine?.txPackets]).toEqual([
        eth0?.rx_bytes,
        eth0?.tx_bytes,
        eth0?.rx_packets,
        eth0?.tx_packets,
      ]);
      // docker stats prints NetIO in decimal units with 3-4 digits: "42.3kB / 42.1kB".
      const [rx, tx] = ((await dockerStats(info, ['netcli'])).get('netcli')?.NetIO ?? '').split(' / ');
      expect(Math.abs(parseDockerDecimal(rx) - (eth0?.rx_bytes ?? 0)) / (eth0?.rx_bytes ?? 1)).toBeLessThan(0.01);
      expect(Math.abs(parseDockerDecimal(tx) - (eth0?.tx_bytes ?? 0)) / (eth0?.tx_bytes ?? 1)).toBeLessThan(0.01);
    } finally {
      await docker(info, ['rm', '-f', 'netsrv', 'netcli']);
      await docker(info, ['network', 'rm', 'tstoplane']);
    }
  });
});

/** docker stats' block and net IO use decimal units (HumanSize: kB, MB). */
function parseDockerDecimal(text: string): number {
  const m = /^([\d.]+)\s*([kMGT]?B)$/.exec(text.trim());
  if (!m) throw new Error(`not a decimal size: '${text}'`);
  const mult: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };
  return Number(m[1]) * mult[m[2]];
}
