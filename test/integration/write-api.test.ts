// `tstop export --enable-write-api --token-file F`: a limit change over HTTP
// reaches the kernel, is audited with the caller's address, and nothing
// happens without the token or with an oversized body.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExportProcess, tstopBin, type ExportProcess } from '../../bench/export-process.js';
import { TestCgroups } from '../helpers/cgroups.js';

const MiB = 1024 * 1024;
const repoRoot = path.resolve(path.dirname(tstopBin()), '..');

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
  let tokenFile: string;
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
    tokenFile = cg.tmp('token');
    // Named tokens: the name goes into each audit record.
    fs.writeFileSync(tokenFile, `ops: ${token}\nci: ci-${token}\n`, { mode: 0o600 });
    // Confined to the test's own cgroups: even a bug cannot write anywhere else.
    // The test cgroups are not containers: the server allows allowSystem.
    exp = await startExportProcess(
      ['--enable-write-api', '--token-file', tokenFile, '--audit-log', audit, '--write-api-allow-system'],
      { env: { TSTOP_LIMIT_CONFINE: cg.id() } },
    );
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
    expect(last.remoteAddress).toBe('127.0.0.1');
    expect(last.via).toBe('http');
    expect(last.tokenName).toBe('ops');
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

  it('counts failed authentications in tstop_write_api_auth_failures_total and logs them rate-limited', async () => {
    const before = await get(`${exp.url}metrics`);
    const count = (text: string): number =>
      Number(/^tstop_write_api_auth_failures_total (\S+)$/m.exec(text)?.[1] ?? NaN);
    const n = count(before);
    expect(n).toBeGreaterThanOrEqual(2); // the 401 test's two
    for (let i = 0; i < 5; i++)
      expect((await post(limitsUrl(), '{}', { authorization: 'Bearer wrong' })).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await get(`${exp.url}metrics`);
    expect(count(after)).toBe(n + 5);
    // promtool finds nothing to say about it.
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: after, encoding: 'utf8' });
    expect(lint.error).toBeUndefined();
    expect(lint.stdout + lint.stderr).not.toContain('tstop_write_api');
    // One line for the first failure, none for the rest within 10 s.
    expect(exp.stderr().match(/write API: \d+ failed authentications? since the last report/g)).toHaveLength(1);
  });

  it('names the token of each change in the audit record', async () => {
    const r = await post(limitsUrl(), JSON.stringify({ memory: '72m', allowSystem: true }), {
      authorization: `Bearer ci-${token}`,
    });
    expect(r.status, r.body).toBe(200);
    const last = JSON.parse(fs.readFileSync(audit, 'utf8').trim().split('\n').pop()!) as Record<string, unknown>;
    expect(last.tokenName).toBe('ci');
    expect(last.result).toBe('applied');
  });

  describe('without --write-api-allow-system', () => {
    let strict: ExportProcess;
    beforeAll(async () => {
      strict = await startExportProcess(['--enable-write-api', '--token-file', tokenFile, '--audit-log', audit], {
        env: { TSTOP_LIMIT_CONFINE: cg.id() },
      });
    });
    afterAll(async () => {
      await strict?.stop();
    });
    const url = (): string => `${strict.url}api/v1/containers/${encodeURIComponent(cg.id('api'))}/limits`;

    it('refuses allowSystem and force in the body (403) and changes nothing', async () => {
      const before = memoryLimit();
      const auditBefore = fs.readFileSync(audit, 'utf8');
      const auth = { authorization: `Bearer ${token}` };
      const system = await post(url(), JSON.stringify({ memory: '48m', allowSystem: true }), auth);
      expect(system.status).toBe(403);
      expect(JSON.parse(system.body).error).toBe(
        'allowSystem is not allowed by this server (it is started without --write-api-allow-system)',
      );
      const force = await post(url(), JSON.stringify({ memory: '48m', force: true }), auth);
      expect(force.status).toBe(403);
      // And the policy itself holds: a cgroup that is not a container.
      const plain = await post(url(), JSON.stringify({ memory: '48m' }), auth);
      expect(plain.status).toBe(403);
      expect(memoryLimit()).toBe(before);
      expect(fs.readFileSync(audit, 'utf8')).toBe(auditBefore);
    });

    it('answers a device path outside /dev exactly as a missing device', async () => {
      const auth = { authorization: `Bearer ${token}` };
      const error = async (device: string): Promise<string> => {
        const r = await post(url(), JSON.stringify({ deviceReadBps: `${device}:1mb` }), auth);
        expect(r.status, device).toBe(400);
        return (JSON.parse(r.body) as { error: string }).error.replaceAll(device, 'DEVICE');
      };
      const missing = await error('/dev/tstop-no-such-device');
      expect(missing).toContain("no such device 'DEVICE'");
      for (const probe of [
        '/etc/shadow',
        '/root',
        '/dev/../etc/shadow',
        '/dev/fd/../../etc/shadow',
        '/proc/self/exe',
      ]) {
        expect(await error(probe)).toBe(missing);
      }
    });
  });
});

describe.runIf(process.getuid?.() === 0)('the write API off loopback', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-write-api-listen-'));
  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, 'c0ffee0123456789abcdef0123456789\n', { mode: 0o600 });
  for (const f of ['cert.pem', 'key.pem'])
    fs.copyFileSync(path.join(repoRoot, 'test/fixtures/tls', f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'web.yml'), 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /**
   * Starts `tstop export` in a network namespace of its own whose only
   * address, 10.99.0.1, is not loopback (nothing is exposed on the host);
   * resolves with its stderr once it listens or exits.
   */
  function startInNetns(args: string[]): Promise<{ listening: boolean; status: number | null; stderr: string }> {
    const script = 'ip link set lo up && ip addr add 10.99.0.1/32 dev lo && exec "$0" export --listen 10.99.0.1:0 "$@"';
    const child = spawn('unshare', ['--net', 'sh', '-c', script, tstopBin(), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let listening = false;
    return new Promise((resolve) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (!listening && /listening on/.test(stderr)) {
          listening = true;
          child.kill('SIGTERM');
        }
      });
      child.once('exit', (status) => resolve({ listening, status, stderr }));
    });
  }

  it('refuses a non-loopback --listen without TLS; TLS or --write-api-insecure (with a warning) start', async () => {
    const api = ['--enable-write-api', '--token-file', tokenFile, '--audit-log', path.join(dir, 'audit.jsonl')];
    const plain = await startInNetns(api);
    expect(plain.listening).toBe(false);
    expect(plain.status).toBe(1);
    expect(plain.stderr).toBe(
      "tstop: the write API's token would travel in clear on 10.99.0.1:0: configure TLS (--web-config with " +
        'tls_server_config), listen on loopback, or accept the risk with --write-api-insecure\n',
    );
    const tls = await startInNetns([...api, '--web-config', path.join(dir, 'web.yml')]);
    expect(tls.listening, tls.stderr).toBe(true);
    expect(tls.stderr).not.toContain('warning');
    const insecure = await startInNetns([...api, '--write-api-insecure']);
    expect(insecure.listening, insecure.stderr).toBe(true);
    expect(insecure.stderr).toContain(
      "tstop export: warning: the write API's token travels in clear on 10.99.0.1:0 (--write-api-insecure)\n",
    );
    // Without the write API a non-loopback address needs nothing.
    expect((await startInNetns([])).listening).toBe(true);
  });
});
