// The agent of tstop export and record (src/cli/agent.ts) loads the limiter
// and the expiry runner only once an expiry is pending in the audit log
// (src/limiter/expiry-agent.ts): a long-running exporter with nothing pending
// keeps them out of its memory. Once one is pending and due, it still runs it.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChangeRecord } from '../../src/limiter/api.js';
import type { Collector } from '../../src/collect/collector.js';

const loaded = vi.hoisted(() => ({ limiter: 0, runner: 0 }));
vi.mock('../../src/limiter/limiter.js', async (importOriginal) => {
  loaded.limiter++;
  return importOriginal();
});
vi.mock('../../src/limiter/expiry-runner.js', async (importOriginal) => {
  loaded.runner++;
  return importOriginal();
});

const { startAgent } = await import('../../src/cli/agent.js');
const { AuditLog } = await import('../../src/limiter/audit.js');
const { ExpiryLock } = await import('../../src/limiter/expiry.js');

async function waitFor(what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An applied change made with --for whose deadline passed; its cgroup directory does not exist. */
function expiredChange(id: string, gone: string): ChangeRecord {
  return {
    type: 'change',
    v: 1,
    id,
    time: new Date(Date.now() - 60_000).toISOString(),
    host: os.hostname(),
    uid: process.getuid!(),
    user: 'root',
    sudoUser: null,
    pid: process.pid,
    pidStart: null,
    via: 'cli',
    remoteAddress: null,
    action: 'limit',
    undoes: null,
    container: { id: '/tstop-test-lazy-gone', name: 'gone' },
    writes: [
      { path: path.join(gone, 'memory.limit_in_bytes'), oldValue: '9223372036854771712', newValue: '104857600' },
    ],
    signal: null,
    pids: null,
    result: 'applied',
    error: null,
    notes: [],
    expiresAt: new Date(Date.now() - 1_000).toISOString(),
  };
}

describe('the agent loads the limiter only once an expiry is pending', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('ticks with nothing pending without the limiter, then reverts an expiry that comes due', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-agent-lazy-'));
    dirs.push(dir);
    fs.chmodSync(dir, 0o700);
    const auditFile = path.join(dir, 'audit.jsonl');
    const lines: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const agent = await startAgent(
      'export',
      { 'audit-log': auditFile },
      { root: '/' },
      new Promise<Collector>(() => undefined),
    );
    try {
      // The agent ticked: it holds the runner lock (tstop limit expiries shows it as the runner).
      await waitFor('the runner lock', () => new ExpiryLock(auditFile).holder()?.pid === process.pid);
      await new Promise((r) => setTimeout(r, 1_500)); // and ticked again
      expect(agent.expiries.pendingCount()).toBe(0);
      expect(loaded).toEqual({ limiter: 0, runner: 0 });
      expect(agent.expiries.runnerLoaded).toBe(false);

      const change = expiredChange('aaaaaaaaaaaa', path.join(dir, 'no-such-cgroup'));
      new AuditLog(auditFile).append(change);
      await waitFor('the revert', () =>
        new AuditLog(auditFile).changes().some((r) => r.undoes === change.id && r.expired === true),
      );
      const revert = new AuditLog(auditFile).changes().find((r) => r.undoes === change.id)!;
      expect(revert).toMatchObject({ action: 'undo', result: 'skipped', expired: true, via: 'expiry' });
      expect(agent.expiries.pendingCount()).toBe(0);
      expect(loaded).toEqual({ limiter: 1, runner: 1 });
      expect(lines.join('')).toMatch(/expiry of change aaaaaaaaaaaa on gone: expired, skipped/);
    } finally {
      await agent.stop();
      stderr.mockRestore();
    }
  });
});
