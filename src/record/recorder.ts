// `tstop record`'s loop: one sample from the source every interval, appended
// to the store. stop() lets the sample in hand finish, then the loop closes
// the store and returns.

import type { SnapshotSource } from '../model/types.js';
import type { StoreWriter } from './store.js';

export interface RecorderLoop {
  /** Resolves after the store is closed. */
  done: Promise<void>;
  stop(): void;
}

export function runRecorder(source: SnapshotSource, writer: StoreWriter, intervalMs: number): RecorderLoop {
  let stopping = false;
  let wake: (() => void) | null = null;
  const done = (async () => {
    try {
      let next = Date.now();
      while (!stopping) {
        writer.append(source.collect());
        next += intervalMs;
        // Behind schedule (a slow tick): start again from now rather than sampling back to back.
        if (next < Date.now()) next = Date.now() + intervalMs;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, next - Date.now());
        });
        wake = null;
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
