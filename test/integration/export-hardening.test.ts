// `tstop export` under hostile clients (issue 11): the built CLI in a child
// process, attacked over real sockets on loopback. Wrong-password floods,
// refused bcrypt costs, slow and surplus connections, client certificates,
// rotated certificates and error bodies.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExportProcess, tstopBin, type ExportProcess } from '../../bench/export-process.js';
import { basicAuth, quantile, request } from '../helpers/http.js';

// bcrypt of "secret" (cost 10)
const HASH = '$2y$10$mWB0THa4cFGUrT6gpjXumO39j/EVZDDxjJLH2i.Hb5jwIxI3xjauq';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// Few cgroups per scrape: the test measures the server, not the collector.
const SMALL = ['--cgroups', 'default', '--filter', '^/$'];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-export-hardening-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string, mode = 0o600): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text, { mode });
  fs.chmodSync(p, mode);
  return p;
}

function runExport(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(tstopBin(), ['export', '--listen', '127.0.0.1:0', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stderr: r.stderr };
}

describe('basic auth under a wrong-password flood', () => {
  let exp: ExportProcess;

  beforeAll(async () => {
    const web = write('basic.yml', `basic_auth_users:\n  prometheus: ${HASH}\n`);
    exp = await startExportProcess(['--web-config', web, ...SMALL]);
  });
  afterAll(async () => {
    await exp?.stop();
  });

  it('keeps valid scrapes under 1 s at p99 while 32 clients send wrong passwords for 10 s; the excess gets 429/503', async () => {
    const url = exp.url + 'metrics';
    // Prometheus has been scraping: its credentials are in the cache.
    expect((await request(url, { headers: basicAuth('prometheus', 'secret') })).status).toBe(200);
    const until = Date.now() + 10_000;
    const statuses = new Map<number, number>();
    const attacker = async (i: number): Promise<void> => {
      // Each from its own loopback address, so the per-address limit alone cannot stop them.
      const localAddress = `127.0.${1 + (i >> 8)}.${i & 0xff || 1}`;
      while (Date.now() < until) {
        const r = await request(url, { headers: basicAuth('prometheus', `wrong-${i}`), localAddress }).catch(() => ({
          status: 0,
        }));
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    };
    const latenciesMs: number[] = [];
    const scraper = async (): Promise<void> => {
      while (Date.now() < until) {
        const t0 = performance.now();
        const r = await request(url, { headers: basicAuth('prometheus', 'secret') });
        latenciesMs.push(performance.now() - t0);
        expect(r.status).toBe(200);
        await sleep(100);
      }
    };
    await Promise.all([scraper(), ...Array.from({ length: 32 }, (_, i) => attacker(i + 1))]);
    const p99 = quantile(latenciesMs, 0.99);
    console.log(
      `valid scrapes: ${latenciesMs.length}, p50 ${quantile(latenciesMs, 0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; ` +
        `attackers: ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    expect(latenciesMs.length).toBeGreaterThan(20);
    expect(p99).toBeLessThan(1000);
    expect(statuses.get(0) ?? 0).toBe(0);
    expect(statuses.get(200) ?? 0).toBe(0);
    expect((statuses.get(429) ?? 0) + (statuses.get(503) ?? 0)).toBeGreaterThan(0);
    expect([...statuses.keys()].every((s) => [401, 429, 503].includes(s))).toBe(true);
    // /healthz needs no bcrypt at all.
    expect((await request(exp.url + 'healthz')).status).toBe(200);
  }, 60_000);

  it('refuses to start with a bcrypt cost above 14, saying so', () => {
    const web = write('cost31.yml', `basic_auth_users:\n  prometheus: ${HASH.replace('$10$', '$31$')}\n`);
    const r = runExport(['--web-config', web]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `tstop: web config ${web}: basic_auth_users.prometheus: bcrypt cost 31 is outside 4-14 ` +
        '(above 14 every check would take seconds to days of CPU; htpasswd -nBC 10 prometheus)\n',
    );
  });
});
