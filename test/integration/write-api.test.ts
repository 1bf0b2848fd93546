// `tstop export --enable-write-api --token-file F`: a limit change over HTTP
// reaches the kernel, is audited with the caller's address, and nothing
// happens without the token or with an oversized body.

import fs from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExportProcess, type ExportProcess } from '../../bench/export-process.js';
import { TestCgroups } from '../helpers/cgroups.js';

const MiB = 1024 * 1024;

function post(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
}

describe.runIf(process.getuid?.() === 0)('the exporter write API', () => {
  let cg: TestCgroups;
  let exp: ExportProcess;
  let audit: string;
  let token: string;
  const memoryLimit = (): number => {
    const v2 = cg.hierarchyOf('memory').kind === 'v2';
    const text = cg.read('memory', 'api', v2 ? 'memory.max' : 'memory.limit_in_bytes');
    return text === 'max' ? Infinity : Number(text);
  };

  beforeAll(async () => {
    cg = new TestCgroups('api');
    cg.mkdir('api');
    await cg.spawn('api', ['alloc', '8']).ready;
    audit = cg.tmp('audit.jsonl');
    token = 'a'.repeat(8) + Date.now().toString(16) + 'b'.repeat(8);
    const tokenFile = cg.tmp('token');
    fs.writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
    // Confined to the test's own cgroups: even a bug cannot write anywhere else.
    exp = await startExportProcess(['--enable-write-api', '--token-file', tokenFile, '--audit-log', audit], {
      env: { TSTOP_LIMIT_CONFINE: cg.id() },
    });
  });

  afterAll(async () => {
    await exp?.stop();
    await cg?.cleanup();
  });

  const limitsUrl = (): string => `${exp.url}api/v1/containers/${encodeURIComponent(cg.id('api'))}/limits`;

  it('refuses a change without the token (401) and changes nothing', async () => {
    const before = memoryLimit();
    const r = await post(limitsUrl(), JSON.stringify({ memory: '64m', allowSystem: true }));
    expect(r.status).toBe(401);
    const wrong = await post(limitsUrl(), JSON.stringify({ memory: '64m', allowSystem: true }), {
      authorization: 'Bearer nope',
    });
    expect(wrong.status).toBe(401);
    expect(memoryLimit()).toBe(before);
  });

  it('refuses an oversized body (413)', async () => {
    const r = await post(limitsUrl(), JSON.stringify({ memory: '64m', pad: 'x'.repeat(20_000) }), {
      authorization: `Bearer ${token}`,
    });
    expect(r.status).toBe(413);
  });

  it('applies a memory limit with the token and audits it with the remote address', async () => {
    const before = await get(`${exp.url}metrics`);
    expect(before).toContain(`id="${cg.id('api')}"`);
    const r = await post(limitsUrl(), JSON.stringify({ memory: '64m', allowSystem: true }), {
      authorization: `Bearer ${token}`,
    });
    expect(r.status, r.body).toBe(200);
    expect(memoryLimit()).toBe(64 * MiB);
    const records = fs
      .readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = records[records.length - 1];
    expect(JSON.stringify(last)).toContain('127.0.0.1');
    expect(JSON.stringify(last)).toContain('http');
    // The next collection shows the new limit at once (the limiter tells the collector).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await get(`${exp.url}metrics`);
    const line = after
      .split('\n')
      .find((l) => l.startsWith('container_spec_memory_limit_bytes{') && l.includes(`id="${cg.id('api')}"`));
    expect(line?.split(' ').pop()).toBe(String(64 * MiB));
  });

  it('keeps /metrics read-only and answers GET on the API path with 405', async () => {
    const r = await new Promise<number>((resolve) =>
      http.get(limitsUrl(), { headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }),
    );
    expect(r).toBe(405);
    const m = await post(`${exp.url}metrics`, '');
    expect(m.status).toBe(405);
  });
});
