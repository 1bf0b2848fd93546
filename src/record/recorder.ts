// `tstop record`'s loop: one sample from the source every interval, appended
// to the store. stop() lets the sample in hand finish, then the loop closes
// the store and returns.

import { applyRates } from '../model/rates.js';
import type { Snapshot, SnapshotSource } from '../model/types.js';
import { StoreWriter } from './store.js';

export interface RecorderLoop {
  /** Resolves after the store is closed. */
  done: Promise<void>;
  stop(): void;
}

/**
 * The first sample comes this long (or one interval, if shorter) after a
 * first collection that only gives its rates a base, as `snapshot --count`
 * collects once before its first sample. A sample of nothing but unknown
 * rates would tell little, and cost the store every template twice: a
 * template holds where a figure is null, so the second sample, whose rates
 * are known, would change every cgroup's.
 */
export const FIRST_SAMPLE_AFTER_MS = 1000;

export function runRecorder(source: SnapshotSource, writer: StoreWriter, intervalMs: number): RecorderLoop {
  let stopping = false;
  let wake: (() => void) | null = null;
  const sleepUntil = (timeMs: number): Promise<void> =>
    new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, timeMs - Date.now());
    }).then(() => void (wake = null));
  const done = (async () => {
    try {
      source.collect();
      let next = Date.now() + Math.min(intervalMs, FIRST_SAMPLE_AFTER_MS);
      await sleepUntil(next);
      while (!stopping) {
        writer.append(source.collect());
        next += intervalMs;
        // Behind schedule (a slow tick): start again from now rather than sampling back to back.
        if (next < Date.now()) next = Date.now() + intervalMs;
        await sleepUntil(next);
      }
    } finally {
      writer.close();
      source.close?.();
    }
  })();
  return {
    done,
    stop: () => {
      stopping = true;
      wake?.();
    },
  };
}

/** Where and how often to record, and what to keep. */
export interface RecordSettings {
  dir: string;
  intervalMs: number;
  retainMs: number;
  maxBytes: number;
  warn: (message: string) => void;
}

/**
 * A source shared with another face (the exporter's scrapes): the
 * collector's rates cover the time since anyone's last collection, so a
 * scrape 100 ms before a sample would leave a 100 ms CPU %. The recorder
 * derives them again against its own previous sample (rates only read
 * counters, so the other face's numbers are untouched). Closing it leaves
 * the shared source open: its owner closes it.
 */
export function ownRates(shared: SnapshotSource): SnapshotSource {
  let previous: Snapshot | null = null;
  return {
    collect(): Snapshot {
      const s = shared.collect();
      applyRates(previous, s);
      previous = s;
      return s;
    },
  };
}

/**
 * The recorder beside another face in one process (tstop export --record):
 * takes the store's lock now (a second recorder is refused before anything
 * starts) and samples the shared source every interval until stopped;
 * `done` never rejects: a store failure is a warning.
 */
export function recordAlongside(shared: SnapshotSource, settings: RecordSettings): RecorderLoop {
  const { dir, intervalMs, retainMs, maxBytes, warn } = settings;
  const writer = StoreWriter.open(dir, { intervalMs, retainMs, maxBytes, warn });
  warn(`recording every ${intervalMs} ms into ${writer.dir}`);
  const loop = runRecorder(ownRates(shared), writer, intervalMs);
  // A failing store (a full disk) stops the recording, not the face beside it.
  const done = loop.done.catch((err: unknown) => warn(`recording stopped: ${(err as Error).message}`));
  return { done, stop: loop.stop };
}
