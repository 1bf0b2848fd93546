// `tstop --prometheus URL` and `tstop snapshot --prometheus URL`: the fleet
// view. Flags → a PrometheusClient and a FleetSource (src/fleet); the
// dashboard gets each refresh by update(), a failed refresh is a banner and
// the next interval retries.

import fs from 'node:fs';
import { PrometheusClient, PrometheusUsageError, readSecretFile } from '../fleet/prometheus.js';
import { scopeMatchers } from '../fleet/queries.js';
import { FleetSource } from '../fleet/source.js';
import {
  FLEET_FREEZE_MESSAGE,
  FLEET_LIMIT_HOWTO,
  FLEET_SIGNAL_MESSAGE,
  FleetWriteLimiter,
} from '../fleet/write-api.js';
import { readTokenFile } from '../limiter/remote.js';
import { parseFleetId } from '../fleet/mapping.js';
import type { ContainerSnapshot, Snapshot } from '../model/types.js';
import { historyFromPoints, type ContainerHistory } from '../../ui/view/history.js';
import { LimitError, type Limiter } from '../limiter/api.js';
import { parseTimeSpec } from '../util/time.js';
import { durationFlag, listFlag, stringFlag, type ParsedFlags } from './command.js';
import { UsageError } from '../util/errors.js';
import { FLEET_FLAGS, FLEET_WRITE_FLAGS } from './fleet-flags.js';

/** Fleet flags that make no sense without --prometheus. */
// --at without --prometheus is the recorder's (tstop snapshot --store DIR --at TIME).
const FLEET_ONLY = [...FLEET_FLAGS, ...FLEET_WRITE_FLAGS]
  .map((f) => f.name)
  .filter((n) => n !== 'prometheus' && n !== 'window' && n !== 'prometheus-timeout' && n !== 'at');

/** Local-collection flags the fleet view cannot use. */
const LOCAL_ONLY = ['root', 'docker-root', 'runc-root', 'podman-root', 'containerd-root', 'lxc-root'];

export function wantsFleet(flags: ParsedFlags): boolean {
  if (flags.prometheus !== undefined) {
    for (const name of LOCAL_ONLY) {
      if (flags[name] !== undefined)
        throw new UsageError(`--${name} reads this host; it cannot be used with --prometheus`);
    }
    return true;
  }
  for (const name of FLEET_ONLY) {
    if (flags[name] !== undefined) throw new UsageError(`--${name} needs --prometheus URL`);
  }
  return false;
}

function readFile(flag: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new PrometheusUsageError(`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
}

/** A Prometheus duration: whole seconds, at least 1s. */
function promDuration(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

export function requestHeaders(flags: ParsedFlags): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const h of listFlag(flags, 'prometheus-header')) {
    const eq = h.indexOf('=');
    const name = eq > 0 ? h.slice(0, eq).trim() : '';
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name) || /[\r\n]/.test(h)) {
      throw new UsageError(`--prometheus-header: '${h}' is not NAME=VALUE`);
    }
    headers[name] = h.slice(eq + 1);
  }
  const tokenFile = stringFlag(flags, 'prometheus-bearer-token-file');
  const basic = stringFlag(flags, 'prometheus-basic-auth');
  if (tokenFile !== undefined && basic !== undefined) {
    throw new UsageError('--prometheus-bearer-token-file and --prometheus-basic-auth cannot be used together');
  }
  if (tokenFile !== undefined) {
    headers.Authorization = `Bearer ${readSecretFile('--prometheus-bearer-token-file', tokenFile)}`;
  }
  if (basic !== undefined) {
    const colon = basic.indexOf(':');
    if (colon <= 0 || colon === basic.length - 1) {
      throw new UsageError(`--prometheus-basic-auth: '${basic}' is not USER:PASSWORD_FILE`);
    }
    const password = readSecretFile('--prometheus-basic-auth', basic.slice(colon + 1));
    headers.Authorization = 'Basic ' + Buffer.from(`${basic.slice(0, colon)}:${password}`).toString('base64');
  }
  return headers;
}

/** The FleetSource the flags describe; every flag is checked before anything is sent. */
export function fleetSourceFromFlags(flags: ParsedFlags): FleetSource {
  const url = stringFlag(flags, 'prometheus') ?? '';
  const caFile = stringFlag(flags, 'prometheus-ca-file');
  const client = new PrometheusClient({
    url,
    timeoutMs: durationFlag(flags, 'prometheus-timeout', '10s'),
    headers: requestHeaders(flags),
    ca: caFile === undefined ? undefined : readFile('--prometheus-ca-file', caFile),
  });
  const atText = stringFlag(flags, 'at');
  return new FleetSource({
    client,
    scope: {
      matchers: scopeMatchers(stringFlag(flags, 'match'), stringFlag(flags, 'instance')),
      window: promDuration(durationFlag(flags, 'window', '1m')),
    },
    atMs: atText === undefined ? undefined : parseTimeSpec(atText),
  });
}

/** What the fleet dashboard's l, f and K do: the write API routing when configured, else say how. */
export interface FleetActions {
  limiter: Limiter;
  actionsUnavailable: Partial<Record<'limit' | 'freeze' | 'signal', string>>;
}

export function fleetActionsFromFlags(flags: ParsedFlags): FleetActions {
  const template = stringFlag(flags, 'write-api');
  const tokenFile = stringFlag(flags, 'write-api-token-file');
  const caFile = stringFlag(flags, 'write-api-ca-file');
  const freezeAndSignal = { freeze: FLEET_FREEZE_MESSAGE, signal: FLEET_SIGNAL_MESSAGE };
  if (template === undefined) {
    if (tokenFile !== undefined) throw new UsageError('--write-api-token-file needs --write-api URL_TEMPLATE');
    if (caFile !== undefined) throw new UsageError('--write-api-ca-file needs --write-api URL_TEMPLATE');
    return { limiter: unavailable, actionsUnavailable: { limit: FLEET_LIMIT_HOWTO, ...freezeAndSignal } };
  }
  if (tokenFile === undefined)
    throw new UsageError('--write-api needs --write-api-token-file FILE (the write API token)');
  const limiter = new FleetWriteLimiter({
    template,
    token: readTokenFile(tokenFile, '--write-api-token-file'),
    ca: caFile === undefined ? undefined : readFile('--write-api-ca-file', caFile),
    timeoutMs: durationFlag(flags, 'prometheus-timeout', '10s'),
  });
  return { limiter, actionsUnavailable: freezeAndSignal };
}

const unavailable: Limiter = {
  plan: () => Promise.reject(new LimitError(FLEET_LIMIT_HOWTO, 2, 'refused')),
  apply: () => Promise.reject(new LimitError(FLEET_LIMIT_HOWTO, 2, 'refused')),
  setFrozen: () => Promise.reject(new LimitError(FLEET_FREEZE_MESSAGE, 2, 'refused')),
  kill: () => Promise.reject(new LimitError(FLEET_SIGNAL_MESSAGE, 2, 'refused')),
};

/** The detail view's charts: the last hour of the container from one range query. */
export function fleetDetailHistory(
  source: FleetSource,
): (c: ContainerSnapshot, snapshot: Snapshot) => Promise<ContainerHistory | undefined> {
  return async (c, snapshot) => {
    const row = parseFleetId(c.id);
    if (!row) return undefined;
    const h = await source.history(row.instance, row.path);
    return historyFromPoints(
      h.series,
      h,
      { wallNow: Date.parse(snapshot.timestamp) / 1000, monoNow: snapshot.monotonicSeconds },
      '(last hour)',
    );
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the fleet dashboard loop needs of the dashboard (ui/app.ts Dashboard). */
export interface FleetScreen {
  readonly stopped: boolean;
  readonly state: { intervalMs: number; paused: boolean; sort: string; reverse: boolean; filter: string };
  readonly currentMode: 'table' | 'detail';
  target(): { id: string } | null;
  readonly done: Promise<void>;
  update(snapshot: import('../model/types.js').Snapshot): void;
  readonly status: { show(text: string, level: 'warn' | 'crit'): void };
  render(): void;
}

/** --top: rows the dashboard fetches (the first by its sort key); at least a screen. */
export function topRowsFromFlags(flags: ParsedFlags): number {
  const text = stringFlag(flags, 'top') ?? '200';
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 10 || n > 100_000) {
    throw new UsageError(`--top: '${text}' is not a whole number from 10 to 100000`);
  }
  return n;
}

/**
 * Refreshes the dashboard from the fleet until it quits: a failed refresh is
 * a red banner naming the cause, and the next interval retries.
 */
export async function driveFleetDashboard(app: FleetScreen, source: FleetSource, topRows: number): Promise<void> {
  let quit = false;
  void app.done.then(() => (quit = true));
  let failing = false;
  while (!quit && !app.stopped) {
    if (!app.state.paused) {
      try {
        const detail = app.currentMode === 'detail' ? parseFleetId(app.target()?.id ?? '') : null;
        const { sort, reverse, filter } = app.state;
        const snapshot = await source.refresh({
          n: topRows,
          sort,
          reverse,
          filter,
          pinned: detail ? [[detail.instance, detail.path]] : [],
        });
        if (quit || app.stopped) break;
        app.update(snapshot);
        if (failing) app.status.show(`${source.label} answers again`, 'warn');
        failing = false;
      } catch (err) {
        if (quit || app.stopped) break;
        failing = true;
        app.status.show(`${(err as Error).message}; retrying every ${app.state.intervalMs / 1000}s`, 'crit');
        app.render();
      }
    }
    await Promise.race([sleep(app.state.intervalMs), app.done]);
  }
}
