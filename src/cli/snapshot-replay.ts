// `tstop snapshot --at TIME` and `--from TIME --to TIME [--step 1m]`: the
// recorded samples, in the live schema (each carries its own timestamp).

import { StoreReader, StoreError } from '../record/reader.js';
import { RecordedSample } from '../record/sample-text.js';
import { byCpuThenMemory, selectContainers } from '../model/select.js';
import type { Snapshot } from '../model/types.js';
import { parseTimeSpec, TimeSpecError } from '../util/time.js';
import { durationFlag, stringFlag, type ParsedFlags } from './command.js';
import { UsageError } from '../util/errors.js';
import { storeDir } from './store-dir.js';
import type { Selection } from '../model/select.js';

/** How samples are printed: the live snapshot's own output functions (passed in: snapshot.ts loads this file). */
export interface SampleOutput {
  selection: Selection;
  /** Written once before the first sample (the CSV header), or ''. */
  header: string;
  render(s: Snapshot, shown: Snapshot['containers'], first: boolean): string;
  /** For JSON output: the document as printed, from its JSON text (then samples are printed from their recorded text). */
  renderJson?: (json: string) => string;
  write(text: string): Promise<void>;
}

function timeFlag(flags: ParsedFlags, name: string, nowMs: number): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  try {
    return parseTimeSpec(text, nowMs);
  } catch (err) {
    if (err instanceof TimeSpecError) throw new UsageError(`--${name}: ${err.message}`);
    throw err;
  }
}

export function wantsReplay(flags: ParsedFlags): boolean {
  return ['at', 'from', 'to'].some((f) => flags[f] !== undefined);
}

export async function runSnapshotReplay(flags: ParsedFlags, out: SampleOutput): Promise<number> {
  const nowMs = Date.now();
  const atMs = timeFlag(flags, 'at', nowMs);
  const fromMs = timeFlag(flags, 'from', nowMs);
  const toMs = timeFlag(flags, 'to', nowMs);
  if (atMs !== undefined && (fromMs !== undefined || toMs !== undefined))
    throw new UsageError('--at is one sample; --from/--to a range: give one or the other');
  if (flags.count !== undefined || flags.interval !== undefined)
    throw new UsageError('--count and --interval are for live samples; a recorded range takes --from/--to [--step]');
  if (atMs === undefined && fromMs === undefined) throw new UsageError('--to needs --from');
  const stepMs = flags.step === undefined ? null : durationFlag(flags, 'step', '1m');
  if (stepMs !== null && (atMs !== undefined || stepMs <= 0))
    throw new UsageError('--step: a positive duration, with --from/--to');
  const reader = StoreReader.open(storeDir(flags), (message) => {
    process.stderr.write(`tstop: warning: ${message}\n`);
  });
  const renderJson = out.renderJson;
  const emit = async (s: Snapshot | RecordedSample, first: boolean): Promise<void> => {
    if (s instanceof RecordedSample && renderJson) {
      // The same selection and order, on objects holding what they read; the document from the recorded text.
      const sel = out.selection;
      const shown = selectContainers(s.selectable(!sel.all || !!sel.filter), sel).sort(byCpuThenMemory);
      await out.write(renderJson(s.json(shown)));
      return;
    }
    if (s instanceof RecordedSample) throw new Error('a recorded sample without JSON output');
    const shown = selectContainers(s.containers, out.selection).sort(byCpuThenMemory);
    await out.write(out.render(s, shown, first));
  };
  const sampleAt = (t: number): Snapshot | RecordedSample => (renderJson ? reader.atRecorded(t) : reader.at(t));
  if (out.header) await out.write(out.header);
  if (atMs !== undefined) {
    await emit(sampleAt(atMs), true);
    return 0;
  }
  const from = fromMs!;
  const to = toMs ?? nowMs;
  if (to < from) throw new UsageError('--to is before --from');
  let count = 0;
  let lastShown = '';
  const samples =
    stepMs === null
      ? renderJson
        ? reader.betweenRecorded(from, to)
        : reader.between(from, to)
      : stepped(reader, from, to, stepMs, sampleAt);
  for (const s of samples) {
    if (s.timestamp === lastShown) continue; // two steps in one sample's interval
    lastShown = s.timestamp;
    await emit(s, count === 0);
    count++;
  }
  if (count === 0)
    throw new StoreError(
      `no sample between ${stringFlag(flags, 'from')} and ${stringFlag(flags, 'to') ?? 'now'}: ${reader.describeRange()}`,
    );
  return 0;
}

function* stepped<T>(
  reader: StoreReader,
  fromMs: number,
  toMs: number,
  stepMs: number,
  sampleAt: (t: number) => T,
): Generator<T> {
  const range = reader.range();
  if (!range) return;
  for (let t = Math.max(fromMs, range.firstMs); t <= toMs && t <= range.lastMs + stepMs; t += stepMs) {
    try {
      yield sampleAt(Math.min(t, range.lastMs));
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
    }
  }
}
