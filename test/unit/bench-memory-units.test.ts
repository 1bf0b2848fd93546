// The benches print RSS in one unit: MB of 2^20 bytes, /proc's kB / 1024.
// bench/scrape.ts's steady lines once divided bytes by 10^6 and read 4.9 %
// higher than export-pair's for the same process (81.4 there was 77.6 here).

import fs from 'node:fs';
import http from 'node:http';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idleLoad } from '../../bench/scrape.js';
import { peakRssMb } from '../../bench/collect.js';
import { rssMb, type ExportProcess } from '../../bench/export-process.js';

function statusKb(field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);
}

describe('bench memory units', () => {
  // A stand-in exporter in this process: the steady line reads this process's /proc.
  let server: http.Server;
  let url = '';
  beforeAll(async () => {
    const body = zlib.gzipSync('tstop_collections_total 1\ntstop_cgroups_exported 3\n');
    server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Encoding': 'gzip' }).end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('scrape.js steady lines give VmHWM and VmRSS in kB / 1024, as export-pair and collect do', async () => {
    const exp = { pid: process.pid, url } as ExportProcess;
    const load = await idleLoad(exp, 1);
    const hwmAfter = statusKb('VmHWM') / 1024;
    // VmHWM only grows: the figure is at most the one read after it, and not below it by more than a page's worth.
    expect(load.peakRssMb).toBeLessThanOrEqual(hwmAfter);
    expect(load.peakRssMb).toBeGreaterThan(hwmAfter - 1);
    expect(peakRssMb(process.pid)).toBeCloseTo(statusKb('VmHWM') / 1024, 0);
    expect(rssMb(process.pid)).toBeCloseTo(statusKb('VmRSS') / 1024, 0);
  });
});
