// record: the flight recorder's append cost per tick and bytes per
// cgroup-sample, on the real fixture (idle cgroups, as collected) and on
// 1,000 busy synthetic containers (counters moving as a busy container's do:
// record-busy.ts); the seek time on a generated 7-day store (record-seek.ts);
// the recorder's CPU against `snapshot --json --count N` (record-cpu.ts).
// TSTOP_BENCH_RECORD_ONLY=size,seek,cpu runs a part.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Snapshot } from '../src/model/types.js';
import { StoreWriter } from '../src/record/store.js';
import { median } from './collect.js';
import type { BenchCgroups } from './fixture.js';
import { busySamples } from './record-busy.js';
import { cpuBench } from './record-cpu.js';
import { collectRealSamples, realSamples, seekBench } from './record-seek.js';

const TICKS = 120;

function measure(label: string, samples: Snapshot[], cgroups: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-store-'));
  try {
    const writer = StoreWriter.open(dir, { intervalMs: 5000, retainMs: 7 * 86_400_000, maxBytes: 2 ** 40 });
    const costs: number[] = [];
    for (const s of samples) {
      const t0 = process.hrtime.bigint();
      writer.append(s);
      costs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    writer.close();
    const perSample = writer.appendedBytes / samples.length / cgroups;
    const perDay100 = (perSample * 100 * 17_280) / 1e6;
    // The whole host's day, the unit of below's published figure (312-960 MB a day for one host at 5 s).
    const perDayAll = (perSample * cgroups * 17_280) / 1e6;
    return (
      `record ${label}: append ${median(costs).toFixed(1)} ms/tick (median of ${samples.length}, fdatasync included), ` +
      `${perSample.toFixed(1)} bytes per cgroup-sample (${perDay100.toFixed(0)} MB/day for 100 such cgroups at 5 s, ` +
      `${perDayAll.toFixed(0)} MB/day for all ${cgroups}; below: 312-960 MB/day for one host)`
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function bench(options: { cgroups: number; fixture: () => Promise<BenchCgroups> }): Promise<string[]> {
  const parts = new Set((process.env.TSTOP_BENCH_RECORD_ONLY ?? 'size,seek,cpu').split(','));
  // The fixture's real samples: collected for the size figures; the seek bench keeps its own in a cache.
  let collected: Snapshot[] | null = null;
  const real = async (): Promise<Snapshot[]> =>
    (collected ??= await collectRealSamples(options.cgroups, await options.fixture(), TICKS));
  const lines: string[] = [];
  if (parts.has('size')) {
    const samples = await real();
    const busy = busySamples(options.cgroups, TICKS, 5000, 1_767_000_000_000);
    lines.push(
      measure(
        `${samples[0].containers.length} real cgroups (fixture, mostly idle)`,
        samples,
        samples[0].containers.length,
      ),
      measure(`${options.cgroups} busy synthetic containers`, busy, options.cgroups),
    );
  }
  if (parts.has('seek')) {
    // The seek goal (under 200 ms anywhere in 7 days) on a store of the fixture's real samples.
    const { file, samples } = await realSamples(options.cgroups, real);
    lines.push(...seekBench(samples, file));
  }
  if (parts.has('cpu')) {
    await options.fixture(); // the recorder and the snapshot read the host: the fixture's cgroups must be on it
    lines.push(...(await cpuBench()));
  }
  return lines;
}
