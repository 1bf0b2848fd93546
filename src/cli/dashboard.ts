// `tstop` on a terminal: parses the start options, starts a Collector that
// watches the tree, and runs the dashboard until the user quits.

import { runDashboardApp } from './dashboard-run.js';
import { Collector } from '../collect/collector.js';
import { parseSortKey, type SortKey } from '../../ui/view/sort.js';
import { compileFilter, type ViewState } from '../../ui/view/view-state.js';
import { collectorOptions } from './collection-flags.js';
import { durationFlag, stringFlag, type ParsedFlags } from './command.js';
import { UsageError } from '../util/errors.js';
import {
  createDashboardLimiter,
  dashboardExpiries,
  DASHBOARD_COLLECTOR,
  RememberingSource,
} from './dashboard-limiter.js';
import {
  driveFleetDashboard,
  fleetActionsFromFlags,
  fleetDetailHistory,
  topRowsFromFlags,
  fleetSourceFromFlags,
  wantsFleet,
  type FleetActions,
} from './fleet.js';
import type { FleetSource } from '../fleet/source.js';
import { openReplay, recordedLastHour, runReplayDashboard, wantsReplay } from './replay.js';

/** Shortest refresh interval: the collector needs the time, and the screen cannot show faster. */
export const MIN_INTERVAL_MS = 100;

export function parseDashboardArgs(flags: ParsedFlags): Partial<ViewState> {
  const intervalMs = durationFlag(flags, 'interval', '1s');
  if (intervalMs < MIN_INTERVAL_MS) {
    throw new UsageError(`--interval: '${stringFlag(flags, 'interval')}' is below the minimum of ${MIN_INTERVAL_MS}ms`);
  }
  const sortText = stringFlag(flags, 'sort') ?? 'cpu';
  const sort: SortKey | null = parseSortKey(sortText);
  if (!sort) {
    throw new UsageError(
      `--sort: '${sortText}' is not a sort key (cpu, mem, memPct, io, ioRead, ioWrite, net, netRx, netTx, pids, quota, throttled, psi, name, path, runtime)`,
    );
  }
  const filter = stringFlag(flags, 'filter') ?? '';
  if (filter) compileFilter(filter); // never throws: an invalid regex is taken literally
  return {
    intervalMs,
    sort,
    reverse: flags.reverse === true,
    filter,
    tree: flags.tree === true,
    all: flags.all === true,
  };
}

export async function runDashboard(flags: ParsedFlags): Promise<number> {
  const state = parseDashboardArgs(flags);
  const fleet = wantsFleet(flags) ? fleetSourceFromFlags(flags) : null;
  const fleetActions = fleet ? fleetActionsFromFlags(flags) : null;
  const topRows = fleet ? topRowsFromFlags(flags) : 0;
  if (fleet && flags.store !== undefined)
    throw new UsageError('--store is for replaying a recording; not with --prometheus');
  // tstop --at TIME: the store and the time are checked before the terminal is taken.
  const replay = wantsReplay(flags) ? openReplay(flags) : null;
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    process.stderr.write('tstop: the dashboard needs a terminal (stdin and stdout); use `tstop snapshot` in scripts\n');
    return 1;
  }
  if (fleet && fleetActions) return runFleetDashboard(fleet, fleetActions, state, topRows);
  if (replay) return runReplayDashboard(replay, state);
  const options = collectorOptions(flags);
  const { Dashboard } = await import('../../ui/app.js');
  const source = new RememberingSource(new Collector({ ...options, ...DASHBOARD_COLLECTOR }));
  const recorded = recordedLastHour(flags);
  const app = new Dashboard({
    recordedHistory: recorded.samples,
    source,
    limiter: createDashboardLimiter(options, source),
    expiries: dashboardExpiries(),
    root: options.root,
    state,
    handleSignals: true,
  });
  return runDashboardApp(app, recorded.problem);
}

/** The fleet view: the same dashboard, fed by Prometheus queries; no local processes; limits through write APIs. */
async function runFleetDashboard(
  source: FleetSource,
  actions: FleetActions,
  state: Partial<ViewState>,
  topRows: number,
): Promise<number> {
  const { Dashboard } = await import('../../ui/app.js');
  const app = new Dashboard({
    source: null,
    limiter: actions.limiter,
    actionsUnavailable: actions.actionsUnavailable,
    // Changes are made by each node's write API: no local root needed.
    isRoot: true,
    processes: () => ({ processes: [], total: 0 }),
    detailHistory: fleetDetailHistory(source),
    state,
    handleSignals: true,
  });
  const started = app.start();
  try {
    await driveFleetDashboard(app, source, topRows);
    await started;
  } catch (err) {
    app.quit();
    throw err;
  }
  return 0;
}
