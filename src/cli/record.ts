// `tstop record` and the store flag the replaying faces share.

import { Collector } from '../collect/collector.js';
import { runRecorder, type RecordSettings } from '../record/recorder.js';
import { StoreWriter } from '../record/store.js';
import { collectorOptions } from './collection-flags.js';
import { durationFlag, stringFlag, type ParsedFlags } from './command.js';
import { UsageError } from '../util/errors.js';
import { storeDir } from './store-dir.js';
import { startAgent, type Agent } from './agent.js';

export { DEFAULT_STORE, storeDir } from './store-dir.js';

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};

export function parseSizeBytes(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) * unit < 64 * 1024)
    throw new UsageError(`--${flag}: '${text}' is not a size of at least 64KiB (examples: 500MiB, 2GiB, 10G)`);
  return Math.floor(Number(m[1]) * unit);
}

/** The recorder's settings from --interval (or `intervalFlag`), --retain, --max-size and --store. */
export function recordSettings(flags: ParsedFlags, intervalFlag = 'interval'): RecordSettings {
  const intervalMs = durationFlag(flags, intervalFlag, '5s');
  if (intervalMs < 100) throw new UsageError(`--${intervalFlag}: at least 100ms`);
  const retainMs = durationFlag(flags, 'retain', '7d');
  if (retainMs < intervalMs) throw new UsageError(`--retain: shorter than --${intervalFlag}`);
  const maxBytes = parseSizeBytes('max-size', stringFlag(flags, 'max-size') ?? '2GiB');
  const warn = (message: string): void => void process.stderr.write(`tstop: ${message}\n`);
  return { dir: storeDir(flags), intervalMs, retainMs, maxBytes, warn };
}

export async function runRecord(flags: ParsedFlags): Promise<number> {
  const { dir, intervalMs, retainMs, maxBytes, warn } = recordSettings(flags);
  const writer = StoreWriter.open(dir, { intervalMs, retainMs, maxBytes, warn });
  const collector = new Collector({ ...collectorOptions(flags), watch: true });
  // An agent too: the audit log's expiries, and the guard rules with --guard FILE (on the same collector).
  let agent: Agent;
  try {
    agent = await startAgent('record', flags, collectorOptions(flags), collector);
  } catch (err) {
    collector.close();
    writer.close();
    throw err;
  }
  const loop = runRecorder(collector, writer, intervalMs);
  // The agent stops first: its guard rules use the collector the recorder closes.
  const onSignal = (): void => void agent.stop().then(() => loop.stop());
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.stderr.write(`tstop: recording every ${stringFlag(flags, 'interval') ?? '5s'} into ${writer.dir}\n`);
  try {
    await loop.done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await agent.stop();
  }
  return 0;
}
