// The measured side of the fleet benchmark, a process of its own so that its
// CPU time and peak RSS are tstop's alone: runs `repeats` refreshes of a
// FleetSource (the dashboard's top-N refresh, or the snapshot's full one)
// against a Prometheus and prints one JSON line of figures.
//
//   node dist/bench/fleet-refresh.js URL AT_SECONDS dashboard|dashboard-raw|snapshot REPEATS [INSTANCE_REGEX]
//
// dashboard ranks by the recording rule when Prometheus has it; dashboard-raw never does.

import { PrometheusClient } from '../src/fleet/prometheus.js';
import { FleetSource } from '../src/fleet/source.js';
import type { TopView } from '../src/fleet/queries.js';

export interface RefreshFigures {
  mode: string;
  containers: number;
  queries: number;
  wallMs: number[];
  cpuMs: number[];
  maxRssBytes: number;
  error?: string;
}

async function main(): Promise<void> {
  const [url, atText, mode, repeatsText, instanceRegex] = process.argv.slice(2);
  // The snapshot's full refresh of a big fleet is measured past the usual response cap.
  const client = new PrometheusClient({ url, timeoutMs: 120_000, maxResponseBytes: 2 * 1024 ** 3 });
  const matchers = instanceRegex ? `instance=~${JSON.stringify(instanceRegex)}` : '';
  const source = new FleetSource({
    client,
    scope: { matchers, window: '1m' },
    atMs: Number(atText) * 1000,
    rankingRules: mode !== 'dashboard-raw',
  });
  const view: TopView | undefined = mode.startsWith('dashboard')
    ? { n: 200, sort: 'cpu', reverse: false, filter: '' }
    : undefined;
  const out: RefreshFigures = { mode, containers: 0, queries: 0, wallMs: [], cpuMs: [], maxRssBytes: 0 };
  try {
    for (let i = 0; i < Number(repeatsText); i++) {
      const requests = client.requests;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const snapshot = await source.refresh(view);
      out.wallMs.push(performance.now() - t0);
      const cpu = process.cpuUsage(cpu0);
      out.cpuMs.push((cpu.user + cpu.system) / 1000);
      out.containers = snapshot.containers.length;
      out.queries = client.requests - requests;
      // The first refresh's count of the rows (and of the rules' series) runs alongside it:
      // the next ones rank as its answer says.
      if (i === 0) await source.whenCounted();
    }
  } catch (err) {
    out.error = (err as Error).message;
  }
  out.maxRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify(out) + '\n');
}

void main();
