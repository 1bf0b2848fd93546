import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/util/errors.js';
import { reuseWindowMs, SharedCollection } from '../../src/exporter/collection.js';
import {
  parseListen,
  readConfigFile,
  resolveSettings,
  flagSource,
  envSource,
  fileSource,
} from '../../src/exporter/config.js';
import { ExportStartupError } from '../../src/exporter/errors.js';
import { exportSettings } from '../../src/cli/export.js';
import { acceptsGzip } from '../../src/exporter/server.js';
import { BcryptPool } from '../../src/exporter/bcrypt-pool.js';
import { Authenticator, parseWebConfig } from '../../src/exporter/web-config.js';
import { sampleSnapshot, v2Container } from '../../src/model/samples.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-export-config-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

describe('--listen', () => {
  it('parses host:port, [v6]:port, :port (every interface) and a bare port (loopback)', () => {
    expect(parseListen('127.0.0.1:9338')).toEqual({ host: '127.0.0.1', port: 9338 });
    expect(parseListen('[::1]:9338')).toEqual({ host: '::1', port: 9338 });
    expect(parseListen(':9338')).toEqual({ host: null, port: 9338 });
    expect(parseListen('9338')).toEqual({ host: '127.0.0.1', port: 9338 });
    expect(parseListen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
  });

  it('rejects what is not an address, with the reason', () => {
    expect(() => parseListen('127.0.0.1')).toThrow("'127.0.0.1' is not HOST:PORT, [IPV6]:PORT or :PORT");
    expect(() => parseListen('1.2.3.4:99999')).toThrow("port '99999' is not a number from 0 to 65535");
    expect(() => parseListen('1.2.3.4:http')).toThrow("port 'http' is not a number");
    expect(() => parseListen('::1:80')).toThrow('is not HOST:PORT');
    expect(() => parseListen('a b:80')).toThrow();
  });
});

describe('settings precedence: flags, then TSTOP_LISTEN, then --config, then defaults', () => {
  it('defaults to loopback 9338, 1 s, every cgroup', async () => {
    const s = await exportSettings({}, {});
    expect(s).toEqual({
      limits: { headerTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 512, maxRequestsInFlight: 40 },
      listen: { host: '127.0.0.1', port: 9338 },
      minIntervalMs: 1000,
      webConfigFile: null,
      cgroups: 'all',
      filter: null,
      watch: true,
      containerLabels: { kind: 'all' },
    });
  });

  it('reads --container-labels and export.container_labels, naming the source of a bad value', async () => {
    expect((await exportSettings({ 'container-labels': 'none' }, {})).containerLabels).toEqual({ kind: 'none' });
    const cfg = file('labels.yml', 'export:\n  container_labels: com.docker.compose.project,team\n');
    expect((await exportSettings({ config: cfg }, {})).containerLabels).toEqual({
      kind: 'only',
      keys: new Set(['com.docker.compose.project', 'team']),
    });
    await expect(exportSettings({ 'container-labels': 'a b' }, {})).rejects.toThrow(/^--container-labels: /);
  });

  it('takes the flag over the environment over the config file', async () => {
    const cfg = file(
      'a.yml',
      'export:\n  listen: 10.0.0.1:1\n  min_interval: 5s\n  web_config: web.yml\n  cgroups: default\n',
    );
    let s = await exportSettings({ config: cfg }, {});
    expect(s.listen).toEqual({ host: '10.0.0.1', port: 1 });
    expect(s.minIntervalMs).toBe(5000);
    expect(s.cgroups).toBe('default');
    expect(s.webConfigFile).toBe(path.join(tmp, 'web.yml'));
    s = await exportSettings({ config: cfg }, { TSTOP_LISTEN: ':2' });
    expect(s.listen).toEqual({ host: null, port: 2 });
    s = await exportSettings({ config: cfg, listen: '127.0.0.2:3' }, { TSTOP_LISTEN: ':2' });
    expect(s.listen).toEqual({ host: '127.0.0.2', port: 3 });
    expect(s.minIntervalMs).toBe(5000);
  });

  it('reports bad flags and environment as usage errors naming the source', async () => {
    await expect(exportSettings({ listen: 'nope' }, {})).rejects.toThrow(UsageError);
    await expect(exportSettings({ listen: 'nope' }, {})).rejects.toThrow("--listen: 'nope' is not HOST:PORT");
    await expect(exportSettings({}, { TSTOP_LISTEN: 'x:y' })).rejects.toThrow("TSTOP_LISTEN: 'x:y': port 'y'");
    await expect(exportSettings({ 'min-interval': 'soon' }, {})).rejects.toThrow(
      "--min-interval: 'soon' is not a duration",
    );
    await expect(exportSettings({ cgroups: 'some' }, {})).rejects.toThrow(
      "--cgroups: 'some' is not 'all' or 'default'",
    );
    await expect(exportSettings({ filter: '(' }, {})).rejects.toThrow("--filter: '(' is not a regular expression");
    await expect(exportSettings({ 'header-timeout': '10ms' }, {})).rejects.toThrow(
      "--header-timeout: '10ms' is shorter than 100ms",
    );
    await expect(exportSettings({ 'max-connections': '0' }, {})).rejects.toThrow(
      "--max-connections: '0' is not a whole number from 1 to 9999999",
    );
    await expect(exportSettings({ 'header-timeout': '1m' }, {})).rejects.toThrow(
      'the request timeout (30000 ms) is shorter than the header timeout (60000 ms)',
    );
  });

  it('reads the client limits from flags and the config file', async () => {
    const cfg = file('limits.yml', 'export:\n  header_timeout: 5s\n  max_requests_in_flight: 8\n');
    const s = await exportSettings({ config: cfg, 'max-connections': '64' }, {});
    expect(s.limits).toEqual({
      headerTimeoutMs: 5000,
      requestTimeoutMs: 30_000,
      maxConnections: 64,
      maxRequestsInFlight: 8,
    });
  });

  it('reports config file problems as startup errors naming the file and key', async () => {
    const bad = file('b.yml', 'export:\n  listen: nowhere\n');
    await expect(exportSettings({ config: bad }, {})).rejects.toThrow(ExportStartupError);
    await expect(exportSettings({ config: bad }, {})).rejects.toThrow(`config ${bad}: export.listen: 'nowhere'`);
    const unknown = file('c.yml', 'export:\n  lisen: :1\n');
    await expect(readConfigFile(unknown)).rejects.toThrow("unknown key 'export.lisen'");
    await expect(readConfigFile(path.join(tmp, 'missing.yml'))).rejects.toThrow('cannot read it (ENOENT)');
    const broken = file('d.yml', 'export: [\n');
    await expect(readConfigFile(broken)).rejects.toThrow('not valid YAML');
    // A bad flag wins over a bad file: flags are checked first and are usage errors.
    expect(() =>
      resolveSettings([flagSource({ listen: 'x' }), envSource({}), fileSource({ listen: 'y' }, 'f')]),
    ).toThrow(UsageError);
  });

  it('accepts JSON as the config format too', async () => {
    const json = file('e.json', JSON.stringify({ export: { listen: '[::1]:9000', watch: true } }));
    const s = await exportSettings({ config: json }, {});
    expect(s.listen).toEqual({ host: '::1', port: 9000 });
    expect(s.watch).toBe(true);
  });
});

describe('web config', () => {
  // bcrypt of "secret" (cost 10), with the $2y$ prefix htpasswd -B writes
  const HASH = '$2y$10$mWB0THa4cFGUrT6gpjXumO39j/EVZDDxjJLH2i.Hb5jwIxI3xjauq';

  it('reads basic_auth_users and a bearer token file, relative to the web config', async () => {
    fs.chmodSync(file('token', 'tok-123\n'), 0o600);
    const c = await parseWebConfig(
      `basic_auth_users:\n  prometheus: ${HASH}\nbearer_token_file: token\n`,
      path.join(tmp, 'web.yml'),
    );
    expect([...c.users.keys()]).toEqual(['prometheus']);
    expect(c.bearerToken).toBe('tok-123');
    expect(c.tls).toBeNull();
  });

  it('rejects unknown keys, non-bcrypt hashes, half a TLS config and unreadable files', async () => {
    const f = path.join(tmp, 'w.yml');
    await expect(parseWebConfig('basic_auth_user:\n  a: b\n', f)).rejects.toThrow(
      `web config ${f}: unknown key 'basic_auth_user'`,
    );
    await expect(parseWebConfig('basic_auth_users:\n  a: plaintext\n', f)).rejects.toThrow(
      'basic_auth_users.a: not a bcrypt hash',
    );
    await expect(parseWebConfig('tls_server_config:\n  cert_file: c.pem\n', f)).rejects.toThrow(
      'needs both cert_file and key_file',
    );
    await expect(
      parseWebConfig('tls_server_config:\n  cert_file: nope.pem\n  key_file: nope.key\n', f),
    ).rejects.toThrow(/cert_file: cannot read .*nope.pem \(ENOENT\)/);
  });

  it('checks basic credentials with bcrypt (in a worker) and bearer tokens in constant time', async () => {
    const auth = new Authenticator({ users: new Map([['prometheus', HASH]]), bearerToken: 'tok-123' });
    const basic = (u: string, p: string): string => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
    try {
      expect(auth.required).toBe(true);
      expect(await auth.check(undefined)).toBe('denied');
      expect(await auth.check(basic('prometheus', 'secret'))).toBe('ok');
      expect(await auth.check(basic('prometheus', 'secret'))).toBe('ok'); // cached
      expect(await auth.check(basic('prometheus', 'wrong'))).toBe('denied');
      expect(await auth.check(basic('nobody', 'secret'))).toBe('denied');
      expect(await auth.check('Bearer tok-123')).toBe('ok');
      expect(await auth.check('Bearer tok-124')).toBe('denied');
      expect(await auth.check('Digest x')).toBe('denied');
      expect(new Authenticator({ users: new Map(), bearerToken: null }).required).toBe(false);
    } finally {
      auth.close();
    }
  });

  it('limits failures per address (cached good credentials still pass) and answers busy past the queue', async () => {
    const users = new Map([['prometheus', HASH]]);
    const basic = (p: string): string => 'Basic ' + Buffer.from(`prometheus:${p}`).toString('base64');
    const limits = { maxFailures: 3, windowMs: 60_000, cacheSize: 8 };
    const auth = new Authenticator({ users, bearerToken: null }, new BcryptPool(1, 16), limits);
    try {
      expect(await auth.check(basic('secret'), '10.0.0.1')).toBe('ok');
      for (let i = 0; i < 3; i++) expect(await auth.check(basic('wrong'), '10.0.0.1')).toBe('denied');
      expect(await auth.check(basic('wrong'), '10.0.0.1')).toBe('limited');
      expect(await auth.check(basic('secret'), '10.0.0.1')).toBe('ok');
      expect(await auth.check(basic('wrong'), '10.0.0.2')).toBe('denied');
    } finally {
      auth.close();
    }
    const busy = new Authenticator({ users, bearerToken: null }, new BcryptPool(1, 2), limits);
    try {
      const verdicts = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((p, i) => busy.check(basic(p), `10.1.0.${i}`)));
      expect(verdicts).toEqual(['denied', 'denied', 'denied', 'busy', 'busy']);
    } finally {
      busy.close();
    }
  });

  it('refuses bcrypt costs above 14 at start, saying so', async () => {
    const f = path.join(tmp, 'w.yml');
    const cost31 = HASH.replace('$10$', '$31$');
    await expect(parseWebConfig(`basic_auth_users:\n  p: ${cost31}\n`, f)).rejects.toThrow(
      /basic_auth_users.p: bcrypt cost 31 is outside 4-14 \(above 14 every check/,
    );
    const cost14 = HASH.replace('$10$', '$14$');
    expect((await parseWebConfig(`basic_auth_users:\n  p: ${cost14}\n`, f)).users.get('p')).toBe(cost14);
  });
});

describe('Accept-Encoding', () => {
  it('serves gzip when asked, not when refused with q=0', () => {
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('br, gzip;q=0.5')).toBe(true);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});

describe('shared collection', () => {
  it('collects once per minimum interval however many scrapes arrive, concurrent or repeated', async () => {
    let clock = 0;
    let collects = 0;
    const source = {
      collect: () => {
        collects++;
        return sampleSnapshot([v2Container()]);
      },
    };
    const shared = new SharedCollection({ source, minIntervalMs: 1000, select: () => true, now: () => clock });
    const burst = await Promise.all(Array.from({ length: 50 }, () => shared.get()));
    expect(collects).toBe(1);
    expect(new Set(burst).size).toBe(1);
    clock = 899;
    await shared.get();
    expect(collects).toBe(1);
    // A scrape a jittery 1 s interval later (a few ms early) gets a fresh collection.
    clock = 995;
    const next = await shared.get();
    expect(collects).toBe(2);
    expect(next).not.toBe(burst[0]);
    expect(shared.collections).toBe(2);
    // gzip is made once per exposition and shared too (its parts; gzipped() joins them for who asks)
    expect(next.gzip).toBe(next.gzip);
    const [a, b] = await Promise.all([next.gzipped(), next.gzipped()]);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(Buffer.concat(next.gzip.parts))).toBe(true);
    expect(a.length).toBe(next.gzip.length);
  });

  it('tolerates scrape jitter: never serves a collection older than the interval to a steady 1 s scraper', async () => {
    let collects = 0;
    const source = {
      collect: () => {
        collects++;
        return sampleSnapshot([]);
      },
    };
    let clock = 0;
    const shared = new SharedCollection({ source, minIntervalMs: 1000, select: () => true, now: () => clock });
    // 20 scrapes 1 s apart, each up to 5 ms early or late
    for (let i = 0; i < 20; i++) {
      clock = i * 1000 + (i % 2 === 0 ? -5 : 5);
      await shared.get();
    }
    expect(collects).toBe(20);
    expect(reuseWindowMs(1000)).toBe(900);
    expect(reuseWindowMs(200)).toBe(180);
    expect(reuseWindowMs(0)).toBe(0);
  });

  it('lets the next scrape retry when a collection fails', async () => {
    let fail = true;
    const source = {
      collect: () => {
        if (fail) throw new Error('boom');
        return sampleSnapshot([]);
      },
    };
    const shared = new SharedCollection({ source, minIntervalMs: 1000, select: () => true, now: () => 0 });
    await expect(shared.get()).rejects.toThrow('boom');
    fail = false;
    await expect(shared.get()).resolves.toBeTruthy();
  });
});
