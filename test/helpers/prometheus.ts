// A real Prometheus (Debian's package) for tests: its own temp data dir, a
// free port on 127.0.0.1, static scrape targets; stop() kills it (by pid)
// and removes the dir.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../bench/export-process.js';

export { freePort };

export function hasPrometheus(): boolean {
  return spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).status === 0;
}

export interface RunningPrometheus {
  /** e.g. http://127.0.0.1:40123/ */
  url: string;
  port: number;
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** Prometheus's --web.config.file: TLS and basic auth (the readiness probe then needs the CA and credentials). */
export interface PrometheusWebConfig {
  /** The YAML text (tls_server_config, basic_auth_users). */
  yaml: string;
  /** Set when the YAML turns TLS on: the CA to trust. */
  ca?: Buffer;
  /** The Authorization header for the readiness probe. */
  authorization?: string;
}

function ready(url: string, web?: PrometheusWebConfig): Promise<boolean> {
  return new Promise((resolve) => {
    const mod = url.startsWith('https:') ? https : http;
    const options = {
      agent: false,
      ...(web?.ca ? { ca: web.ca } : {}),
      headers: web?.authorization ? { authorization: web.authorization } : {},
    };
    const req = mod.get(url + '-/ready', options, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

/** Starts Prometheus scraping `targets` (host:port) every second (with `ruleFiles` loaded); resolves once it is ready. */
export async function startPrometheus(
  targets: string[],
  options: { job?: string; web?: PrometheusWebConfig; ruleFiles?: string[] } = {},
): Promise<RunningPrometheus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-prometheus-'));
  const port = await freePort();
  const url = `${options.web?.ca ? 'https' : 'http'}://127.0.0.1:${port}/`;
  if (options.web) fs.writeFileSync(path.join(dir, 'web.yml'), options.web.yaml);
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      // Recording rules, evaluated every second as the targets are scraped.
      ...(options.ruleFiles?.length
        ? ['  evaluation_interval: 1s', 'rule_files:', ...options.ruleFiles.map((f) => `  - '${f}'`)]
        : []),
      'scrape_configs:',
      `  - job_name: ${options.job ?? 'tstop'}`,
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const child = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...(options.web ? [`--web.config.file=${path.join(dir, 'web.yml')}`] : []),
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited: ${log}`);
    }
    if (await ready(url, options.web)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, port, child, log: () => log, stop };
}
