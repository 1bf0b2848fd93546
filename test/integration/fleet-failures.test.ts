// The fleet view's failures against a real Prometheus serving TLS and basic
// auth (--web.config.file; the certificate is test/fixtures/tls, another
// self-signed one made by openssl is the wrong CA), and a TCP proxy in front
// of it that delays (a slow query) or goes down. Each failure is one line:
// `snapshot --prometheus` exits 1 with it, the dashboard shows it as a red
// banner and retries at each interval until Prometheus answers again.
// Needs prometheus (Debian's package), openssl and tmux (dashboard part).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tstopBin } from '../../bench/export-process.js';
import { freePort, hasPrometheus, startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { runCli as tstop } from '../helpers/cli.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { hasTmux, TmuxPane, waitForScreen } from '../helpers/tmux.js';

const fixtures = path.resolve(path.dirname(tstopBin()), '../test/fixtures/tls');
const hasOpenssl = spawnSync('sh', ['-c', 'command -v openssl']).status === 0;

describe.runIf(hasPrometheus() && hasOpenssl)('fleet failures against a Prometheus with TLS and basic auth', () => {
  let dir = '';
  let prom: RunningPrometheus;
  let proxy: TcpProxy;
  let passwordFile = '';
  let wrongPasswordFile = '';
  let otherCa = '';
  const ca = path.join(fixtures, 'cert.pem');
  const label = (port: number): string => `https://127.0.0.1:${port}`;
  const good = (): string[] => ['--prometheus-basic-auth', `tstop:${passwordFile}`, '--prometheus-ca-file', ca];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-fleet-fail-'));
    const password = `pw-${process.pid}-${Date.now()}`;
    passwordFile = path.join(dir, 'password');
    fs.writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
    wrongPasswordFile = path.join(dir, 'wrong');
    fs.writeFileSync(wrongPasswordFile, 'not-the-password\n', { mode: 0o600 });
    // A certificate for the same name from a CA Prometheus's certificate does not come from.
    otherCa = path.join(dir, 'other.pem');
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'other.key'),
        '-out',
        otherCa,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
    prom = await startPrometheus([], {
      web: {
        yaml: [
          'tls_server_config:',
          `  cert_file: ${path.join(fixtures, 'cert.pem')}`,
          `  key_file: ${path.join(fixtures, 'key.pem')}`,
          'basic_auth_users:',
          `  tstop: ${bcrypt.hashSync(password, 4)}`,
          '',
        ].join('\n'),
        ca: fs.readFileSync(ca),
        authorization: 'Basic ' + Buffer.from(`tstop:${password}`).toString('base64'),
      },
    });
    proxy = await TcpProxy.start(prom.port);
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await prom?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers with the right credentials and CA, and gives one line and exit 1 for 401, an untrusted certificate, a slow query and a Prometheus that is down', async () => {
    const ok = await tstop(['snapshot', '--prometheus', prom.url, ...good(), '--json']);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).notes).toEqual([`no targets match at ${label(prom.port)}`]);

    const unauthorized = `tstop: ${label(prom.port)} refused the credentials (HTTP 401): check --prometheus-bearer-token-file or --prometheus-basic-auth\n`;
    const wrong = await tstop([
      'snapshot',
      '--prometheus',
      prom.url,
      '--prometheus-basic-auth',
      `tstop:${wrongPasswordFile}`,
      '--prometheus-ca-file',
      ca,
    ]);
    expect([wrong.status, wrong.stderr]).toEqual([1, unauthorized]);
    const none = await tstop(['snapshot', '--prometheus', prom.url, '--prometheus-ca-file', ca]);
    expect([none.status, none.stderr]).toEqual([1, unauthorized]);

    const untrusted = new RegExp(
      `^tstop: ${label(prom.port).replace(/\./g, '\\.')}: the TLS certificate is not trusted \\([A-Z_]+\\): pass its CA with --prometheus-ca-file\\n$`,
    );
    const noCa = await tstop([
      'snapshot',
      '--prometheus',
      prom.url,
      '--prometheus-basic-auth',
      `tstop:${passwordFile}`,
    ]);
    expect(noCa.status).toBe(1);
    expect(noCa.stderr).toMatch(untrusted);
    const otherCaRun = await tstop([
      'snapshot',
      '--prometheus',
      prom.url,
      '--prometheus-basic-auth',
      `tstop:${passwordFile}`,
      '--prometheus-ca-file',
      otherCa,
    ]);
    expect(otherCaRun.status).toBe(1);
    expect(otherCaRun.stderr).toMatch(untrusted);

    proxy.mode = 'delay';
    const slow = await tstop([
      'snapshot',
      '--prometheus',
      label(proxy.port),
      ...good(),
      '--prometheus-timeout',
      '500ms',
    ]);
    proxy.mode = 'pass';
    expect([slow.status, slow.stderr]).toEqual([
      1,
      `tstop: ${label(proxy.port)} did not answer within 500 ms (--prometheus-timeout)\n`,
    ]);

    const port = await freePort();
    const down = await tstop(['snapshot', '--prometheus', `https://127.0.0.1:${port}`, ...good()]);
    expect([down.status, down.stderr]).toEqual([
      1,
      `tstop: https://127.0.0.1:${port} is unreachable: connection refused (is Prometheus running there?)\n`,
    ]);
  });

  it("tstop limit --remote names the CA option when the node's certificate is not trusted", async () => {
    const token = path.join(dir, 'token');
    fs.writeFileSync(token, 'a-token-of-enough-length\n', { mode: 0o600 });
    const r = await tstop(['limit', '--remote', prom.url, '--token-file', token, '/web', '--memory', '1g']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^tstop: limit: https:\/\/127\.0\.0\.1:\d+: the TLS certificate is not trusted \([A-Z_]+\): pass its CA with --remote-ca-file\n$/,
    );
    // Trusted, it reaches the server, which is no write API (Prometheus asks for its basic auth).
    const trusted = await tstop([
      'limit',
      '--remote',
      prom.url,
      '--token-file',
      token,
      '--remote-ca-file',
      ca,
      '/web',
      '--memory',
      '1g',
    ]);
    expect([trusted.status, trusted.stderr]).toEqual([
      2,
      `tstop: limit: ${label(prom.port)} refused the token (HTTP 401): check --token-file\n`,
    ]);
  });

  describe.runIf(hasTmux())('the dashboard', () => {
    let pane: TmuxPane | null = null;
    afterAll(() => pane?.kill());

    const banner = (pattern: string) => (l: string[]) => l.some((x) => x.includes(pattern));

    it('shows each failure as a banner, retries, and says when Prometheus answers again', async () => {
      pane = new TmuxPane(
        `${tstopBin()} --prometheus ${label(proxy.port)} ${good().join(' ')} --prometheus-timeout 500ms --interval 1s`,
      );
      await waitForScreen(pane, 'the fleet header', banner(`fleet ${label(proxy.port)}  0/0 instances up`), 30_000);
      await proxy.down();
      await waitForScreen(
        pane,
        'the down banner',
        banner('is unreachable: connection refused (is Prometheus running there?); retrying every 1s'),
      );
      proxy.mode = 'delay';
      await proxy.up();
      await waitForScreen(
        pane,
        'the slow banner',
        banner(`${label(proxy.port)} did not answer within 500 ms (--prometheus-timeout); retrying every 1s`),
      );
      proxy.mode = 'pass';
      await waitForScreen(pane, 'the recovery', banner(`${label(proxy.port)} answers again`));
      pane.send('q');
    }, 120_000);

    it('shows wrong credentials and an untrusted certificate as banners', async () => {
      pane?.kill();
      pane = new TmuxPane(
        `${tstopBin()} --prometheus ${prom.url} --prometheus-basic-auth tstop:${wrongPasswordFile} --prometheus-ca-file ${ca}`,
      );
      await waitForScreen(pane, 'the 401 banner', banner('refused the credentials (HTTP 401)'), 30_000);
      pane.kill();
      pane = new TmuxPane(`${tstopBin()} --prometheus ${prom.url} --prometheus-basic-auth tstop:${passwordFile}`);
      await waitForScreen(pane, 'the TLS banner', banner('the TLS certificate is not trusted'), 30_000);
      pane.send('q');
    }, 120_000);
  });
});
