// The limiter's costs with N cgroups on the host: planning a change by
// cgroup path (no collection), resolving a name (one snapshot of every
// cgroup), applying (writes, read-back, two fsynced audit records) and the
// whole `tstop limit` command (node start included). Only the benchmark's
// own cgroups (tstop-bench-<pid>) are written.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLimiter } from '../src/limiter/limiter.js';
import { createBenchCgroups, type BenchCgroups } from './fixture.js';

function stats(ms: number[]): { median: number; p95: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] };
}

const f = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

export async function bench(options: { cgroups: number; fixture?: BenchCgroups }): Promise<string[]> {
  const n = options.cgroups;
  const fixture = options.fixture ?? (await createBenchCgroups(n));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-limiter-'));
  const auditLog = path.join(dir, 'audit.jsonl');
  const lines: string[] = [];
  try {
    const limiter = createLimiter({ auditLog });
    const target = fixture.ids[1];
    const request = (i: number) => ({
      memory: `${256 + (i % 2)}m`,
      cpus: i % 2 ? '0.5' : '0.6',
      pidsLimit: String(100 + (i % 2)),
    });

    const planMs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      await limiter.plan(target, request(i), { allowSystem: true });
      planMs.push(performance.now() - t);
    }
    const p = stats(planMs);
    lines.push(`limiter: plan by cgroup path (3 limits, ${n} cgroups): median ${f(p.median)} ms, p95 ${f(p.p95)} ms`);

    const resolveMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await limiter.plan('tstop-bench-no-such-container', request(i), { allowSystem: true }).catch(() => undefined);
      resolveMs.push(performance.now() - t);
    }
    const r = stats(resolveMs);
    lines.push(
      `limiter: plan by name (walks the memory and unified trees of ${n} cgroups, runtime state for names): median ${f(r.median)} ms`,
    );

    const applyMs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const plan = await limiter.plan(target, request(i + 1), { allowSystem: true });
      const t = performance.now();
      await limiter.apply(plan, { via: 'cli' });
      applyMs.push(performance.now() - t);
    }
    const a = stats(applyMs);
    lines.push(
      `limiter: apply 3-4 writes with read-back and 2 fsynced audit records: median ${f(a.median)} ms, p95 ${f(a.p95)} ms`,
    );

    const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/tstop.js');
    const cliMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      execFileSync(process.execPath, [bin, 'limit', target, '--pids-limit', String(200 + i), '--allow-system'], {
        env: { ...process.env, TSTOP_AUDIT_LOG: auditLog },
        stdio: 'ignore',
      });
      cliMs.push(performance.now() - t);
    }
    lines.push(
      `limiter: \`tstop limit PATH --pids-limit N\` end to end (node start included): median ${f(stats(cliMs).median)} ms`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    if (!options.fixture) await fixture.cleanup();
  }
  return lines;
}

// Run alone: node dist/bench/limiter.js [--cgroups N]
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const i = process.argv.indexOf('--cgroups');
  const cgroups = i > 0 ? Number(process.argv[i + 1]) : 1000;
  for (const line of await bench({ cgroups })) console.log(line);
}
