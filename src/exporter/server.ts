// The HTTP(S) server of `tstop export`: /metrics, /healthz and an index page,
// GET and HEAD only (anything else 405), optional TLS and basic/bearer auth
// from the web config. Write access is not here: the limiter's remote API
// (`--enable-write-api`) plugs in through `apiHandler`, which sees requests
// under /api/ first and checks its own token.

import type { ContainerLabelPolicy } from './container-labels.js';
import fs from 'node:fs';
import http from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { loadHttps } from '../util/lazy-builtins.js';
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from './prom.js';
import type { ContainerSnapshot, SnapshotSource } from '../model/types.js';
import { SharedCollection } from './collection.js';
import { DEFAULT_SERVER_LIMITS, formatListen, type ListenAddress, type ServerLimits } from './config.js';
import { ExportStartupError } from './errors.js';
import { Authenticator, type AuthVerdict, type WebConfig } from './web-config.js';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Handles a request under /api/ (e.g. the limiter's POST endpoint). Return
 * true when it answered; false lets the exporter answer (405 or 404).
 */
export type ApiHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;

export interface ExporterOptions {
  source: SnapshotSource;
  listen: ListenAddress;
  minIntervalMs: number;
  /** Slow and surplus clients (defaults: DEFAULT_SERVER_LIMITS). */
  limits?: ServerLimits;
  select: (c: ContainerSnapshot) => boolean;
  /** Which runtime labels become container_label_* (default: all). */
  containerLabels?: ContainerLabelPolicy;
  webConfig?: WebConfig | null;
  apiHandler?: ApiHandler;
  /** More metrics for /metrics (e.g. the write API's failure counter). */
  metrics?: Metric[];
  /** More exposition text at each collection (the agent families, agent-families.ts). */
  extraText?: () => string;
  version?: string;
  /** Text for the index page, e.g. what is exported. */
  description?: string;
  /** Collect ahead of steady scrapes (SharedCollection's collectAhead); on unless false. */
  collectAhead?: boolean;
}

export interface Exporter {
  server: http.Server;
  collection: SharedCollection;
  registry: Registry;
  /** The bound address (port resolved when 0 was asked). */
  address: ListenAddress;
  url: string;
  /**
   * Takes a re-read web config (SIGHUP): certificates, users, token and
   * headers. Throws (keeping the old one) for what needs a restart: turning
   * TLS on or off, or another client_auth_type.
   */
  reload(webConfig: WebConfig | null): void;
  close(): Promise<void>;
}

/** Whether Accept-Encoding asks for gzip (q > 0, or "*"). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (!header) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  for (const part of text.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (!q || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/**
 * The path of a request target in origin form ("/metrics?x" → "/metrics"),
 * or null for anything else ("//host/x", "*", "http://…", control characters):
 * those get 400, never a URL parser's error.
 */
export function requestPath(target: string | undefined): string | null {
  if (!target || !target.startsWith('/') || target.startsWith('//')) return null;
  if (/[\x00-\x20\x7f]/.test(target)) return null;
  return target.split(/[?#]/)[0];
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function indexPage(version: string, description: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>tstop exporter</title></head>
<body>
<h1>tstop exporter</h1>
<p>cAdvisor-compatible container metrics from the cgroups of this host${version ? ` (tstop ${escapeHtml(version)})` : ''}.</p>
<p>${escapeHtml(description)}</p>
<ul>
<li><a href="metrics">/metrics</a>: Prometheus text format 0.0.4</li>
<li><a href="healthz">/healthz</a>: liveness</li>
</ul>
</body></html>
`;
}

/** prom-client default metrics that `promtool check metrics` flags (gauges named *_total). */
export const PROMLINT_OFFENDERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * This process's open descriptors without listing them: since Linux 6.2 the
 * size stat gives for /proc/PID/fd is their count (fs/proc/fd.c,
 * proc_fd_getattr: "proc: report open files as size in stat() for
 * /proc/pid/fd"), ~15 us where the readdir takes ~17 ms at 12,000
 * descriptors. null where the size is 0 (older kernels) or /proc is not
 * there. Unlike a readdir's count, it does not count the directory's own descriptor.
 */
export function openFdCount(): number | null {
  try {
    const size = fs.statSync('/proc/self/fd').size;
    return size > 0 ? size : null;
  } catch {
    return null;
  }
}

function registerOwnMetrics(registry: Registry, version: string) {
  collectDefaultMetrics(registry);
  // prom-client names three gauges *_total, which promtool rejects; their
  // per-type companions (nodejs_active_handles{type} and so on) stay.
  for (const name of PROMLINT_OFFENDERS) registry.removeSingleMetric(name);
  // prom-client counts open descriptors with a readdir of /proc/self/fd on
  // every scrape; the collector keeps ~12 descriptors per cgroup open, so at
  // 1,000 cgroups that is ~17 ms of CPU a scrape. The size stat gives is the
  // count since Linux 6.2 (openFdCount): then at every scrape; else the
  // readdir, at most every 30 s.
  registry.removeSingleMetric('process_open_fds');
  let fdsCountedAt = -Infinity;
  new Gauge({
    name: 'process_open_fds',
    help: 'Number of open file descriptors (counted at most every 30 s).',
    registers: [registry],
    collect() {
      const counted = openFdCount();
      if (counted !== null) return void this.set(counted);
      const now = performance.now();
      if (now - fdsCountedAt < 30_000) return;
      fdsCountedAt = now;
      try {
        this.set(fs.readdirSync('/proc/self/fd').length);
      } catch {
        // not Linux /proc: leave the last value
      }
    },
  });
  const info = new Gauge({
    name: 'tstop_exporter_info',
    help: 'Information about the tstop exporter; the value is always 1.',
    labelNames: ['version'],
    registers: [registry],
  });
  info.set({ version }, 1);
  return {
    collections: new Counter({
      name: 'tstop_collections_total',
      help: 'Collections made (scrapes within the minimum interval share one).',
      registers: [registry],
    }),
    duration: new Gauge({
      name: 'tstop_collect_duration_seconds',
      help: 'Wall-clock duration of the most recent collection cycle.',
      registers: [registry],
    }),
    scanned: new Gauge({
      name: 'tstop_cgroups_scanned',
      help: 'Number of cgroups visited during the most recent collection cycle.',
      registers: [registry],
    }),
    exported: new Gauge({
      name: 'tstop_cgroups_exported',
      help: 'Number of cgroups in the most recent exposition (after the --cgroups and --filter selection).',
      registers: [registry],
    }),
    scrapes: new Counter({
      name: 'tstop_scrapes_total',
      help: 'Requests for /metrics answered.',
      registers: [registry],
    }),
  };
}

/** What a request that did not authenticate gets, by verdict. */
const AUTH_REFUSALS: Record<
  Exclude<AuthVerdict, 'ok'>,
  { status: number; headers: Record<string, string>; body: string }
> = {
  denied: { status: 401, headers: {}, body: 'Unauthorized\n' },
  limited: { status: 429, headers: { 'Retry-After': '10' }, body: 'Too many failed authentications\n' },
  busy: { status: 503, headers: { 'Retry-After': '1' }, body: 'Too many authentications in progress\n' },
};

export async function startExporter(options: ExporterOptions): Promise<Exporter> {
  const version = options.version ?? '';
  const registry = new Registry();
  const own = registerOwnMetrics(registry, version);
  for (const metric of options.metrics ?? []) registry.registerMetric(metric);
  const collection = new SharedCollection({
    source: options.source,
    minIntervalMs: options.minIntervalMs,
    select: options.select,
    containerLabels: options.containerLabels,
    onCollected: (s) => {
      own.collections.inc();
      own.duration.set(s.durationSeconds);
      own.scanned.set(s.cgroupsScanned);
      own.exported.set(s.cgroupsExported);
    },
    extra: async () => (options.extraText?.() ?? '') + (await registry.metrics()),
    collectAhead: options.collectAhead ?? true,
  });
  const auth = new Authenticator(options.webConfig ?? { users: new Map(), bearerToken: null });
  const index = indexPage(version, options.description ?? '');

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const pathname = requestPath(req.url);
    if (pathname === null) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Bad request\n');
      return;
    }
    // /healthz tells nothing but "up", so liveness probes need no credentials.
    const open = pathname === '/healthz' && (req.method === 'GET' || req.method === 'HEAD');
    // The write API authenticates with its own bearer token (one Authorization
    // header cannot carry both that and the web config's basic credentials).
    if (options.apiHandler && pathname.startsWith('/api/') && (await options.apiHandler(req, res))) return;
    if (!open && auth.required) {
      const verdict = await auth.check(req.headers.authorization, req.socket.remoteAddress ?? '');
      if (verdict !== 'ok') {
        const { status, headers, body } = AUTH_REFUSALS[verdict];
        res.writeHead(status, {
          ...headers,
          ...(verdict === 'denied' ? { 'WWW-Authenticate': auth.challenge } : {}),
          'Content-Type': 'text/plain; charset=utf-8',
        });
        res.end(body);
        return;
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`Method ${req.method ?? ''} not allowed: the exporter is read-only\n`);
      return;
    }
    const head = req.method === 'HEAD';
    if (pathname === '/metrics') {
      const exposition = await collection.get();
      const gzip = acceptsGzip(req.headers['accept-encoding']);
      // gzip: the compressed pieces as they are, one after the other (one writev), not joined per scrape.
      const parts = gzip ? exposition.gzip.parts : [exposition.body];
      own.scrapes.inc();
      res.writeHead(200, {
        'Content-Type': CONTENT_TYPE,
        'Content-Length': gzip ? exposition.gzip.length : exposition.body.length,
        Vary: 'Accept-Encoding',
        ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      });
      if (!head) {
        res.cork();
        for (const part of parts) res.write(part);
      }
      res.end();
      return;
    }
    if (pathname === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(head ? undefined : 'ok\n');
      return;
    }
    if (pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(head ? undefined : index);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(head ? undefined : 'Not found: see / for the endpoints\n');
  };

  const limits = options.limits ?? DEFAULT_SERVER_LIMITS;
  let webConfig = options.webConfig ?? null;
  let inFlight = 0;
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    for (const [name, value] of Object.entries(webConfig?.headers ?? {})) res.setHeader(name, value);
    // /healthz is cheap and must keep answering probes under load.
    const counted = !(req.url ?? '').startsWith('/healthz');
    if (counted && inFlight >= limits.maxRequestsInFlight) {
      req.resume();
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' });
      res.end(`Too many requests in flight (limit ${limits.maxRequestsInFlight})\n`);
      return;
    }
    if (counted) {
      inFlight++;
      res.once('close', () => inFlight--);
    }
    handle(req, res).catch((err: unknown) => {
      // The details go to the log only: a body would tell any client about the internals.
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`tstop export: ${req.method} ${JSON.stringify(req.url)}: ${message}\n`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Internal error (see the exporter log)\n');
    });
  };

  const tls = options.webConfig?.tls ?? null;
  const timeouts: http.ServerOptions = {
    headersTimeout: limits.headerTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks the two timeouts only this often (30 s by default).
    connectionsCheckingInterval: Math.min(1000, Math.ceil(limits.headerTimeoutMs / 4)),
  };
  const server: http.Server = tls
    ? loadHttps().createServer(
        {
          ...timeouts,
          // A client that never finishes the TLS handshake is slow headers too.
          handshakeTimeout: limits.headerTimeoutMs,
          cert: tls.cert,
          key: tls.key,
          ...(tls.ca ? { ca: tls.ca } : {}),
          requestCert: tls.requestCert,
          rejectUnauthorized: tls.rejectUnauthorized,
          minVersion: tls.minVersion,
        },
        listener,
      )
    : http.createServer(timeouts, listener);
  server.maxConnections = limits.maxConnections;
  if (tls) {
    // Node's rejectUnauthorized is all or nothing; Go's VerifyClientCertIfGiven
    // takes no certificate but refuses one its CA did not sign.
    server.on('secureConnection', (socket: TLSSocket) => {
      if (webConfig?.clientAuthType !== 'VerifyClientCertIfGiven' || socket.authorized) return;
      if (Object.keys(socket.getPeerCertificate()).length > 0) socket.destroy();
    });
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(listenError(err, options.listen));
    server.once('error', onError);
    server.listen({ port: options.listen.port, host: options.listen.host ?? undefined }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const address: ListenAddress = { host: options.listen.host, port: bound.port };
  const urlHost =
    options.listen.host === null ? 'localhost' : bound.address.includes(':') ? `[${bound.address}]` : bound.address;
  return {
    server,
    collection,
    registry,
    address,
    url: `${tls ? 'https' : 'http'}://${urlHost}:${bound.port}/`,
    reload(next: WebConfig | null): void {
      const nextTls = next?.tls ?? null;
      if (!!nextTls !== !!tls) {
        throw new ExportStartupError(`turning TLS ${nextTls ? 'on' : 'off'} needs a restart`);
      }
      if (nextTls && (next?.clientAuthType ?? null) !== (webConfig?.clientAuthType ?? null)) {
        throw new ExportStartupError('another tls_server_config.client_auth_type needs a restart');
      }
      if (nextTls) {
        (server as https.Server).setSecureContext({
          cert: nextTls.cert,
          key: nextTls.key,
          ...(nextTls.ca ? { ca: nextTls.ca } : {}),
          minVersion: nextTls.minVersion,
        });
      }
      auth.update(next ?? { users: new Map(), bearerToken: null });
      webConfig = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        collection.close();
        auth.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listenError(err: NodeJS.ErrnoException, listen: ListenAddress): Error {
  const where = formatListen(listen);
  switch (err.code) {
    case 'EADDRINUSE':
      return new ExportStartupError(`cannot listen on ${where}: address already in use (choose another with --listen)`);
    case 'EADDRNOTAVAIL':
      return new ExportStartupError(`cannot listen on ${where}: not an address of this host`);
    case 'EACCES':
      return new ExportStartupError(`cannot listen on ${where}: permission denied`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ExportStartupError(`cannot listen on ${where}: unknown host '${listen.host}'`);
    default:
      return new ExportStartupError(`cannot listen on ${where}: ${err.message}`);
  }
}
