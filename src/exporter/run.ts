// `tstop export`: opens the collector, serves until SIGINT/SIGTERM. The CLI
// (src/cli/export.ts) resolves the settings from flags, environment and file.

import { version } from '../util/package-root.js';
import { Collector, type CollectorOptions } from '../collect/collector.js';
import { isShownByDefault } from '../model/select.js';
import type { ContainerSnapshot } from '../model/types.js';
import { formatListen, type ExportSettings } from './config.js';
import { startExporter, type ApiHandler, type Exporter } from './server.js';
import { ExportStartupError } from './errors.js';
import { loadWebConfig } from './web-config.js';

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

/** What `tstop export` serves, resolved and checked by the CLI. */
export interface ExportRunOptions {
  settings: ExportSettings;
  collector: CollectorOptions;
  /** The limiter's remote API (--enable-write-api --token-file F), or null when off. */
  writeApi: { tokenFile: string; auditLog: string | undefined } | null;
}

/** The write API's handler when asked for, else undefined. */
async function writeApi(opts: ExportRunOptions, changed: (cgroupId: string) => void): Promise<ApiHandler | undefined> {
  if (opts.writeApi === null) return undefined;
  const { tokenFile, auditLog } = opts.writeApi;
  const { loadToken } = await import('../limiter/http.js');
  const { createLimiter } = await import('../limiter/limiter.js');
  const { writeApiHandler } = await import('./write-api.js');
  const { notifyingLimiter } = await import('../limiter/notify.js');
  let token: string;
  try {
    token = loadToken(tokenFile);
  } catch (err) {
    throw new ExportStartupError((err as Error).message);
  }
  const limiter = createLimiter({ root: opts.collector.root, collector: opts.collector, auditLog });
  // The next scrape shows the new limits, not the ones cached until the next settings refresh.
  return writeApiHandler(notifyingLimiter(limiter, changed), token);
}

export async function runExport(opts: ExportRunOptions, hooks: RunExportHooks = {}): Promise<number> {
  const { settings } = opts;
  let collectorRef: Collector | null = null;
  const apiHandler = hooks.apiHandler ?? (await writeApi(opts, (id) => collectorRef?.invalidateSettings(id)));
  const webConfig = settings.webConfigFile ? await loadWebConfig(settings.webConfigFile) : null;
  const collector = new Collector({
    ...opts.collector,
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
      select: selection(settings),
      webConfig,
      apiHandler,
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
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await exporter.close();
  collector.close();
  return 0;
}
