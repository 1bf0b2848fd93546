// `tstop export` under hostile clients (issue 11): the built CLI in a child
// process, attacked over real sockets on loopback. Wrong-password floods,
// refused bcrypt costs, slow and surplus connections, client certificates,
// rotated certificates and error bodies.

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExportProcess, tstopBin, type ExportProcess } from '../../bench/export-process.js';
import { startExporter } from '../../src/exporter/server.js';
import { basicAuth, quantile, request } from '../helpers/http.js';

// bcrypt of "secret" (cost 10)
const HASH = '$2y$10$mWB0THa4cFGUrT6gpjXumO39j/EVZDDxjJLH2i.Hb5jwIxI3xjauq';
// bcrypt of "secret" (cost 13: about 1-2 s per check in bcryptjs)
const HASH_COST_13 = '$2b$13$mNuuvtWNulN9mjiMWsgTWuDmrKMe9EtKmUS0HLkCN8ooZJw5MsBSG';
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

/** Opens a TCP connection to the exporter; resolves once connected. */
function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Milliseconds from now until the server closes the socket (or rejects after timeoutMs). */
function closedWithin(socket: net.Socket, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
    });
  });
}

describe('slow and surplus clients', () => {
  let exp: ExportProcess;
  const HEADER_TIMEOUT_MS = 2000;

  beforeAll(async () => {
    exp = await startExportProcess(['--header-timeout', '2s', '--request-timeout', '4s', ...SMALL]);
  });
  afterAll(async () => {
    await exp?.stop();
  });

  it('drops 200 slow-header sockets within the header timeout while a scrape still answers', async () => {
    const sockets = await Promise.all(Array.from({ length: 200 }, () => connect(exp.port)));
    const t0 = performance.now();
    // Half send nothing; half start a request and trickle a header byte every 300 ms.
    const trickles = sockets.map((s, i) => {
      if (i % 2 === 0) return null;
      s.write('GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      return setInterval(() => s.writable && s.write('a'), 300);
    });
    const closed = sockets.map((s) => closedWithin(s, HEADER_TIMEOUT_MS + 8000));
    const scrape = await request(exp.url + 'metrics', { timeoutMs: 5000 });
    expect(scrape.status).toBe(200);
    const times = await Promise.all(closed);
    for (const t of trickles) if (t) clearInterval(t);
    const slowest = Math.max(...times);
    console.log(
      `200 slow sockets closed after ${Math.round(performance.now() - t0)} ms (slowest ${Math.round(slowest)} ms)`,
    );
    // The timeout plus Node's check interval (a quarter of it) plus a loaded machine's slack.
    expect(slowest).toBeLessThan(HEADER_TIMEOUT_MS + 4000);
    expect(Math.min(...times)).toBeGreaterThan(HEADER_TIMEOUT_MS - 500);
    expect((await request(exp.url + 'metrics')).status).toBe(200);
  }, 30_000);
});

describe('connection and in-flight caps', () => {
  let exp: ExportProcess;

  beforeAll(async () => {
    // Cost 13: a wrong password holds the one bcrypt worker for a good while, so requests stay in flight.
    const web = write('slow-hash.yml', `basic_auth_users:\n  prometheus: ${HASH_COST_13}\n`);
    exp = await startExportProcess([
      '--web-config',
      web,
      '--max-connections',
      '20',
      '--max-requests-in-flight',
      '2',
      ...SMALL,
    ]);
  });
  afterAll(async () => {
    await exp?.stop();
  });

  it('closes connections beyond --max-connections at once', async () => {
    const held = await Promise.all(Array.from({ length: 20 }, () => connect(exp.port)));
    await sleep(300); // the server has accepted them
    const extra = await connect(exp.port);
    extra.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const ms = await closedWithin(extra, 2000);
    console.log(`connection 21 closed after ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(1000);
    for (const s of held) s.destroy();
    await sleep(300);
    expect((await request(exp.url + 'healthz')).status).toBe(200);
  });

  it('answers 503 beyond --max-requests-in-flight, /healthz excepted', async () => {
    const slow = [1, 2].map((i) =>
      request(exp.url + 'metrics', { headers: basicAuth('prometheus', 'wrong'), localAddress: `127.0.3.${i}` }),
    );
    await sleep(300); // both are waiting for bcrypt
    const third = await request(exp.url + 'metrics', { headers: basicAuth('prometheus', 'secret') });
    expect(third.status).toBe(503);
    expect(third.body.toString()).toBe('Too many requests in flight (limit 2)\n');
    expect(third.headers['retry-after']).toBe('1');
    expect((await request(exp.url + 'healthz')).status).toBe(200);
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([401, 401]);
  }, 60_000);
});

/** Runs openssl in the test's directory (Debian's openssl package; .ci/run installs it). */
function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: tmp, encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
}

/** An EC key and a certificate for `subject`, signed by the test CA (or self-signed with selfSigned). */
function makeCert(name: string, subject: string, options: { selfSigned?: boolean; san?: string } = {}): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  const ext = options.san ? ['-addext', `subjectAltName=${options.san}`] : [];
  if (options.selfSigned) {
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      subject,
      '-days',
      '2',
      ...ext,
      '-out',
      `${name}.pem`,
    ]);
    return;
  }
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, ...ext, '-out', `${name}.csr`]);
  fs.writeFileSync(path.join(tmp, `${name}.ext`), options.san ? `subjectAltName=${options.san}\n` : '\n');
  openssl([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  ]);
}

const pem = (name: string): Buffer => fs.readFileSync(path.join(tmp, `${name}.pem`));
const key = (name: string): Buffer => fs.readFileSync(path.join(tmp, `${name}.key`));

/** The SHA-256 fingerprint of the certificate the server presents. */
function servedFingerprint(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('web config: client certificates, headers, token file mode, reload on SIGHUP', () => {
  let exp: ExportProcess;
  let ca: Buffer;

  beforeAll(async () => {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
    openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=tstop test CA', '-days', '2', '-out', 'ca.pem']);
    ca = pem('ca');
    makeCert('server-a', '/CN=127.0.0.1', { san: 'IP:127.0.0.1' });
    makeCert('server-b', '/CN=127.0.0.1', { san: 'IP:127.0.0.1' });
    makeCert('client', '/CN=prometheus');
    makeCert('rogue', '/CN=prometheus', { selfSigned: true });
    fs.copyFileSync(path.join(tmp, 'server-a.pem'), path.join(tmp, 'server.pem'));
    fs.copyFileSync(path.join(tmp, 'server-a.key'), path.join(tmp, 'server.key'));
    const web = write(
      'tls.yml',
      'tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_ca_file: ca.pem\n' +
        '  client_auth_type: VerifyClientCertIfGiven\n' +
        'http_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n' +
        '    X-Content-Type-Options: nosniff\n',
    );
    exp = await startExportProcess(['--web-config', web, ...SMALL]);
  });
  afterAll(async () => {
    await exp?.stop();
  });

  it('with VerifyClientCertIfGiven takes no certificate or a signed one, and refuses one client_ca_file did not sign', async () => {
    const url = exp.url + 'healthz';
    expect((await request(url, { ca })).status).toBe(200);
    expect((await request(url, { ca, cert: pem('client'), key: key('client') })).status).toBe(200);
    await expect(request(url, { ca, cert: pem('rogue'), key: key('rogue') })).rejects.toThrow(
      /socket hang up|ECONNRESET|EPIPE/,
    );
  });

  it('sends http_server_config.headers with every response', async () => {
    for (const p of ['metrics', 'healthz', 'nowhere']) {
      const r = await request(exp.url + p, { ca });
      expect(r.headers['strict-transport-security'], p).toBe('max-age=31536000');
      expect(r.headers['x-content-type-options'], p).toBe('nosniff');
    }
  });

  it('serves a rotated certificate after SIGHUP', async () => {
    const a = new crypto.X509Certificate(pem('server-a')).fingerprint256;
    const b = new crypto.X509Certificate(pem('server-b')).fingerprint256;
    expect(await servedFingerprint(exp.port, ca)).toBe(a);
    fs.copyFileSync(path.join(tmp, 'server-b.pem'), path.join(tmp, 'server.pem'));
    fs.copyFileSync(path.join(tmp, 'server-b.key'), path.join(tmp, 'server.key'));
    process.kill(exp.pid, 'SIGHUP');
    const deadline = Date.now() + 10_000;
    while (!exp.stderr().includes('reloaded web config') && Date.now() < deadline) await sleep(50);
    expect(exp.stderr()).toContain(`reloaded web config ${path.join(tmp, 'tls.yml')}`);
    expect(await servedFingerprint(exp.port, ca)).toBe(b);
    expect((await request(exp.url + 'healthz', { ca })).status).toBe(200);
  });

  it('keeps the old config when the reloaded one is bad, and says why', async () => {
    const before = await servedFingerprint(exp.port, ca);
    fs.writeFileSync(path.join(tmp, 'server.key'), 'not a key\n');
    process.kill(exp.pid, 'SIGHUP');
    const deadline = Date.now() + 10_000;
    while (!exp.stderr().includes('not reloaded') && Date.now() < deadline) await sleep(50);
    expect(exp.stderr()).toMatch(
      /web config not reloaded, keeping the old one: web config .*tls.yml: tls_server_config/,
    );
    expect(await servedFingerprint(exp.port, ca)).toBe(before);
  });

  it('refuses a bearer token file readable by group or others, and http_server_config keys it does not support', () => {
    write('loose-token', 'scrape-token-0123456789\n', 0o644);
    const loose = write('loose.yml', 'bearer_token_file: loose-token\n');
    const r = runExport(['--web-config', loose]);
    expect(r.status).toBe(1);
    const tokenPath = path.join(tmp, 'loose-token');
    expect(r.stderr).toBe(
      `tstop: web config ${loose}: bearer_token_file ${tokenPath} is readable or writable by group or others (chmod 600 ${tokenPath})\n`,
    );
    const h2 = write('http2.yml', 'http_server_config:\n  http2: true\n');
    expect(runExport(['--web-config', h2]).stderr).toBe(
      `tstop: web config ${h2}: http_server_config.http2 is not supported (only http_server_config.headers is)\n`,
    );
    const hdr = write('hdr.yml', 'http_server_config:\n  headers:\n    Set-Cookie: a=b\n');
    expect(runExport(['--web-config', hdr]).stderr).toBe(
      `tstop: web config ${hdr}: http_server_config.headers: 'Set-Cookie' is not one of Strict-Transport-Security, ` +
        'X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy\n',
    );
  });
});

/** Sends raw bytes and resolves with the raw reply once the server closes or after 2 s of it. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let reply = '';
    socket.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      if (/\r\n\r\n[\s\S]*\n$/.test(reply)) socket.end();
    });
    socket.setTimeout(2000, () => socket.destroy());
    socket.once('close', () => resolve(reply));
    socket.once('error', reject);
  });
}

describe('error bodies', () => {
  let exp: ExportProcess;

  beforeAll(async () => {
    const web = write('errors.yml', `basic_auth_users:\n  prometheus: ${HASH}\n`);
    exp = await startExportProcess(['--web-config', web, ...SMALL]);
  });
  afterAll(async () => {
    await exp?.stop();
  });

  it('answers an unparsable request target with 400 and a generic body, before auth', async () => {
    for (const target of ['//[', '//evil.example/metrics', '*', 'http://x/metrics']) {
      // HTTP/1.0: no chunked encoding to undo.
      const reply = await rawRequest(exp.port, `GET ${target} HTTP/1.0\r\nHost: x\r\n\r\n`);
      expect(reply.split('\r\n')[0], target).toBe('HTTP/1.1 400 Bad Request');
      expect(reply.split('\r\n\r\n')[1], target).toBe('Bad request\n');
    }
    expect(exp.stderr()).not.toContain('Invalid URL');
  });

  it('puts no internal message in a 500 body (the log has it)', async () => {
    const server = await startExporter({
      source: {
        collect: () => {
          throw new Error('EACCES: /secret/internal/path');
        },
      },
      listen: { host: '127.0.0.1', port: 0 },
      minIntervalMs: 0,
      select: () => true,
    });
    const written: string[] = [];
    const stderrWrite = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      const r = await request(server.url + 'metrics');
      expect(r.status).toBe(500);
      expect(r.body.toString()).toBe('Internal error (see the exporter log)\n');
    } finally {
      process.stderr.write = stderrWrite;
      await server.close();
    }
    expect(written.join('')).toContain('tstop export: GET "/metrics": EACCES: /secret/internal/path');
  });
});
