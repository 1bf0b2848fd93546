// `tstop export` starts from a CommonJS bundle (dist/export/,
// bin/build-export.mjs): bin/tstop starts it from bin/tstop-export.cjs,
// without node's ES module loader. It must answer as the CLI entry answers,
// and load no ES module of dist nor the chunks of what it loads on demand
// (--record, the write API, the guard, the limiter).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  binEntry,
  cliEntry,
  expectBundleOnly,
  logLoads,
  logRequires,
  repoRoot as root,
  runEntry,
} from '../helpers/entries.js';

const exportEntry = binEntry('tstop-export.cjs');
const run = (entry: string, args: string[]): ReturnType<typeof runEntry> => runEntry(entry, ['export', ...args]);

describe('the entry of export', { timeout: 60_000 }, () => {
  it('is where bin/tstop starts export, with the exporter’s V8 flags and malloc arenas', () => {
    const sh = fs.readFileSync(path.join(root, 'bin/tstop'), 'utf8');
    expect(sh).toMatch(
      /export\)\n(?: +#.*\n)* +unset NODE_EXTRA_CA_CERTS\n +export MALLOC_ARENA_MAX=2\n +exec node --max-semi-space-size=4 --optimize-for-size --v8-pool-size=1 -- "\$\{self%\/\*\}\/tstop-export\.cjs" "\$@" ;;/,
    );
  });

  it('starts without the extra CA file (it makes no TLS connection), with one V8 worker and two malloc arenas', async () => {
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' };
    const child = spawn(path.join(root, 'bin/tstop'), ['export', '--listen', '127.0.0.1:0'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line: ${stderr}`)), 30_000);
        child.stderr.on('data', () => {
          if (/listening on/.test(stderr)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const environ = fs.readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0');
      expect(fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8')).toContain('tstop-export.cjs');
      expect(environ.filter((e) => e.startsWith('NODE_EXTRA_CA_CERTS='))).toEqual([]);
      // One V8 worker thread and two malloc arenas (bin/tstop: less peak RSS at the same CPU).
      expect(environ).toContain('MALLOC_ARENA_MAX=2');
      expect(fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0')).toContain('--v8-pool-size=1');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
  });

  it('prints what the CLI entry prints, and fails as it fails', () => {
    if (!fs.existsSync(path.join(root, 'dist/export/tstop-export.cjs'))) throw new Error('run `npm run build` first');
    for (const args of [['--help'], ['--bogus'], ['--listen', 'nowhere'], ['--min-interval', 'soon']]) {
      const want = run(cliEntry, args);
      const got = run(exportEntry, args);
      expect(got, args.join(' ')).toEqual(want);
      expect(got.status, args.join(' ')).toBe(args[0] === '--help' ? 0 : 2);
    }
  });

  it('serves /metrics from one bundled file and its runtime helpers: no ES module of dist, no on-demand chunk', async () => {
    const child = spawn(
      process.execPath,
      ['--import', logLoads, '--require', logRequires, exportEntry, 'export', '--listen', '127.0.0.1:0'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line: ${stderr}`)), 30_000);
        child.stderr.on('data', () => {
          const m = /listening on (\S+)/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
      });
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get(new URL('metrics', url), (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      expect(body).toMatch(/^container_cpu_usage_seconds_total\{.*id="\/".*\} \d/m);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
    expectBundleOnly(stderr, 'tstop-export');
    // Plain HTTP, no users, no token, no limiter: not the builtins only those need (~1.9 MB of RSS).
    // (worker_threads is left out of the check: the test's --import loader hooks run in a worker.)
    const builtins = [...stderr.matchAll(/^builtin (\S+)$/gm)].map((m) => m[1]);
    expect(builtins).toContain('http');
    expect(builtins.filter((b) => ['https', 'tls', 'crypto'].includes(b))).toEqual([]);
  });

  it('is Latin-1 text throughout, which V8 keeps one byte a character for as long as the exporter runs', () => {
    const dir = path.join(root, 'dist/export');
    if (!fs.existsSync(dir)) throw new Error('run `npm run build` first');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cjs'));
    expect(files.some((f) => f.startsWith('tstop-export-path'))).toBe(true);
    for (const f of files) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const wide = [...text].filter((ch) => ch.charCodeAt(0) > 0xff);
      expect(wide, f).toEqual([]);
    }
  });
});
