// `tstop --at TIME [--store DIR]`: the dashboard on a recording. The store
// is opened (and the time checked against its range) before the terminal is
// taken, so a time outside it is a plain error naming the range held. Limit
// changes come from the audit log (--audit-log, $TSTOP_AUDIT_LOG); an
// unreadable log costs only the change markers.

import { AuditLog, auditLogPath } from '../limiter/audit.js';
import { LimitError, type ChangeRecord, type Limiter } from '../limiter/api.js';
import { StoreReader } from '../record/reader.js';
import { ReplayTimeline } from '../record/replay.js';
import { parseTimeSpec, TimeSpecError } from '../util/time.js';
import { UsageError } from '../util/errors.js';
import type { ViewState } from '../../ui/view/view-state.js';
import { stringFlag, type ParsedFlags } from './command.js';
import { storeDir } from './record.js';

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
  if (replay.problem) app.status.show(replay.problem, 'warn', 10);
  try {
    await app.start();
  } catch (err) {
    app.quit();
    throw err;
  }
  return 0;
}
