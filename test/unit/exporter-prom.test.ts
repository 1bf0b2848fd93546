// The exporter's own metrics come from prom-client's files, not its index
// (src/exporter/prom.ts): the same default metrics as collectDefaultMetrics,
// without loading @opentelemetry/api.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as promClient from 'prom-client';
import { describe, expect, it } from 'vitest';
import { collectDefaultMetrics, Registry } from '../../src/exporter/prom.js';

const repo = path.resolve(import.meta.dirname, '../..');

/** Each metric's name, type and help from an exposition's comments. */
function described(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('# HELP ') || l.startsWith('# TYPE '));
}

describe('prom-client without its index', () => {
  it('registers the same default metrics, with the same types and help, in the same order', async () => {
    const ours = new Registry();
    collectDefaultMetrics(ours);
    const theirs = new promClient.Registry();
    promClient.collectDefaultMetrics({ register: theirs });
    expect(described(await ours.metrics())).toEqual(described(await theirs.metrics()));
  });

  it('counts CPU seconds: user + system = total, growing with work', async () => {
    const ours = new Registry();
    collectDefaultMetrics(ours);
    await ours.metrics();
    const start = process.cpuUsage();
    while (process.cpuUsage(start).user < 50_000); // 50 ms of CPU, however loaded the host
    const text = await ours.metrics();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)![1]);
    expect(value('process_cpu_seconds_total')).toBeGreaterThanOrEqual(0.05);
    expect(value('process_cpu_user_seconds_total') + value('process_cpu_system_seconds_total')).toBeCloseTo(
      value('process_cpu_seconds_total'),
      6,
    );
  });

  it('no source imports prom-client itself at run time (its index loads @opentelemetry/api)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (
          p.endsWith('.ts') &&
          /^import\s+(?!type\b)[^;]*from\s+'prom-client';$/m.test(fs.readFileSync(p, 'utf8'))
        ) {
          offenders.push(path.relative(repo, p));
        }
      }
    };
    walk(path.join(repo, 'src'));
    expect(offenders).toEqual([]);
  });

  it('a fresh process loading the exporter has no @opentelemetry module', () => {
    const dist = path.join(repo, 'dist/src/exporter/server.js');
    if (!fs.existsSync(dist)) return; // not built: the source check above still holds
    const script =
      `await import(${JSON.stringify(dist)});` +
      "const { createRequire } = await import('node:module');" +
      'process.stdout.write(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));';
    const loaded = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }),
    ) as string[];
    expect(loaded.some((p) => p.includes('prom-client'))).toBe(true);
    expect(loaded.filter((p) => p.includes('@opentelemetry') || p.endsWith('prom-client/index.js'))).toEqual([]);
  });
});
