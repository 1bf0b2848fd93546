// `tstop --at TIME [--store DIR]`: the dashboard on a recording. The store
// is opened (and the time checked against its range) before the terminal is
// taken, so a time outside it is a plain error naming the range held. Limit
// changes come from the audit log (--audit-log, $TSTOP_AUDIT_LOG); an
// unreadable log costs only the change markers. The live dashboard's
// charts start from the store's last hour when there is one.

import { runDashboardApp } from './dashboard-run.js';
import fs from 'node:fs';
import { AuditLog, auditLogPath } from '../limiter/audit.js';
import { LimitError, type ChangeRecord, type Limiter } from '../limiter/api.js';
import { StoreReader } from '../record/reader.js';
import { CHART_MAX_SAMPLES, CHART_WINDOW_MS, ReplayTimeline } from '../record/replay.js';
import type { Snapshot } from '../model/types.js';
import { parseTimeSpec, TimeSpecError } from '../util/time.js';
import { UsageError } from '../util/errors.js';
import type { ViewState } from '../../ui/view/view-state.js';
import { stringFlag, type ParsedFlags } from './command.js';
import { storeDir } from './store-dir.js';

const REPLAY_LIMIT_MESSAGE = 'a recording cannot be changed: run tstop without --at to act on the live cgroups';

/** The replay's limiter: never reached (the dashboard refuses first), and refuses if it were. */
const replayLimiter: Limiter = {
  plan: () => Promise.reject(new LimitError(REPLAY_LIMIT_MESSAGE, 1)),
  apply: () => Promise.reject(new LimitError(REPLAY_LIMIT_MESSAGE, 1)),
  setFrozen: () => Promise.reject(new LimitError(REPLAY_LIMIT_MESSAGE, 1)),
  kill: () => Promise.reject(new LimitError(REPLAY_LIMIT_MESSAGE, 1)),
};

/** Whether the dashboard replays a recording: --at without --prometheus. */
export function wantsReplay(flags: ParsedFlags): boolean {
  return flags.at !== undefined && flags.prometheus === undefined;
}

/** The applied changes of the audit log, or [] and why not. */
function auditChanges(flags: ParsedFlags): { changes: ChangeRecord[]; problem: string | null } {
  try {
    return { changes: new AuditLog(auditLogPath(stringFlag(flags, 'audit-log'))).changes(), problem: null };
  } catch (err) {
    if (err instanceof LimitError) return { changes: [], problem: `limit changes not shown: ${err.message}` };
    throw err;
  }
}

export function openReplay(flags: ParsedFlags): { timeline: ReplayTimeline; problem: string | null } {
  const text = stringFlag(flags, 'at') ?? '';
  let atMs: number;
  try {
    atMs = parseTimeSpec(text);
  } catch (err) {
    if (err instanceof TimeSpecError) throw new UsageError(`--at: ${err.message}`);
    throw err;
  }
  const reader = StoreReader.open(storeDir(flags), (message) => process.stderr.write(`tstop: warning: ${message}\n`));
  const { changes, problem } = auditChanges(flags);
  return { timeline: new ReplayTimeline(reader, atMs, changes), problem };
}

/**
 * The live dashboard's head start: the store's last hour (at most
 * CHART_MAX_SAMPLES samples), when a store is there and readable; else no
 * samples, and why not when a store was asked for by name.
 */
export function recordedLastHour(
  flags: ParsedFlags,
  nowMs = Date.now(),
): { samples: Snapshot[]; problem: string | null } {
  const dir = storeDir(flags);
  const named = flags.store !== undefined || Boolean(process.env.TSTOP_STORE);
  try {
    fs.accessSync(dir, fs.constants.R_OK | fs.constants.X_OK);
  } catch {
    return { samples: [], problem: named ? `no recorded history: cannot read the store ${dir}` : null };
  }
  try {
    const reader = StoreReader.open(dir);
    return { samples: reader.sampled(nowMs - CHART_WINDOW_MS, nowMs, CHART_MAX_SAMPLES), problem: null };
  } catch (err) {
    return { samples: [], problem: `no recorded history from ${dir}: ${(err as Error).message}` };
  }
}

export async function runReplayDashboard(
  replay: { timeline: ReplayTimeline; problem: string | null },
  state: Partial<ViewState>,
): Promise<number> {
  const { Dashboard } = await import('../../ui/app.js');
  const app = new Dashboard({
    source: null,
    limiter: replayLimiter,
    replay: replay.timeline,
    state,
    handleSignals: true,
  });
  return runDashboardApp(app, replay.problem);
}
