// `tstop export` on a host running Docker: the series of a docker container
// carry cAdvisor's labels (id="/docker/<id>", name, image) and values the
// engine API agrees with; the /docker parent gets name="" as in cAdvisor, so
// dashboards that filter name!="" count each container once.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startExportProcess, type ExportProcess } from '../../bench/export-process.js';
import { parseExposition, type Sample } from '../helpers/exposition.js';
import { docker, dockerOk, engineApi, tstopRootFlags } from './engine.js';
import { containerOf, runContainer, snapshot, waitReady, type EngineStats } from './tstop.js';

const info = inject('docker');

async function scrape(exp: ExportProcess): Promise<Sample[]> {
  const res = await fetch(new URL('/metrics', exp.url));
  expect(res.status).toBe(200);
  return parseExposition(await res.text()).samples;
}

describe('tstop export: cAdvisor labels for docker containers', () => {
  let id: string;
  let exp: ExportProcess;

  beforeAll(async () => {
    id = await runContainer(info, [
      '--name',
      'shop-web-1',
      '--label',
      'com.docker.compose.project=shop',
      '--label',
      'com.docker.compose.service=web',
      info.image,
      'testload',
      '--ready',
      '/tmp/ready',
      'alloc',
      '16',
    ]);
    await waitReady(info, 'shop-web-1');
    exp = await startExportProcess(['--min-interval', '0s', ...tstopRootFlags(info)]);
  });

  afterAll(async () => {
    await exp?.stop();
    await docker(info, ['rm', '-f', 'shop-web-1']);
  });

  it('container_memory_working_set_bytes{id="/docker/<id>",name,image}: the value docker stats computes', async () => {
    const before = await engineApi<EngineStats>(info, `/containers/${id}/stats?stream=false&one-shot=true`);
    const samples = await scrape(exp);
    const mine = samples.filter((s) => s.labels.id === `/docker/${id}`);
    const ws = mine.find((s) => s.name === 'container_memory_working_set_bytes');
    expect(ws?.labels).toMatchObject({ id: `/docker/${id}`, name: 'shop-web-1', image: info.image });
    const usage = before.memory_stats.usage ?? NaN;
    expect(ws?.value).toBe(usage - (before.memory_stats.stats?.total_inactive_file ?? 0));
    // Every series of the container carries the same name and image.
    expect(mine.length).toBeGreaterThan(20);
    for (const s of mine) expect([s.name, s.labels.name, s.labels.image]).toEqual([s.name, 'shop-web-1', info.image]);
    const cpu = mine.find((s) => s.name === 'container_cpu_usage_seconds_total');
    expect(cpu?.value).toBeGreaterThan(0);
  });

  it('the /docker parent is named "" as cAdvisor names it, so name!="" counts the container once', async () => {
    const samples = await scrape(exp);
    const parent = samples.find((s) => s.name === 'container_memory_usage_bytes' && s.labels.id === '/docker');
    expect(parent?.labels.name).toBe('');
    const named = samples.filter((s) => s.name === 'container_memory_usage_bytes' && s.labels.name === 'shop-web-1');
    expect(named.map((s) => s.labels.id)).toEqual([`/docker/${id}`]);
  });

  it('container_label_* carries the compose project and service on every series, as cAdvisor exports docker labels', async () => {
    expect(containerOf(await snapshot(info), id).labels).toMatchObject({
      'com.docker.compose.project': 'shop',
      'com.docker.compose.service': 'web',
    });
    const mine = (await scrape(exp)).filter((s) => s.labels.id === `/docker/${id}`);
    expect(mine.length).toBeGreaterThan(20);
    for (const s of mine) {
      expect([
        s.name,
        s.labels.container_label_com_docker_compose_project,
        s.labels.container_label_com_docker_compose_service,
      ]).toEqual([s.name, 'shop', 'web']);
    }
  });

  it('a docker rename reaches the running exporter without waiting for its 30 s rescan', async () => {
    await dockerOk(info, ['rename', 'shop-web-1', 'shop-web-renamed']);
    try {
      const deadline = Date.now() + 20_000;
      let name = '';
      while (Date.now() < deadline) {
        const ws = (await scrape(exp)).find(
          (s) => s.name === 'container_memory_usage_bytes' && s.labels.id === `/docker/${id}`,
        );
        name = ws?.labels.name ?? '';
        if (name === 'shop-web-renamed') break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(name).toBe('shop-web-renamed');
    } finally {
      await dockerOk(info, ['rename', 'shop-web-renamed', 'shop-web-1']);
    }
  });
});
