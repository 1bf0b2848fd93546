// `tstop export`: resolves the settings, opens the collector, serves until
// SIGINT/SIGTERM. Loaded lazily by src/cli/commands/export.ts.

import net from 'node:net';
import { collectorOptions } from '../cli/collection-flags.js';
import { stringFlag, UsageError, type ParsedFlags } from '../cli/command.js';
import { version } from '../util/package-root.js';
import { Collector } from '../collect/collector.js';
import { isShownByDefault } from '../model/select.js';
import type { ContainerSnapshot } from '../model/types.js';
import {
  envSource,
  fileSource,
  flagSource,
  formatListen,
  readConfigFile,
  resolveSettings,
  type ExportSettings,
  type RawSettings,
  type SettingsSource,
} from './config.js';
import { startExporter, type ApiHandler, type Exporter } from './server.js';
import { ExportStartupError } from './errors.js';
import { loadWebConfig, type WebConfig } from './web-config.js';
import type { WriteApi } from './write-api.js';

/** The settings from flags, TSTOP_LISTEN and --config, in that order of precedence. */
export async function exportSettings(flags: ParsedFlags, env: NodeJS.ProcessEnv): Promise<ExportSettings> {
  const raw: RawSettings = {
    listen: stringFlag(flags, 'listen'),
    minInterval: stringFlag(flags, 'min-interval'),
    webConfig: stringFlag(flags, 'web-config'),
    cgroups: stringFlag(flags, 'cgroups'),
    filter: stringFlag(flags, 'filter'),
    watch: flags['no-watch'] === true ? false : undefined,
    headerTimeout: stringFlag(flags, 'header-timeout'),
    requestTimeout: stringFlag(flags, 'request-timeout'),
    maxConnections: stringFlag(flags, 'max-connections'),
    maxRequestsInFlight: stringFlag(flags, 'max-requests-in-flight'),
  };
  const sources: SettingsSource[] = [flagSource(raw), envSource(env)];
  const configFile = stringFlag(flags, 'config');
  if (configFile !== undefined) sources.push(fileSource(await readConfigFile(configFile), configFile));
  // Validate flags and environment (exit 2) before reading any other file.
  return resolveSettings(sources);
}

export function selection(settings: Pick<ExportSettings, 'cgroups' | 'filter'>): (c: ContainerSnapshot) => boolean {
  const { cgroups, filter } = settings;
  return (c) => (cgroups === 'all' || isShownByDefault(c)) && (!filter || filter.test(c.id) || filter.test(c.name));
}

export interface RunExportHooks {
  /** The limiter's remote API (--enable-write-api), when switched on. */
  apiHandler?: ApiHandler;
  /** Called once listening (tests, the limiter). */
  onListening?: (exporter: Exporter) => void;
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
  flags: ParsedFlags,
  settings: ExportSettings,
  webConfig: WebConfig | null,
  changed: (cgroupId: string) => void,
): Promise<WriteApi | undefined> {
  const tokenFile = stringFlag(flags, 'token-file');
  if (!flags['enable-write-api']) {
    if (tokenFile !== undefined) throw new UsageError('--token-file is only used with --enable-write-api');
    for (const flag of WRITE_API_POLICY_FLAGS) {
      if (flags[flag]) throw new UsageError(`--${flag} is only used with --enable-write-api`);
    }
    return undefined;
  }
  if (tokenFile === undefined) throw new UsageError('--enable-write-api needs --token-file FILE (the bearer token)');
  if (!isLoopbackHost(settings.listen.host) && !webConfig?.tls) {
    const where = formatListen(settings.listen);
    if (!flags['write-api-insecure']) {
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
  const options = collectorOptions(flags);
  const limiter = createLimiter({ root: options.root, collector: options, auditLog: stringFlag(flags, 'audit-log') });
  // The next scrape shows the new limits, not the ones cached until the next settings refresh.
  return writeApiHandler(notifyingLimiter(limiter, changed), tokens, {
    allowSystem: flags['write-api-allow-system'] === true,
    force: flags['write-api-force'] === true,
  });
}

const WRITE_API_POLICY_FLAGS = ['write-api-allow-system', 'write-api-force', 'write-api-insecure'] as const;

export async function runExport(flags: ParsedFlags, hooks: RunExportHooks = {}): Promise<number> {
  const settings = await exportSettings(flags, process.env);
  let collectorRef: Collector | null = null;
  const webConfig = settings.webConfigFile ? await loadWebConfig(settings.webConfigFile) : null;
  const api = hooks.apiHandler
    ? undefined
    : await writeApi(flags, settings, webConfig, (id) => collectorRef?.invalidateSettings(id));
  const apiHandler = hooks.apiHandler ?? api?.handler;
  const collector = new Collector({
    ...collectorOptions(flags),
    watch: settings.watch,
  });
  collectorRef = collector;
  let exporter: Exporter;
  try {
    await collector.ready();
    exporter = await startExporter({
      source: collector,
      listen: settings.listen,
      minIntervalMs: settings.minIntervalMs,
      limits: settings.limits,
      select: selection(settings),
      webConfig,
      apiHandler,
      metrics: api ? [api.authFailures] : [],
      version: version(),
      description:
        `Exporting ${settings.cgroups === 'all' ? 'every cgroup' : 'containers and cgroups with processes'}` +
        `${settings.filter ? ` matching /${settings.filter.source}/` : ''}, cgroup ${collector.mounts.mode}, ` +
        `collected at most every ${settings.minIntervalMs} ms.`,
    });
  } catch (err) {
    collector.close();
    throw err;
  }
  const auth = webConfig && (webConfig.users.size > 0 || webConfig.bearerToken) ? ', auth required' : '';
  process.stderr.write(
    `tstop export: listening on ${exporter.url} (${formatListen(exporter.address)}, cgroup ${collector.mounts.mode}${auth})\n`,
  );
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
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.off('SIGHUP', reload);
  await exporter.close();
  collector.close();
  return 0;
}
