// Settings of `tstop export`, from (first wins) the command line, the
// environment (TSTOP_LISTEN), the config file (--config FILE, YAML, keys
// under `export:`), and the defaults. Bad flags or environment values are
// usage errors (exit 2); a config file that cannot be read or holds bad
// values is a startup error naming the file (exit 1).
//
//   export:
//     listen: 127.0.0.1:9338
//     min_interval: 1s
//     web_config: /etc/tstop/web.yml
//     cgroups: all            # or "default": containers and cgroups with processes
//     filter: '^/kubepods'    # only cgroups whose id or name matches
//     watch: true             # follow cgroups with inotify (false: walk the tree each collection)
//     header_timeout: 10s     # slow clients: headers within, whole request within request_timeout
//     request_timeout: 30s
//     max_connections: 512    # more are closed at once
//     max_requests_in_flight: 40   # more get 503

import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../util/errors.js';
import { DurationError, parseDurationMs } from '../util/duration.js';
import { ALL_CONTAINER_LABELS, parseContainerLabelPolicy, type ContainerLabelPolicy } from './container-labels.js';
import { filterRegex } from '../model/select.js';
import { ExportStartupError } from './errors.js';

export const DEFAULT_LISTEN = '127.0.0.1:9338';
export const DEFAULT_MIN_INTERVAL = '1s';

export interface ListenAddress {
  /** null = every interface (":9338"). */
  host: string | null;
  port: number;
}

export type CgroupSelection = 'all' | 'default';

/** Limits on clients (slow or many): promhttp / net/http timeouts in Node's terms. */
export interface ServerLimits {
  /** A connection must have sent a request's headers within this (net/http ReadHeaderTimeout). */
  headerTimeoutMs: number;
  /** A whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** Open connections; more are closed at once. */
  maxConnections: number;
  /** Requests being answered; more get 503 (promhttp's MaxRequestsInFlight). /healthz is not counted. */
  maxRequestsInFlight: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headerTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 512,
  maxRequestsInFlight: 40,
};

export interface ExportSettings {
  limits: ServerLimits;
  listen: ListenAddress;
  minIntervalMs: number;
  webConfigFile: string | null;
  cgroups: CgroupSelection;
  filter: RegExp | null;
  watch: boolean;
  /** Which runtime labels become container_label_* labels. */
  containerLabels: ContainerLabelPolicy;
}

/** Raw values as given by one source (flags, environment or config file). */
export interface RawSettings {
  listen?: string;
  minInterval?: string;
  webConfig?: string;
  cgroups?: string;
  filter?: string;
  watch?: boolean;
  headerTimeout?: string;
  requestTimeout?: string;
  maxConnections?: string;
  maxRequestsInFlight?: string;
  containerLabels?: string;
}

/**
 * "HOST:PORT", "[V6]:PORT", ":PORT" (every interface) or "PORT" (loopback).
 * Throws an Error whose message says what is wrong.
 */
export function parseListen(text: string): ListenAddress {
  const t = text.trim();
  let host: string | null;
  let portText: string;
  let m: RegExpExecArray | null;
  if ((m = /^\[([0-9A-Fa-f:.]+)\]:([^:]*)$/.exec(t))) {
    host = m[1];
    portText = m[2];
  } else if (/^\d+$/.test(t)) {
    host = '127.0.0.1';
    portText = t;
  } else if ((m = /^([^:[\]\s]*):([^:]*)$/.exec(t))) {
    host = m[1] === '' ? null : m[1];
    portText = m[2];
  } else {
    throw new Error(`'${text}' is not HOST:PORT, [IPV6]:PORT or :PORT`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new Error(`'${text}': port '${portText}' is not a number from 0 to 65535`);
  }
  if (host !== null && !/^[A-Za-z0-9.:_-]+$/.test(host))
    throw new Error(`'${text}': '${host}' is not a host name or address`);
  return { host, port: Number(portText) };
}

export function formatListen(a: ListenAddress): string {
  const host = a.host === null ? '' : a.host.includes(':') ? `[${a.host}]` : a.host;
  return `${host}:${a.port}`;
}

const CONFIG_KEYS: Record<string, keyof RawSettings> = {
  listen: 'listen',
  min_interval: 'minInterval',
  web_config: 'webConfig',
  cgroups: 'cgroups',
  filter: 'filter',
  watch: 'watch',
  header_timeout: 'headerTimeout',
  request_timeout: 'requestTimeout',
  max_connections: 'maxConnections',
  max_requests_in_flight: 'maxRequestsInFlight',
  container_labels: 'containerLabels',
};

/** Reads the `export:` section of a config file (YAML; JSON is YAML too). */
export async function readConfigFile(file: string): Promise<RawSettings> {
  const fail = (what: string): never => {
    throw new ExportStartupError(`config ${file}: ${what}`);
  };
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    fail(`cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text) ?? {};
  } catch (err) {
    fail(`not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('expected a mapping');
  const section = (doc as Record<string, unknown>).export;
  if (section === undefined || section === null) return {};
  if (typeof section !== 'object' || Array.isArray(section)) return fail("'export' must be a mapping");
  const out: RawSettings = {};
  for (const [k, v] of Object.entries(section as Record<string, unknown>)) {
    const key = CONFIG_KEYS[k];
    if (!key) fail(`unknown key 'export.${k}' (known: ${Object.keys(CONFIG_KEYS).join(', ')})`);
    if (key === 'watch') {
      if (typeof v !== 'boolean') fail(`export.watch must be true or false`);
      out.watch = v as boolean;
    } else {
      if (typeof v !== 'string' && typeof v !== 'number') fail(`export.${k} must be a string`);
      out[key] = String(v);
    }
  }
  // A web config named in the config file is relative to the config file.
  if (out.webConfig !== undefined) out.webConfig = path.resolve(path.dirname(path.resolve(file)), out.webConfig);
  return out;
}

/** One settings source with how to report its bad values. */
export interface SettingsSource {
  raw: RawSettings;
  /** Builds the error for a bad value: a usage error for flags/env, a startup error for files. */
  error: (what: string) => Error;
  /** How a key is named in this source ("--listen", "TSTOP_LISTEN", "export.listen"). */
  name: (key: keyof RawSettings) => string;
}

export function flagSource(raw: RawSettings): SettingsSource {
  const names: Record<keyof RawSettings, string> = {
    listen: '--listen',
    minInterval: '--min-interval',
    webConfig: '--web-config',
    cgroups: '--cgroups',
    filter: '--filter',
    watch: '--no-watch',
    headerTimeout: '--header-timeout',
    requestTimeout: '--request-timeout',
    maxConnections: '--max-connections',
    maxRequestsInFlight: '--max-requests-in-flight',
    containerLabels: '--container-labels',
  };
  return { raw, error: (w) => new UsageError(w), name: (k) => names[k] };
}

export function envSource(env: NodeJS.ProcessEnv): SettingsSource {
  const raw: RawSettings = {};
  if (env.TSTOP_LISTEN !== undefined && env.TSTOP_LISTEN !== '') raw.listen = env.TSTOP_LISTEN;
  return { raw, error: (w) => new UsageError(w), name: () => 'TSTOP_LISTEN' };
}

export function fileSource(raw: RawSettings, file: string): SettingsSource {
  const keys = Object.fromEntries(Object.entries(CONFIG_KEYS).map(([k, v]) => [v, k]));
  return {
    raw,
    error: (w) => new ExportStartupError(`config ${file}: ${w}`),
    name: (k) => `export.${keys[k]}`,
  };
}

/** Merges sources (first wins) and validates each value against the source it came from. */
export function resolveSettings(sources: SettingsSource[]): ExportSettings {
  const pick = <K extends keyof RawSettings>(key: K): { value: RawSettings[K]; src: SettingsSource } | null => {
    for (const src of sources) if (src.raw[key] !== undefined) return { value: src.raw[key], src };
    return null;
  };
  const listenPick = pick('listen');
  let listen: ListenAddress;
  try {
    listen = parseListen(listenPick?.value ?? DEFAULT_LISTEN);
  } catch (err) {
    throw listenPick!.src.error(`${listenPick!.src.name('listen')}: ${(err as Error).message}`);
  }
  const intervalPick = pick('minInterval');
  let minIntervalMs: number;
  try {
    minIntervalMs = parseDurationMs(intervalPick?.value ?? DEFAULT_MIN_INTERVAL);
  } catch (err) {
    if (!(err instanceof DurationError)) throw err;
    throw intervalPick!.src.error(`${intervalPick!.src.name('minInterval')}: ${err.message}`);
  }
  const cgroupsPick = pick('cgroups');
  const cgroups = cgroupsPick?.value ?? 'all';
  if (cgroups !== 'all' && cgroups !== 'default') {
    throw cgroupsPick!.src.error(`${cgroupsPick!.src.name('cgroups')}: '${cgroups}' is not 'all' or 'default'`);
  }
  const filterPick = pick('filter');
  let filter: RegExp | null = null;
  if (filterPick) {
    try {
      filter = filterRegex(filterPick.value!);
    } catch (err) {
      throw filterPick.src.error(
        `${filterPick.src.name('filter')}: '${filterPick.value}' is not a regular expression (${(err as Error).message})`,
      );
    }
  }
  const labelsPick = pick('containerLabels');
  let containerLabels = ALL_CONTAINER_LABELS;
  if (labelsPick) {
    try {
      containerLabels = parseContainerLabelPolicy(labelsPick.value!);
    } catch (err) {
      throw labelsPick.src.error(`${labelsPick.src.name('containerLabels')}: ${(err as Error).message}`);
    }
  }
  const duration = (key: 'headerTimeout' | 'requestTimeout', fallback: number): number => {
    const p = pick(key);
    if (!p) return fallback;
    let ms: number;
    try {
      ms = parseDurationMs(p.value!);
    } catch (err) {
      if (!(err instanceof DurationError)) throw err;
      throw p.src.error(`${p.src.name(key)}: ${err.message}`);
    }
    if (ms < 100) throw p.src.error(`${p.src.name(key)}: '${p.value}' is shorter than 100ms`);
    return ms;
  };
  const count = (key: 'maxConnections' | 'maxRequestsInFlight', fallback: number): number => {
    const p = pick(key);
    if (!p) return fallback;
    if (!/^\d{1,7}$/.test(p.value!.trim()) || Number(p.value) < 1) {
      throw p.src.error(`${p.src.name(key)}: '${p.value}' is not a whole number from 1 to 9999999`);
    }
    return Number(p.value);
  };
  const limits: ServerLimits = {
    headerTimeoutMs: duration('headerTimeout', DEFAULT_SERVER_LIMITS.headerTimeoutMs),
    requestTimeoutMs: duration('requestTimeout', DEFAULT_SERVER_LIMITS.requestTimeoutMs),
    maxConnections: count('maxConnections', DEFAULT_SERVER_LIMITS.maxConnections),
    maxRequestsInFlight: count('maxRequestsInFlight', DEFAULT_SERVER_LIMITS.maxRequestsInFlight),
  };
  if (limits.requestTimeoutMs < limits.headerTimeoutMs) {
    const p = pick('requestTimeout') ?? pick('headerTimeout')!;
    throw p.src.error(
      `the request timeout (${limits.requestTimeoutMs} ms) is shorter than the header timeout (${limits.headerTimeoutMs} ms)`,
    );
  }
  return {
    limits,
    listen,
    minIntervalMs,
    webConfigFile: pick('webConfig')?.value ?? null,
    cgroups,
    filter,
    watch: pick('watch')?.value ?? true,
    containerLabels,
  };
}
