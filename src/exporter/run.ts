// `tstop export`: opens the collector, serves until SIGINT/SIGTERM. The CLI
// (src/cli/export.ts) resolves the settings from flags, environment and file.

import net from 'node:net';
import { version } from '../util/package-root.js';
import { untilStopSignal } from '../util/signals.js';
import { Collector, type CollectorOptions } from '../collect/collector.js';
import { isShownByDefault, matchesFilter } from '../model/select.js';
import type { ContainerSnapshot } from '../model/types.js';
import { formatListen, type ExportSettings } from './config.js';
import { startExporter, type ApiHandler, type Exporter } from './server.js';
import { ExportStartupError } from './errors.js';
import { renderAgentState, type AgentState } from './agent-families.js';
import { loadWebConfig, type WebConfig } from './web-config.js';
import type { WriteApi } from './write-api.js';
import type { RecordSettings, RecorderLoop } from '../record/recorder.js';

export function selection(settings: Pick<ExportSettings, 'cgroups' | 'filter'>): (c: ContainerSnapshot) => boolean {
  const { cgroups, filter } = settings;
  return (c) => (cgroups === 'all' || isShownByDefault(c)) && (!filter || matchesFilter(filter, c));
}

export interface RunExportHooks {
  /** The limiter's remote API (--enable-write-api), when switched on. */
  apiHandler?: ApiHandler;
  /** Called once listening (tests, the limiter). */
  onListening?: (exporter: Exporter) => void;
  /** Called with the collector once made (the agent's guard rules share it). */
  onCollector?: (collector: Collector) => void;
  /** Awaited after SIGINT/SIGTERM, before the server and the collector close (the agent stops). */
  onStop?: () => Promise<void>;
}

/** Loopback addresses and "localhost": the only places a token may travel over plain HTTP. */
export function isLoopbackHost(host: string | null): boolean {
  if (host === null) return false;
  if (host === 'localhost') return true;
  const v4 = host.toLowerCase().startsWith('::ffff:') ? host.slice(7) : host;
  if (net.isIPv4(v4)) return LOOPBACK.check(v4, 'ipv4');
  return net.isIPv6(host) && LOOPBACK.check(host, 'ipv6');
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * The write API (--enable-write-api --token-file F) when asked for, else
 * undefined. Refused on a non-loopback address without TLS unless
 * --write-api-insecure says so: the token would cross the network in clear.
 */
async function writeApi(
  opts: ExportRunOptions,
  webConfig: WebConfig | null,
  changed: (cgroupId: string) => void,
): Promise<WriteApi | undefined> {
  if (opts.writeApi === null) return undefined;
  const { settings } = opts;
  const { tokenFile, auditLog, allowSystem, force, insecure } = opts.writeApi;
  if (!isLoopbackHost(settings.listen.host) && !webConfig?.tls) {
    const where = formatListen(settings.listen);
    if (!insecure) {
      throw new ExportStartupError(
        `the write API's token would travel in clear on ${where}: configure TLS (--web-config with ` +
          'tls_server_config), listen on loopback, or accept the risk with --write-api-insecure',
      );
    }
    process.stderr.write(
      `tstop export: warning: the write API's token travels in clear on ${where} (--write-api-insecure)\n`,
    );
  }
  const { loadTokens } = await import('../limiter/http.js');
  const { createLimiter } = await import('../limiter/limiter.js');
  const { writeApiHandler } = await import('./write-api.js');
  const { notifyingLimiter } = await import('../limiter/notify.js');
  let tokens: Map<string, string>;
  try {
    tokens = loadTokens(tokenFile);
  } catch (err) {
    throw new ExportStartupError((err as Error).message);
  }
  const limiter = createLimiter({ root: opts.collector.root, collector: opts.collector, auditLog });
  // The next scrape shows the new limits, not the ones cached until the next settings refresh.
  return writeApiHandler(notifyingLimiter(limiter, changed), tokens, { allowSystem, force });
}

/** What `tstop export` serves, resolved and checked by the CLI. */
export interface ExportRunOptions {
  settings: ExportSettings;
  collector: CollectorOptions;
  /** The limiter's remote API (--enable-write-api --token-file F) and its server-side policy, or null when off. */
  writeApi: {
    tokenFile: string;
    auditLog: string | undefined;
    /** --write-api-allow-system / --write-api-force: what a request may ask for. */
    allowSystem: boolean;
    force: boolean;
    /** --write-api-insecure: a token over plain HTTP on a non-loopback address. */
    insecure: boolean;
  } | null;
  /** The agent's guard rules and expiries, for the tstop_guard_* and tstop_limit_expiry_pending families. */
  agentState?: () => AgentState;
  /** --record: the flight recorder in this process, sampling the exporter's collector (docs/record.md). */
  record?: RecordSettings | null;
}

export async function runExport(opts: ExportRunOptions, hooks: RunExportHooks = {}): Promise<number> {
  const { settings } = opts;
  let collectorRef: Collector | null = null;
  let exporterRef: Exporter | null = null;
  const webConfig = settings.webConfigFile ? await loadWebConfig(settings.webConfigFile) : null;
  const api = hooks.apiHandler
    ? undefined
    : await writeApi(opts, webConfig, (id) => {
        collectorRef?.invalidateSettings(id);
        exporterRef?.collection.invalidate(); // an ahead collection would show the old limits
      });
  const apiHandler = hooks.apiHandler ?? api?.handler;
  const collector = new Collector({
    ...opts.collector,
    watch: settings.watch,
    // The exporter drops each snapshot once rendered; the recorder keeps its last one for its own rates.
    reuseContainers: !opts.record,
  });
  collectorRef = collector;
  hooks.onCollector?.(collector);
  let exporter: Exporter;
  let recorder: RecorderLoop | null = null;
  try {
    await collector.ready();
    // The store's lock first: a second recorder on it stops the start here.
    // The recorder's modules load only with --record (memory: docs/benchmarks.md, i14-rss).
    if (opts.record) recorder = (await import('../record/recorder.js')).recordAlongside(collector, opts.record);
    exporter = await startExporter({
      source: collector,
      listen: settings.listen,
      minIntervalMs: settings.minIntervalMs,
      limits: settings.limits,
      select: selection(settings),
      containerLabels: settings.containerLabels,
      webConfig,
      apiHandler,
      metrics: api ? [api.authFailures] : [],
      extraText: opts.agentState ? () => renderAgentState(opts.agentState!()) : undefined,
      version: version(),
      // TSTOP_EXPORT_AHEAD=0: collect only when a scrape asks (docs/exporter.md, "Freshness").
      collectAhead: process.env.TSTOP_EXPORT_AHEAD !== '0',
      description:
        `Exporting ${settings.cgroups === 'all' ? 'every cgroup' : 'containers and cgroups with processes'}` +
        `${settings.filter ? ` matching /${settings.filter.source}/` : ''}, cgroup ${collector.mounts.mode}, ` +
        `collected at most every ${settings.minIntervalMs} ms.`,
    });
  } catch (err) {
    recorder?.stop();
    await recorder?.done;
    collector.close();
    throw err;
  }
  const auth = webConfig && (webConfig.users.size > 0 || webConfig.bearerToken) ? ', auth required' : '';
  process.stderr.write(
    `tstop export: listening on ${exporter.url} (${formatListen(exporter.address)}, cgroup ${collector.mounts.mode}${auth})\n`,
  );
  exporterRef = exporter;
  hooks.onListening?.(exporter);
  // SIGHUP re-reads the web config (certificate rotation, new users or token);
  // a bad file keeps the old one and says why.
  const reload = (): void => {
    if (!settings.webConfigFile) return;
    loadWebConfig(settings.webConfigFile)
      .then((next) => {
        exporter.reload(next);
        process.stderr.write(`tstop export: reloaded web config ${settings.webConfigFile}\n`);
      })
      .catch((err: unknown) => {
        process.stderr.write(`tstop export: web config not reloaded, keeping the old one: ${(err as Error).message}\n`);
      });
  };
  process.on('SIGHUP', reload);
  await untilStopSignal();
  await hooks.onStop?.();
  process.off('SIGHUP', reload);
  // The sample in hand is finished and the store closed before the collector goes.
  recorder?.stop();
  await recorder?.done;
  await exporter.close();
  collector.close();
  return 0;
}
