// `tstop limit --what-if` and `tstop recommend` refuse bad command lines
// with exit 2 and one line, before any store or cgroup is looked at; and on
// a synthetic store they print the report (text and JSON).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { dispatch } from '../../src/cli/main.js';
import { parseHeadroom } from '../../src/cli/whatif.js';
import { sampleContainer, sampleSnapshot } from '../../src/model/samples.js';
import { StoreWriter } from '../../src/record/store.js';
import { capture } from '../helpers/cli.js';

const MiB = 1024 * 1024;
let store: string;

beforeAll(() => {
  store = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-whatif-cli-'));
  const w = StoreWriter.open(store, { intervalMs: 1000, retainMs: 86_400_000, maxBytes: 2 ** 30, sync: false });
  const start = Date.now() - 30_000;
  for (let tick = 0; tick < 20; tick++) {
    const c = sampleContainer({ id: '/docker/web', name: 'web', memBytes: 0, inode: 7 });
    c.memory!.usageBytes = (tick < 10 ? 64 : 128) * MiB;
    c.memory!.workingSetBytes = (tick < 10 ? 64 : 128) * MiB;
    c.cpu!.usageSeconds = 10 + tick * 0.75;
    c.pids!.current = 3;
    c.pressure = null;
    w.append(sampleSnapshot([c], { timestamp: new Date(start + tick * 1000).toISOString(), monotonicSeconds: tick }));
  }
  w.close();
});
afterAll(() => fs.rmSync(store, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

describe('refusals (exit 2, nothing read)', () => {
  const cases: [string[], RegExp][] = [
    [['limit', 'web', '--what-if', '1h'], /--what-if needs a limit to replay: --memory, --cpus and\/or --pids-limit/],
    [['limit', 'web', '--memory', '1g', '--what-if', '1h', '--dry-run'], /--dry-run does not apply with --what-if/],
    [['limit', 'web', '--memory', '1g', '--what-if', '1h', '--yes'], /--yes does not apply with --what-if/],
    [['limit', 'web', '--memory', '1g', '--what-if', '1h', '--audit-log', '/x'], /--audit-log does not apply/],
    [['limit', 'web', '--memory', '1g', '--for', '10m', '--what-if', '1h'], /--for does not apply with --what-if/],
    [['limit', 'web', '--memory-high', '1g', '--what-if', '1h'], /--memory-high cannot be replayed from a recording/],
    [['limit', 'web', '--cpuset-cpus', '0', '--what-if', '1h'], /--cpuset-cpus cannot be replayed/],
    [['limit', 'web', '--memory', 'unlimited', '--what-if', '1h'], /--memory unlimited has nothing to exceed/],
    [['limit', 'web', '--memory', '1m', '--what-if', '1h'], /--memory '1m': below the minimum of 6.00MiB/],
    [['limit', 'web', '--cpus', 'x', '--what-if', '1h'], /--cpus 'x': not a number of CPUs/],
    [['limit', 'web', '--memory', '1g', '--what-if', 'soon'], /--what-if: 'soon' is not a duration/],
    [['limit', 'web', '--memory', '1g', '--what-if', '0'], /--what-if: a window longer than 0/],
    [['limit', 'web', 'db', '--memory', '1g', '--what-if', '1h'], /unexpected argument 'db'/],
    [['limit', 'web', '--memory', '1g', '--store', '/x'], /--store goes with --what-if/],
    [['recommend'], /give the container to recommend limits for/],
    [['recommend', 'web', '--headroom', '15'], /--headroom: '15' is not a headroom/],
    [['recommend', 'web', '--window', '-1h'], /--window/],
  ];
  it.each(cases)('%j', async (argv, message) => {
    const io = capture();
    const withStore = argv.includes('--store') ? argv : [...argv, '--store', store];
    expect(await dispatch(withStore, false)).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.err().trim().split('\n')).toHaveLength(1);
    expect(io.out()).toBe('');
  });

  it('headroom forms', () => {
    expect(parseHeadroom('20%')).toEqual({ cpu: 0.2, memory: 0.2 });
    expect(parseHeadroom('cpu=25%,memory=10%')).toEqual({ cpu: 0.25, memory: 0.1 });
    expect(parseHeadroom('memory=0%')).toEqual({ cpu: 0.15, memory: 0 });
    expect(() => parseHeadroom('disk=5%')).toThrow(/not a headroom/);
  });
});

describe('on a synthetic store', () => {
  it('--what-if prints the OOM time and the CPU share; --json the same numbers', async () => {
    let io = capture();
    expect(
      await dispatch(['limit', 'web', '--memory', '100m', '--cpus', '0.5', '--what-if', '1h', '--store', store], false),
    ).toBe(0);
    expect(io.out()).toMatch(/working set above it in 10 of 20 samples/);
    expect(io.out()).toMatch(/would have been OOM-killed at (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d\.\d/);
    expect(io.out()).toMatch(/above the quota in 19 of 19 intervals \(19\.0s of 19\.0s, 100\.0% of the window\)/);
    expect(io.out()).toMatch(/throttled for at least 6\.3s/); // 19 s * (1 - 0.5/0.75)
    vi.restoreAllMocks();
    io = capture();
    expect(
      await dispatch(['limit', 'web', '--memory', '100m', '--what-if', '1h', '--store', store, '--json'], false),
    ).toBe(0);
    const j = JSON.parse(io.out()) as { written: boolean; memory: { workingSet: { peakOvershootBytes: number } } };
    expect(j.written).toBe(false);
    expect(j.memory.workingSet.peakOvershootBytes).toBe(28 * MiB);
  });

  it('recommend prints the command and its what-if', async () => {
    const io = capture();
    expect(await dispatch(['recommend', 'web', '--window', '1h', '--store', store], false)).toBe(0);
    // 128 MiB * 1.15 = 147.2 -> 148 MiB; 0.75 cores * 1.15 = 0.8625 -> 0.87
    expect(io.out()).toContain('  tstop limit web --memory 148m --cpus 0.87\n');
    expect(io.out()).toContain('what if web (/docker/web) had had --memory 148MiB --cpus 0.87');
  });
});
