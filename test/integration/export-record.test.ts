// `tstop export --record`: one process serves /metrics and records into a
// store, on one collector. A test cgroup holding 64 MiB: the scrape shows
// it, the store gets samples of it at the recording interval (their CPU %
// over the whole interval even while scrapes come in between), a second
// recorder on the same store is refused before it listens, and SIGTERM
// closes the store cleanly (exit 0).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExportProcess, tstopBin, type ExportProcess } from '../../bench/export-process.js';
import { StoreReader } from '../../src/record/reader.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { request } from '../helpers/http.js';

const MiB = 1024 * 1024;
const isRoot = process.getuid?.() === 0;
let cg: TestCgroups;
let store: string;
/** The exporter under test: stopped in afterAll too, so a test that times out leaves no exporter running. */
let exporter: ExportProcess | undefined;

describe.runIf(isRoot)('tstop export --record', () => {
  beforeAll(() => {
    cg = new TestCgroups('exrec');
    store = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-exrec-'));
  });
  afterAll(async () => {
    await exporter?.stop();
    await cg?.cleanup();
    if (store) fs.rmSync(store, { recursive: true, force: true });
  });

  it('serves the scrape and records the same cgroups into the store', async () => {
    const memId = cg.mkdir('mem');
    const mem = cg.spawn('mem', ['alloc', '64']);
    await mem.ready;
    const exp = await startExportProcess([
      '--record',
      '--store',
      store,
      '--record-interval',
      '500ms',
      '--min-interval',
      '100ms',
    ]);
    exporter = exp;
    let exitCode: number | null = null;
    try {
      // Scrapes while it records: both see the cgroup.
      const reader = StoreReader.open(store);
      for (let i = 0; i < 6; i++) {
        const reply = await request(`${exp.url}metrics`);
        expect(reply.status).toBe(200);
        const line = reply.body
          .toString()
          .split('\n')
          .find((l) => l.startsWith('container_memory_usage_bytes{') && l.includes(`id="${memId}"`));
        expect(line).toBeDefined();
        expect(Number(line!.split(' ').at(-1)) / MiB).toBeGreaterThanOrEqual(60);
        await new Promise((r) => setTimeout(r, 300));
      }
      await waitFor('six recorded samples', () => reader.times().length >= 6, 60_000, 200);

      // A second recorder on the store refuses, before it listens.
      const second = spawnSync(tstopBin(), ['export', '--record', '--store', store, '--listen', '127.0.0.1:0'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(second.status).toBe(1);
      expect(second.stderr).toContain(`already being recorded by pid ${exp.pid}`);
      expect(second.stderr).not.toContain('listening on');

      const times = reader.times();
      // Every ~500 ms (a loaded machine may be late, never early by much).
      const gaps = times.slice(1).map((t, i) => t - times[i]);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(400);
      const s = reader.at(times.at(-1)!);
      const c = s.containers.find((x) => x.id === memId)!;
      expect(c.memory!.usageBytes! / MiB).toBeGreaterThanOrEqual(60);
      expect(c.memory!.usageBytes! / MiB).toBeLessThanOrEqual(72);
      expect(c.processes).toEqual([mem.pid]);
    } finally {
      exp.child.once('exit', (code) => (exitCode = code));
      await exp.stop();
    }
    expect(exitCode).toBe(0);
    expect(exp.stderr()).toMatch(/recording every 500 ms into /);
  });

  it('refuses the store flags without --record', () => {
    const r = spawnSync(tstopBin(), ['export', '--store', store, '--listen', '127.0.0.1:0'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--store is only used with --record');
  });
});
