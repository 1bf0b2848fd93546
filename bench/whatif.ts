// whatif: `tstop limit C --what-if` and `tstop recommend C` on 4 hours of
// samples at 5 s (2,880) of N busy synthetic containers (every counter moves
// every tick): the time to read one container's history out of the store,
// the time of the reports, and the read scaled to a day (17,280 samples).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recommend } from '../src/limiter/recommend.js';
import { whatIf } from '../src/limiter/whatif.js';
import { syntheticSnapshot } from '../src/model/samples.js';
import { readContainerHistory } from '../src/record/history.js';
import { StoreReader } from '../src/record/reader.js';
import { StoreWriter } from '../src/record/store.js';

const DAY_SAMPLES = 17_280;
const SAMPLES = 2_880;
const T0 = 1_767_000_000_000;

export async function bench(options: { containers: number; samples?: number }): Promise<string[]> {
  const samples = options.samples ?? SAMPLES;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-whatif-'));
  try {
    const writer = StoreWriter.open(dir, {
      intervalMs: 5000,
      retainMs: 7 * 86_400_000,
      maxBytes: 2 ** 40,
      sync: false,
    });
    let target = '';
    for (let t = 0; t < samples; t++) {
      const s = syntheticSnapshot(options.containers, t);
      s.timestamp = new Date(T0 + t * 5000).toISOString();
      s.monotonicSeconds = 1000 + t * 5;
      target ||= s.containers[Math.floor(s.containers.length / 2)].id;
      writer.append(s);
    }
    writer.close();
    const storeBytes = fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const history = readContainerHistory(StoreReader.open(dir), target, T0, T0 + samples * 5000);
    const t1 = process.hrtime.bigint();
    const cpu1 = process.cpuUsage(cpu0);
    const readCpuMs = (cpu1.user + cpu1.system) / 1000;
    whatIf(history.samples, { memoryBytes: 512 * 1024 * 1024, cpuCores: 1, pidsLimit: 100 });
    recommend(history.samples);
    const t2 = process.hrtime.bigint();
    const ms = (a: bigint, b: bigint): string => (Number(b - a) / 1e6).toFixed(0);
    return [
      `whatif: ${history.samples.length} samples of 1 of ${options.containers} busy containers from a ${(storeBytes / 1e6).toFixed(0)} MB store: ` +
        `read ${ms(t0, t1)} ms wall, ${readCpuMs.toFixed(0)} ms CPU (${((readCpuMs / 1000) * (DAY_SAMPLES / samples)).toFixed(0)} s CPU for a day), what-if + recommend ${ms(t1, t2)} ms`,
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
