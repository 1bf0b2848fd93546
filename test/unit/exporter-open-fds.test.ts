// process_open_fds (src/exporter/server.ts): counted from the size stat gives
// for /proc/self/fd (Linux 6.2 and later), at every scrape, not from a listing
// of the directory at most every 30 s.

import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openFdCount, startExporter, type Exporter } from '../../src/exporter/server.js';
import { sampleSnapshot, v2Container } from '../../src/model/samples.js';

const opened: number[] = [];
let exporter: Exporter | null = null;
afterEach(async () => {
  for (const fd of opened.splice(0)) fs.closeSync(fd);
  await exporter?.close();
  exporter = null;
});

async function openFds(e: Exporter): Promise<number> {
  const text = await (await fetch(new URL('metrics', e.url))).text();
  return Number(/^process_open_fds (\d+)$/m.exec(text)![1]);
}

describe('process_open_fds', () => {
  it("is the kernel's count of open descriptors (stat's size of /proc/self/fd)", () => {
    const before = openFdCount();
    if (before === null) return; // a kernel before 6.2: the listing below is the fallback
    for (let i = 0; i < 50; i++) opened.push(fs.openSync('/dev/null', 'r'));
    expect(openFdCount()).toBe(before + 50);
    // A listing counts one more: the descriptor it reads the directory through.
    expect(fs.readdirSync('/proc/self/fd').length).toBe(openFdCount()! + 1);
  });

  it('follows descriptors opened since the last scrape at once', async () => {
    if (openFdCount() === null) return; // counted at most every 30 s there, as documented
    exporter = await startExporter({
      source: { collect: () => sampleSnapshot([v2Container({ id: '/a' })]) },
      listen: { host: '127.0.0.1', port: 0 },
      minIntervalMs: 0,
      select: () => true,
    });
    const first = await openFds(exporter);
    for (let i = 0; i < 64; i++) opened.push(fs.openSync('/dev/null', 'r'));
    const second = await openFds(exporter);
    // The 64, give or take the HTTP sockets of the two scrapes.
    expect(second - first).toBeGreaterThanOrEqual(62);
    expect(second - first).toBeLessThanOrEqual(66);
  });
});
