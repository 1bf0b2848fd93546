// `tstop export`: the settings from flags, TSTOP_LISTEN and --config, then
// the exporter (src/exporter/run.ts). Loaded lazily by src/cli/commands/export.ts.

import {
  envSource,
  fileSource,
  flagSource,
  readConfigFile,
  resolveSettings,
  type ExportSettings,
  type RawSettings,
  type SettingsSource,
} from '../exporter/config.js';
import { runExport, type ExportRunOptions } from '../exporter/run.js';
import { UsageError } from '../util/errors.js';
import { agentState, startAgent } from './agent.js';
import type { Collector } from '../collect/collector.js';
import { collectorOptions } from './collection-flags.js';
import { stringFlag, type ParsedFlags } from './command.js';
import type { RecordSettings } from '../record/recorder.js';

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
    containerLabels: stringFlag(flags, 'container-labels'),
  };
  const sources: SettingsSource[] = [flagSource(raw), envSource(env)];
  const configFile = stringFlag(flags, 'config');
  if (configFile !== undefined) sources.push(fileSource(await readConfigFile(configFile), configFile));
  // Validate flags and environment (exit 2) before reading any other file.
  return resolveSettings(sources);
}

const WRITE_API_POLICY_FLAGS = ['write-api-allow-system', 'write-api-force', 'write-api-insecure'] as const;

/** --enable-write-api with its token file and audit log, or null when off. */
function writeApiFlags(flags: ParsedFlags): ExportRunOptions['writeApi'] {
  const tokenFile = stringFlag(flags, 'token-file');
  if (!flags['enable-write-api']) {
    if (tokenFile !== undefined) throw new UsageError('--token-file is only used with --enable-write-api');
    for (const flag of WRITE_API_POLICY_FLAGS) {
      if (flags[flag]) throw new UsageError(`--${flag} is only used with --enable-write-api`);
    }
    return null;
  }
  if (tokenFile === undefined) throw new UsageError('--enable-write-api needs --token-file FILE (the bearer token)');
  return {
    tokenFile,
    auditLog: stringFlag(flags, 'audit-log'),
    allowSystem: flags['write-api-allow-system'] === true,
    force: flags['write-api-force'] === true,
    insecure: flags['write-api-insecure'] === true,
  };
}

/** --record with its store settings, or null; the store flags without --record are a mistake. */
async function recordFlags(flags: ParsedFlags): Promise<RecordSettings | null> {
  if (flags.record !== true) {
    for (const flag of ['store', 'record-interval', 'retain', 'max-size']) {
      if (flags[flag] !== undefined) throw new UsageError(`--${flag} is only used with --record`);
    }
    return null;
  }
  // The recorder's modules (store, codec) load only with --record.
  const { recordSettings } = await import('./record.js');
  return recordSettings(flags, 'record-interval');
}

export async function exportCli(flags: ParsedFlags): Promise<number> {
  const settings = await exportSettings(flags, process.env);
  const writeApi = writeApiFlags(flags);
  // An agent too: the audit log's expiries, and the guard rules with --guard FILE (on the exporter's collector).
  let provide: (c: Collector) => void = () => undefined;
  const agent = await startAgent(
    'export',
    flags,
    collectorOptions(flags),
    new Promise<Collector>((r) => (provide = r)),
  );
  try {
    return await runExport(
      {
        settings,
        collector: collectorOptions(flags),
        writeApi,
        agentState: () => agentState(agent),
        record: await recordFlags(flags),
      },
      { onCollector: (c) => provide(c), onStop: () => agent.stop() },
    );
  } finally {
    await agent.stop();
  }
}
