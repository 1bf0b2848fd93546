// The fleet view end to end: two `tstop export` processes on 127.0.0.1 (two
// "hosts", told apart by Prometheus's instance label), a real Prometheus
// scraping both every second, real test cgroups with real load; then the
// built CLI's `tstop snapshot --prometheus URL` must show each cgroup once
// per instance with the values each exporter itself serves, and the
// dashboard in tmux must show both instances. Failures of Prometheus (down,
// a query error, a timeout) are one clear line and exit 1.
// Needs root (test cgroups), prometheus (Debian's package) and tmux.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExportProcess, tstopBin, type ExportProcess } from '../../bench/export-process.js';
import { PrometheusClient } from '../../src/fleet/prometheus.js';
import { fleetQueries } from '../../src/fleet/queries.js';
import { FleetSource } from '../../src/fleet/source.js';
import type { FleetContainerSnapshot, FleetSnapshot } from '../../src/model/types.js';
import { TestCgroups } from '../helpers/cgroups.js';
import { find, parseExposition, value } from '../helpers/exposition.js';
import { freePort, hasPrometheus, startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { runCli as tstop } from '../helpers/cli.js';
import { hasTmux, TmuxPane, waitForScreen } from '../helpers/tmux.js';

const isRoot = process.getuid?.() === 0;
const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function scrape(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url + 'metrics', { agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

function postQuery(base: string, query: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL('api/v1/query', base), { method: 'POST', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.setHeader('Content-Type', 'application/x-www-form-urlencoded');
    req.end(new URLSearchParams({ query }).toString());
  });
}

/** One value of an exporter's own scrape for the cgroup `id`. */
async function exporterValue(exp: ExportProcess, family: string, id: string): Promise<number | null> {
  const e = parseExposition(await scrape(exp.url));
  return find(e, family, { id }).length === 0 ? null : value(e, family, { id });
}

describe.runIf(isRoot && hasPrometheus())('the fleet view over a real Prometheus and two exporters', () => {
  let cg: TestCgroups;
  const exporters: ExportProcess[] = [];
  let prom: RunningPrometheus;
  let instances: string[] = [];
  let memId = '';
  let spinId = '';
  let webId = '';
  const memLimitBytes = 256 * MiB;
  // Each exporter ("host") serves its write API with its own audit log; one token file for the fleet.
  const audits: string[] = [];
  let token = '';
  let tokenFile = '';
  let clientTokenFile = '';

  beforeAll(async () => {
    cg = new TestCgroups('fleet');
    memId = cg.mkdir('mem');
    cg.write('memory', 'mem', cg.v2 ? 'memory.max' : 'memory.limit_in_bytes', String(memLimitBytes));
    const mem = cg.spawn('mem', ['alloc', '64']);
    spinId = cg.mkdir('spin');
    const spinner = cg.spawn('spin', ['spin']);
    webId = cg.mkdir('web');
    const web = cg.spawn('web', ['alloc', '8']);
    await Promise.all([mem.ready, spinner.ready, web.ready]);
    token = `fleet-${process.pid}-${Date.now().toString(16)}-token`;
    tokenFile = cg.tmp('tokens');
    fs.writeFileSync(tokenFile, `oncall: ${token}\n`, { mode: 0o600 });
    clientTokenFile = cg.tmp('client-token');
    fs.writeFileSync(clientTokenFile, `${token}\n`, { mode: 0o600 });
    // Only the test's cgroups: a small scrape, quick on a loaded machine. The write API is
    // confined to the test's cgroups (TSTOP_LIMIT_CONFINE), which are not containers (allow-system).
    for (let i = 0; i < 2; i++) {
      audits.push(cg.tmp(`audit-${i}.jsonl`));
      exporters.push(
        await startExportProcess(
          [
            '--filter',
            cg.name,
            '--enable-write-api',
            '--token-file',
            tokenFile,
            '--audit-log',
            audits[i],
            '--write-api-allow-system',
          ],
          { env: { TSTOP_LIMIT_CONFINE: cg.id() } },
        ),
      );
    }
    instances = exporters.map((e) => `127.0.0.1:${e.port}`);
    prom = await startPrometheus(instances);
    // Both targets scraped with the cgroups in them, and enough samples for rate().
    // Scrapes time out (1 s) now and then on a loaded machine: wait up to 150 s.
    const deadline = Date.now() + 150_000;
    let seen = '';
    for (;;) {
      const r = await tstop(['snapshot', '--prometheus', prom.url, '--json', '--window', '5s']);
      if (r.status === 0) {
        const doc = JSON.parse(r.stdout) as FleetSnapshot;
        const spins = doc.containers.filter((c) => c.name.endsWith('spin') && (c.cpu?.percent ?? 0) > 0);
        if (spins.length === 2 && doc.instances.filter((i) => i.up).length === 2) break;
      }
      if (r.status === 0) {
        const doc = JSON.parse(r.stdout) as FleetSnapshot;
        seen = JSON.stringify({
          up: doc.instances.map((i) => i.up),
          spins: doc.containers.filter((c) => c.name.endsWith('spin')).map((c) => c.cpu?.percent ?? null),
        });
      }
      if (Date.now() > deadline) throw new Error(`no fleet data after 150 s: ${seen} ${r.stderr} ${prom.log()}`);
      await sleep(1000);
    }
  }, 200_000);

  afterAll(async () => {
    await prom?.stop();
    for (const e of exporters) await e.stop();
    await cg?.cleanup();
  });

  async function fleetJson(extra: string[] = []): Promise<FleetSnapshot> {
    const r = await tstop(['snapshot', '--prometheus', prom.url, '--json', '--window', '5s', ...extra]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout) as FleetSnapshot;
  }

  const ofPath = (doc: FleetSnapshot, id: string): FleetContainerSnapshot[] =>
    doc.containers.filter((c) => c.id.endsWith(id) && c.id === `/${c.instance}${id}`);

  it('lists both instances as up, and the 64 MiB cgroup once per instance with the value its exporter serves', async () => {
    const doc = await fleetJson();
    expect(doc.source).toEqual({ kind: 'prometheus', url: prom.url.replace(/\/$/, '') });
    expect(doc.instances.map((i) => [i.instance, i.up])).toEqual([...instances].sort().map((i) => [i, true]));
    const rows = ofPath(doc, memId);
    expect(rows.map((c) => c.instance).sort()).toEqual([...instances].sort());
    for (const row of rows) {
      const exp = exporters[instances.indexOf(row.instance)];
      const own = await exporterValue(exp, 'container_memory_usage_bytes', memId);
      expect(own).not.toBeNull();
      const usage = row.memory!.usageBytes!;
      expect(usage).toBeGreaterThan(60 * MiB);
      expect(usage).toBeLessThan(80 * MiB);
      // The memory of a sleeping allocation is steady: Prometheus's latest sample is the exporter's value.
      expect(Math.abs(usage - own!)).toBeLessThan(2 * MiB);
      expect(row.memory!.limitBytes).toBe(memLimitBytes);
      expect(row.memory!.limitBytes).toBe(await exporterValue(exp, 'container_spec_memory_limit_bytes', memId));
      expect(row.pids!.current).toBe(await exporterValue(exp, 'container_threads', memId));
      expect(row.runtime).toBe('cgroup');
      expect(row.name).toBe(memId);
    }
  });

  it('shows the spinning cgroup busy on both instances, its CPU seconds between two of its exporter readings', async () => {
    const before = await Promise.all(
      exporters.map((e) => exporterValue(e, 'container_cpu_usage_seconds_total', spinId)),
    );
    const doc = await fleetJson();
    const after = await Promise.all(
      exporters.map((e) => exporterValue(e, 'container_cpu_usage_seconds_total', spinId)),
    );
    const rows = ofPath(doc, spinId);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const i = instances.indexOf(row.instance);
      // Prometheus's latest sample is at most a few scrapes older than `before`.
      expect(row.cpu!.usageSeconds!).toBeGreaterThan(before[i]! - 5);
      expect(row.cpu!.usageSeconds!).toBeLessThanOrEqual(after[i]!);
      expect(row.cpu!.percent!).toBeGreaterThan(10);
      expect(row.cpu!.percent!).toBeLessThan(210);
    }
  });

  // TSTOP_RECORD_FLEET=DIR re-records the API answers test/unit/fleet-mapping.test.ts maps.
  it.runIf(process.env.TSTOP_RECORD_FLEET)('records the raw API answers of one refresh', async () => {
    const dir = process.env.TSTOP_RECORD_FLEET!;
    fs.mkdirSync(dir, { recursive: true });
    const queries = fleetQueries({ matchers: '', window: '5s' });
    for (const [name, query] of Object.entries(queries)) {
      const body = await postQuery(prom.url, query);
      fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(JSON.parse(body), null, 1) + '\n');
    }
    fs.writeFileSync(
      path.join(dir, 'setup.json'),
      JSON.stringify({ instances, memId, spinId, memLimitBytes }, null, 1) + '\n',
    );
  });

  it('narrows to one instance with --instance and with --match, and prints the INSTANCE column in the table', async () => {
    const one = await fleetJson(['--instance', instances[0].replace(/\./g, '\\.')]);
    expect([...new Set(one.containers.map((c) => c.instance))]).toEqual([instances[0]]);
    const matched = await fleetJson(['--match', `{instance="${instances[1]}"}`]);
    expect([...new Set(matched.containers.map((c) => c.instance))]).toEqual([instances[1]]);
    const table = await tstop(['snapshot', '--prometheus', prom.url, '--filter', 'mem$']);
    expect(table.status).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toContain('2/2 instances up');
    expect(lines[1]).toMatch(/^NAME\s+INSTANCE\s+RUNTIME/);
    for (const inst of instances) expect(lines.some((l) => l.includes(inst) && / 6\d(\.\d)?MiB/.test(l))).toBe(true);
  });

  it('gives one clear line and exit 1 when Prometheus is down, answers an error or is too slow', async () => {
    const port = await freePort();
    const down = await tstop(['snapshot', '--prometheus', `http://127.0.0.1:${port}`]);
    expect(down.status).toBe(1);
    expect(down.stderr).toBe(
      `tstop: http://127.0.0.1:${port} is unreachable: connection refused (is Prometheus running there?)\n`,
    );

    const bad = await tstop(['snapshot', '--prometheus', prom.url, '--match', '{instance=~"("}']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      /^tstop: http:\/\/127\.0\.0\.1:\d+ answered the query with an error \(bad_data: .*\)\n$/,
    );

    // A server that accepts and never answers.
    const silent = http.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as { port: number }).port;
    try {
      const slow = await tstop([
        'snapshot',
        '--prometheus',
        `http://127.0.0.1:${silentPort}`,
        '--prometheus-timeout',
        '500ms',
      ]);
      expect(slow.status).toBe(1);
      expect(slow.stderr).toBe(
        `tstop: http://127.0.0.1:${silentPort} did not answer within 500 ms (--prometheus-timeout)\n`,
      );
    } finally {
      silent.closeAllConnections();
      silent.close();
    }

    const usage = await tstop(['snapshot', '--prometheus', 'prometheus:9090']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toBe("tstop: --prometheus: 'prometheus:9090' is not an http or https URL\n");
    const noUrl = await tstop(['snapshot', '--instance', 'x']);
    expect(noUrl.status).toBe(2);
    expect(noUrl.stderr).toBe('tstop: snapshot: --instance needs --prometheus URL\n');
  });

  it('gives the detail view the last hour of one container in one range query', async () => {
    const client = new PrometheusClient({ url: prom.url });
    const source = new FleetSource({ client, scope: { matchers: '', window: '5s' } });
    const h = await source.history(instances[0], spinId);
    expect(client.requests).toBe(1);
    expect(h.endSeconds - h.startSeconds).toBe(3600);
    expect(h.stepSeconds).toBe(30);
    // Prometheus has scraped for a minute or so: the last points of the spinner are busy.
    const cpu = h.series.cpu ?? [];
    expect(cpu.length).toBeGreaterThan(0);
    expect(cpu[cpu.length - 1][1]).toBeGreaterThan(1);
    expect(h.series.memLimit).toBeUndefined(); // no limit on the spinner
    const mem = await source.history(instances[0], memId);
    expect(mem.series.memLimit?.at(-1)?.[1]).toBe(memLimitBytes);
    expect(mem.series.mem?.at(-1)?.[1]).toBeGreaterThan(60 * MiB);
  });

  const webLimitBytes = (): number => {
    const text = cg.read('memory', 'web', cg.v2 ? 'memory.max' : 'memory.limit_in_bytes');
    return text === 'max' ? Infinity : Number(text);
  };
  const auditRecords = (i: number): Record<string, unknown>[] =>
    fs.existsSync(audits[i])
      ? fs
          .readFileSync(audits[i], 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [];
  const label = (url: string): string => url.replace(/\/$/, '');

  it("tstop limit --remote changes the cgroup through one exporter's write API, audited there with the token name and our address", async () => {
    const [a] = exporters;
    const file = cg.v2 ? 'memory.max' : 'memory.limit_in_bytes';
    const before = cg.read('memory', 'web', file);
    const r = await tstop([
      'limit',
      '--remote',
      a.url,
      '--token-file',
      clientTokenFile,
      webId,
      '--memory',
      '96m',
      '--allow-system',
      '--yes',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const changeId = new RegExp(`^applied to .*${webId}\\)?: change ([0-9a-f]+)$`).exec(lines[0])?.[1];
    expect(changeId, r.stdout).toBeDefined();
    expect(lines.slice(1)).toEqual([
      `  ${path.join(cg.dir(cg.hierarchyOf('memory'), 'web'), file)}: ${before} -> ${96 * MiB}`,
      `undo with: tstop limit undo ${changeId} on 127.0.0.1:${a.port}`,
    ]);
    expect(webLimitBytes()).toBe(96 * MiB);
    const record = auditRecords(0)
      .filter((x) => x.id === changeId)
      .pop()!;
    expect(record).toMatchObject({ via: 'http', tokenName: 'oncall', remoteAddress: '127.0.0.1', result: 'applied' });
    expect((record.container as { id: string }).id).toBe(webId);
    // The other host's audit log has no record of it.
    expect(auditRecords(1).some((x) => x.id === changeId)).toBe(false);
  });

  it('tstop limit --remote gives one clear line for a wrong token, a refusal, bad input, no API and a node that is down', async () => {
    const [a] = exporters;
    const base = ['limit', '--remote', a.url, webId, '--memory', '80m'];
    const wrongToken = cg.tmp('wrong-token');
    fs.writeFileSync(wrongToken, 'not-the-token-at-all\n', { mode: 0o600 });
    const wrong = await tstop([...base, '--token-file', wrongToken, '--allow-system']);
    expect([wrong.status, wrong.stderr]).toEqual([
      2,
      `tstop: limit: ${label(a.url)} refused the token (HTTP 401): check --token-file\n`,
    ]);
    const forced = await tstop([...base, '--token-file', clientTokenFile, '--allow-system', '--force']);
    expect([forced.status, forced.stderr]).toEqual([
      2,
      `tstop: limit: ${label(a.url)} refused the change (HTTP 403): force is not allowed by this server (it is started without --write-api-force)\n`,
    ]);
    const bad = await tstop([
      'limit',
      '--remote',
      a.url,
      '--token-file',
      clientTokenFile,
      webId,
      '--memory',
      'lots',
      '--allow-system',
    ]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(
      new RegExp(`^tstop: limit: ${label(a.url).replace(/\./g, '\\.')}: .*--memory.*lots.*\n$`),
    );
    const noApi = await tstop([...base.slice(0, 2), prom.url, ...base.slice(3), '--token-file', clientTokenFile]);
    expect(noApi.status).toBe(2);
    expect(noApi.stderr).toMatch(
      /has no tstop write API \(HTTP \d+, .*\): start `tstop export --enable-write-api` there\n$/,
    );
    const port = await freePort();
    const down = await tstop([
      'limit',
      '--remote',
      `http://127.0.0.1:${port}`,
      '--token-file',
      clientTokenFile,
      webId,
      '--memory',
      '80m',
    ]);
    expect([down.status, down.stderr]).toEqual([
      1,
      `tstop: limit: http://127.0.0.1:${port} is unreachable: connection refused (is \`tstop export --enable-write-api\` running there?)\n`,
    ]);
    expect(webLimitBytes()).toBe(96 * MiB);
    const noToken = await tstop(['limit', '--remote', a.url, webId, '--memory', '80m']);
    expect([noToken.status, noToken.stderr]).toEqual([
      2,
      'tstop: limit: --remote needs --token-file FILE (the write API token)\n',
    ]);
  });

  describe.runIf(hasTmux())('the dashboard in tmux', () => {
    let pane: TmuxPane | null = null;
    afterAll(() => pane?.kill());

    it('shows both instances, filters by instance, opens the detail view with the last hour, and l says how to configure the write API', async () => {
      pane = new TmuxPane(`${tstopBin()} --prometheus ${prom.url} --window 5s`);
      const rowOf = (lines: string[], inst: string): string | undefined =>
        lines.find((l) => l.includes(inst) && /\bmem\b/.test(l));
      const lines = await waitForScreen(
        pane,
        'both instances',
        (l) => instances.every((i) => rowOf(l, i) !== undefined),
        60_000,
      );
      expect(lines[0]).toContain(`fleet ${prom.url.replace(/\/$/, '')}  2/2 instances up`);
      expect(lines.find((l) => /NAME\s+INSTANCE/.test(l))).toBeDefined();
      for (const inst of instances) expect(rowOf(lines, inst)).toMatch(/6\d(\.\d)?MiB\/256MiB/);

      // Filter by instance: the id of a fleet row starts with its instance.
      pane.send('/');
      pane.send(`${instances[1]}/${cg.name}`, true);
      pane.send('Enter');
      await waitForScreen(
        pane,
        'only the second instance',
        (l) => rowOf(l, instances[1]) !== undefined && rowOf(l, instances[0]) === undefined,
      );

      pane.send('l');
      await waitForScreen(pane, 'how to configure the write API', (l) =>
        l.some((x) => x.includes("changing limits: the fleet view sends changes to each host's write API")),
      );

      // Detail of the selected row (the filter leaves this instance's cgroups).
      pane.send('Enter');
      await waitForScreen(
        pane,
        'the detail view with charts of the last hour (range query)',
        (l) => l.some((x) => x.includes('CPU % (last hour)')) && l.some((x) => x.includes('Esc')),
        30_000,
      );
      pane.send('q');
    }, 120_000);

    it("l sends the change to the write API of the row's host (--write-api), f says where to freeze", async () => {
      pane?.kill();
      pane = new TmuxPane(
        `${tstopBin()} --prometheus ${prom.url} --window 5s --write-api 'http://{instance}' --write-api-token-file ${clientTokenFile}`,
      );
      pane.send('/');
      pane.send(`${instances[1]}${webId}`, true);
      pane.send('Enter');
      await waitForScreen(
        pane,
        'the web row of the second instance',
        (l) => l.some((x) => x.includes(instances[1]) && /\bweb\b/.test(x)) && !l.some((x) => x.includes(instances[0])),
        60_000,
      );
      const webRow = (l: string[]): boolean => l.some((x) => x.includes(instances[1]) && /\bweb\b/.test(x));
      // On a loaded machine a scrape can time out and the row vanish for a moment: press again once it is back.
      const press = async (key: string, what: string, done: (l: string[]) => boolean): Promise<void> => {
        for (let attempt = 1; ; attempt++) {
          await waitForScreen(pane!, 'the web row', webRow, 60_000);
          pane!.send(key);
          try {
            await waitForScreen(pane!, what, done, 10_000);
            return;
          } catch (err) {
            if (attempt === 5) throw err;
          }
        }
      };
      await press('f', 'the freeze refusal', (l) => l.some((x) => x.includes('tstop freeze')));
      await press('l', 'the limit form', (l) => l.some((x) => x.includes('Limits of')));
      pane.send('72m', true);
      pane.send('Enter');
      await waitForScreen(pane, 'the planned writes', (l) => l.some((x) => x.includes('Apply these writes?')));
      pane.send('y');
      await waitForScreen(pane, 'the result', (l) => l.some((x) => x.includes('Limits applied')), 30_000);
      expect(webLimitBytes()).toBe(72 * MiB);
      const record = auditRecords(1).pop()!;
      expect(record).toMatchObject({ via: 'http', tokenName: 'oncall', remoteAddress: '127.0.0.1', result: 'applied' });
      expect((record.container as { id: string }).id).toBe(webId);
      pane.send('Enter');
      pane.send('q');
    }, 120_000);
  });
});

describe('fleet flags without a Prometheus', () => {
  it('refuses local-only options with --prometheus, and a basic-auth password file that does not exist', () => {
    const r = spawnSync(tstopBin(), ['snapshot', '--prometheus', 'http://127.0.0.1:1', '--root', '/host'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('tstop: snapshot: --root reads this host; it cannot be used with --prometheus\n');
    const dir = fs.mkdtempSync('/tmp/tstop-fleet-');
    const missing = path.join(dir, 'nope');
    const a = spawnSync(
      tstopBin(),
      ['snapshot', '--prometheus', 'http://127.0.0.1:1', '--prometheus-basic-auth', `me:${missing}`],
      {
        encoding: 'utf8',
      },
    );
    expect(a.status).toBe(2);
    fs.rmdirSync(dir);
    expect(a.stderr).toBe(`tstop: --prometheus-basic-auth: cannot read ${missing} (ENOENT)\n`);
  });
});
