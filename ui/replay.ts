// What the dashboard shows in replay (tstop --at TIME) besides the sample
// itself: the history the charts and the OOM marks are drawn from (read
// from the store around the sample, not gathered tick by tick), the
// processes as recorded (pids only: the store does not keep /proc), and the
// audit log's limit changes for the header and the detail view.

import path from 'node:path';
import type { ProcessSample } from '../collectors/proc-detail.js';
import type { Snapshot } from '../src/model/types.js';
import { describeChange, type ReplayTimeline } from '../src/record/replay.js';
import type { LimitChangeNote } from './view/detail.js';
import { sampleTime } from './view/header.js';
import { History } from './view/history.js';

/**
 * The table needs only the OOM window of history (the detail charts an
 * hour): a sample every 25 s of it places an OOM kill within 25 s, and
 * building every cgroup of a 1,000-cgroup sample costs ~100 ms.
 */
const TABLE_WINDOW_MS = 5 * 60_000;
const TABLE_SAMPLES = 12;

export const REPLAY_ACTIONS_MESSAGE =
  'this is a recording (tstop --at): the past cannot be changed; run tstop without --at to act on the live cgroups';

/** Records snapshots of another process (the store) into a history on this clock: at wallNowMs it is monoNowSeconds. */
export function recordInto(
  history: History,
  samples: readonly Snapshot[],
  wallNowMs: number,
  monoNowSeconds: number,
): void {
  for (const s of samples) history.record(s, monoNowSeconds - (wallNowMs - Date.parse(s.timestamp)) / 1000);
}

export class ReplayView {
  constructor(readonly timeline: ReplayTimeline) {}

  get snapshot(): Snapshot {
    return this.timeline.current().snapshot;
  }

  /**
   * The history up to the current sample: an hour of the detail view's cgroup
   * (detailId) for its charts, else the OOM window of every cgroup for the table.
   */
  history(detailId: string | null): History {
    const frame = this.timeline.current();
    const samples =
      detailId !== null
        ? this.timeline.chartSamples(undefined, undefined, detailId)
        : this.timeline.chartSamples(TABLE_WINDOW_MS, TABLE_SAMPLES);
    const history = new History();
    recordInto(history, samples, frame.timeMs, frame.snapshot.monotonicSeconds);
    return history;
  }

  /** The recorded pids of a cgroup; what /proc said of them then was not recorded. */
  processes(pids: readonly number[]): ProcessSample {
    return {
      processes: pids.map((pid) => ({
        pid,
        user: '-',
        state: '-',
        cpuPercent: null,
        rssBytes: 0,
        threads: 0,
        command: '(recorded: pid only)',
      })),
      total: pids.length,
    };
  }

  header(): { timeMs: number; limitChanges: number } {
    const frame = this.timeline.current();
    return { timeMs: frame.timeMs, limitChanges: frame.changes.length };
  }

  /** A status line for the changes made since the previous sample, or null. */
  changeMessage(): string | null {
    const changes = this.timeline.current().changes;
    if (changes.length === 0) return null;
    const first = `limit change at ${sampleTime(Date.parse(changes[0].time))}: ${describeChange(changes[0])}`;
    return changes.length > 1 ? `${first} (and ${changes.length - 1} more)` : first;
  }

  /** The detail view's change lines for a cgroup: recent ones, marked when made since the previous sample. */
  limitNotes(containerId: string): LimitChangeNote[] {
    const frame = this.timeline.current();
    const since = new Set(frame.changes.map((c) => c.id));
    return this.timeline.changesOf(containerId).map((c) => ({
      at: sampleTime(Date.parse(c.time)).slice(11),
      what: `${c.action} by ${c.sudoUser ?? c.user} via ${c.via} (${c.id})`,
      writes: c.writes.map((w) => ({ file: path.basename(w.path), oldValue: w.oldValue, newValue: w.newValue })),
      sinceLastSample: since.has(c.id),
    }));
  }
}
