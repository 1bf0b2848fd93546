// prom-client without its index: the registry, the metric types and the
// default metrics, each from its own file. prom-client's index also loads its
// Pushgateway and, for the CPU counters' exemplars, @opentelemetry/api (51
// modules): ~7 MB of RSS in the exporter for nothing it uses. The CPU
// counters are made here the way prom-client makes them without exemplars
// (same names, help and values); every other default metric is prom-client's.

import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
export type Registry = PromClient.Registry;
export type Counter = PromClient.Counter;
export type Gauge = PromClient.Gauge;
export type Metric = PromClient.Metric;

type DefaultMetric = (registry: PromClient.Registry, config: Record<string, unknown>) => void;

/** prom-client's default metrics after the CPU counters, in its order (lib/defaultMetrics.js). */
const DEFAULT_METRIC_FILES = [
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  ...(typeof (process as { getActiveResourcesInfo?: unknown }).getActiveResourcesInfo === 'function'
    ? ['processResources']
    : []),
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
  'gc',
];

/** process_cpu_{user,system}_seconds_total and process_cpu_seconds_total, as prom-client's processCpuTotal. */
function processCpuTotal(registry: PromClient.Registry): void {
  let last = process.cpuUsage();
  const user = new Counter({
    name: 'process_cpu_user_seconds_total',
    help: 'Total user CPU time spent in seconds.',
    registers: [registry],
    // This one metric's collect sets all three.
    collect() {
      const now = process.cpuUsage();
      const userMicros = now.user - last.user;
      const systemMicros = now.system - last.system;
      last = now;
      user.inc(userMicros / 1e6);
      system.inc(systemMicros / 1e6);
      total.inc((userMicros + systemMicros) / 1e6);
    },
  });
  const system = new Counter({
    name: 'process_cpu_system_seconds_total',
    help: 'Total system CPU time spent in seconds.',
    registers: [registry],
  });
  const total = new Counter({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    registers: [registry],
  });
}

/**
 * Period of the timer behind the nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds
 * histogram (perf_hooks.monitorEventLoopDelay). prom-client's 10 ms woke the
 * exporter 100 times a second between scrapes: ~3-4 ms of CPU a second
 * (docs/metrics.md), as much as a tenth of a scrape at 1,000 cgroups; at
 * 100 ms a loop held up by a collection still shows in the histogram.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** prom-client's collectDefaultMetrics({ register: registry }) without loading its index. */
export function collectDefaultMetrics(registry: PromClient.Registry): void {
  processCpuTotal(registry);
  const config = { eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS };
  for (const file of DEFAULT_METRIC_FILES) {
    (require(`prom-client/lib/metrics/${file}`) as DefaultMetric)(registry, config);
  }
}
