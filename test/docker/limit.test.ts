// `tstop limit` and `tstop freeze` on a docker container, seen from Docker
// (docker stats, the engine API, docker inspect) and from the kernel; and
// `docker update` seen by tstop's snapshot. Where Docker keeps its own
// config (inspect, restart) the divergence is asserted as it is, and
// documented in docs/limiter.md.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { docker, dockerOk, engineApi, tstopRootFlags } from './engine.js';
import { containerOf, dockerStats, MiB, runContainer, snapshot, tstop, type EngineStats } from './tstop.js';

const info = inject('docker');

/** A cgroup file of the container, from the kernel. */
function cgroupFile(controller: string, id: string, file: string): string {
  return fs.readFileSync(path.join('/sys/fs/cgroup', controller, 'docker', id, file), 'utf8').trim();
}

describe('tstop limit / freeze on a docker container, and docker update seen by tstop', () => {
  let id: string;
  let env: NodeJS.ProcessEnv;
  const limit = (...args: string[]) => tstop(['limit', 'lim', ...args, '--yes', ...tstopRootFlags(info)], env);
  const inspect = async (format: string): Promise<string> => dockerOk(info, ['inspect', '--format', format, 'lim']);

  beforeAll(async () => {
    id = await runContainer(info, ['--name', 'lim', info.image, 'sleep', '100000']);
    // Every write of these tests is confined to this one container's cgroup.
    env = {
      ...process.env,
      TSTOP_AUDIT_LOG: path.join(info.dir, 'limit-audit.jsonl'),
      TSTOP_LIMIT_CONFINE: `/docker/${id}`,
    };
  });

  afterAll(async () => {
    await docker(info, ['rm', '-f', 'lim']);
  });

  it('tstop limit --memory 128m by name: the kernel, the engine API and docker stats show 128 MiB; docker inspect keeps its own 0', async () => {
    const r = await limit('--memory', '128m');
    expect(r.code, r.stderr).toBe(0);
    expect(Number(cgroupFile('memory', id, 'memory.limit_in_bytes'))).toBe(128 * MiB);
    const api = await engineApi<EngineStats>(info, `/containers/${id}/stats?stream=false&one-shot=true`);
    expect(api.memory_stats.limit).toBe(128 * MiB);
    expect((await dockerStats(info, ['lim'])).get('lim')?.MemUsage.split(' / ')[1]).toBe('128MiB');
    // Docker's config does not know: `docker inspect` (and a restart, below) still say unlimited.
    expect(await inspect('{{.HostConfig.Memory}}')).toBe('0');
  });

  it('tstop limit --cpus 0.25 and --pids-limit 20: the kernel has them; docker inspect does not', async () => {
    const r = await limit('--cpus', '0.25', '--pids-limit', '20');
    expect(r.code, r.stderr).toBe(0);
    expect(cgroupFile('cpu', id, 'cpu.cfs_quota_us')).toBe(
      String(0.25 * Number(cgroupFile('cpu', id, 'cpu.cfs_period_us'))),
    );
    expect(cgroupFile('pids', id, 'pids.max')).toBe('20');
    const api = await engineApi<EngineStats>(info, `/containers/${id}/stats?stream=false&one-shot=true`);
    expect(api.pids_stats.limit).toBe(20);
    expect(await inspect('{{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}')).toMatch(/^0 (0|<nil>|<no value>)$/);
  });

  it('docker update --memory 300m --cpus 0.75 --pids-limit 50: the next tstop snapshot shows them', async () => {
    await dockerOk(info, [
      'update',
      '--memory',
      '300m',
      '--memory-swap',
      '300m',
      '--cpus',
      '0.75',
      '--pids-limit',
      '50',
      'lim',
    ]);
    const c = containerOf(await snapshot(info), id);
    expect(c.memory?.limitBytes).toBe(300 * MiB);
    expect(c.memory?.swapLimitBytes ?? 300 * MiB).toBe(300 * MiB);
    expect(c.cpu?.quotaCores).toBe(0.75);
    expect(c.pids?.limit).toBe(50);
  });

  it("docker restart re-applies Docker's own values over a tstop limit; tstop notes and marks the divergence while it lasts", async () => {
    const agreed = containerOf(await snapshot(info), id);
    expect(agreed.runtimeConfig).toEqual({ memoryLimitBytes: 300 * MiB, cpus: 0.75, pidsLimit: 50, paused: false });
    expect((await limit('--memory', '200m')).code).toBe(0);
    const limited = await snapshot(info);
    const c = containerOf(limited, id);
    expect(c.memory?.limitBytes).toBe(200 * MiB);
    expect(c.runtimeConfig?.memoryLimitBytes).toBe(300 * MiB);
    expect(limited.notes.find((n) => n.startsWith("cgroup differs from docker's own config"))).toContain(
      'lim: memory limit 200MiB (docker: 300MiB)',
    );
    await dockerOk(info, ['restart', '--time', '0', 'lim']);
    const restarted = await snapshot(info);
    expect(containerOf(restarted, id).memory?.limitBytes).toBe(300 * MiB);
    expect(Number(await inspect('{{.HostConfig.Memory}}'))).toBe(300 * MiB);
    expect(restarted.notes.some((n) => n.startsWith("cgroup differs from docker's own config"))).toBe(false);
  });

  it('tstop freeze: the kernel freezes the container, Docker does not know (State.Paused false, docker ps Up); tstop thaw undoes it', async () => {
    const f = await tstop(['freeze', 'lim', ...tstopRootFlags(info)], env);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toContain('note: docker does not see this freeze: docker ps keeps saying Up');
    try {
      expect(cgroupFile('freezer', id, 'freezer.state')).toBe('FROZEN');
      expect(containerOf(await snapshot(info), id).freezer).toBe('frozen');
      expect(await inspect('{{.State.Paused}} {{.State.Status}}')).toBe('false running');
      expect(await dockerOk(info, ['ps', '--filter', 'name=lim', '--format', '{{.Status}}'])).toMatch(/^Up /);
    } finally {
      const t = await tstop(['thaw', 'lim', ...tstopRootFlags(info)], env);
      expect(t.code, t.stderr).toBe(0);
    }
    expect(cgroupFile('freezer', id, 'freezer.state')).toBe('THAWED');
  });

  it("docker pause: tstop shows the container frozen and docker's Paused state; tstop thaw is refused without --force", async () => {
    await dockerOk(info, ['pause', 'lim']);
    try {
      const c = containerOf(await snapshot(info), id);
      expect(c.freezer).toBe('frozen');
      expect(c.runtimeConfig?.paused).toBe(true);
      const t = await tstop(['thaw', 'lim', ...tstopRootFlags(info)], env);
      expect(t.code).toBe(2);
      expect(t.stderr).toContain('lim was paused by docker (docker pause): docker unpause lim thaws it');
      expect(cgroupFile('freezer', id, 'freezer.state')).toBe('FROZEN');
    } finally {
      await dockerOk(info, ['unpause', 'lim']);
    }
    expect(containerOf(await snapshot(info), id).freezer).toBe('thawed');
  });
});
