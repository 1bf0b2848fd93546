// A small client for the Prometheus HTTP API (/api/v1/query and
// /api/v1/query_range), as served by Prometheus, Thanos, Mimir and
// VictoriaMetrics, over src/util/http-request.ts (a CA file, a per-query
// timeout and a cap on the response size).
// Every failure is a PrometheusError whose message says what to check.

import fs from 'node:fs';
import { ExpectedError } from '../util/errors.js';
import {
  bodySnippet,
  httpRequest,
  HttpRequestError,
  type HttpProblem,
  type HttpResponse,
} from '../util/http-request.js';

export class PrometheusError extends ExpectedError {
  constructor(message: string) {
    super(message, 1);
  }
}

/** One series of an instant vector: its labels and value (NaN and ±Inf kept as numbers). */
export interface VectorSample {
  metric: Record<string, string>;
  value: number;
}

/** One series of a range query: its labels and [epoch seconds, value] points. */
export interface RangeSeries {
  metric: Record<string, string>;
  points: [number, number][];
}

export interface PrometheusClientOptions {
  /** Base URL, e.g. http://prometheus:9090 or https://mimir/prometheus. */
  url: string;
  /** Per request, connect to last byte. */
  timeoutMs?: number;
  /** Responses above this are refused (a fleet-wide query gone wrong must not eat the heap). */
  maxResponseBytes?: number;
  /** Sent with every request (Authorization for bearer and basic auth, X-Scope-OrgID ...). */
  headers?: Record<string, string>;
  /** PEM CA bundle for https. */
  ca?: Buffer;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** Parses and checks the base URL; throws a PrometheusError (exit 2) naming what is wrong. */
export function parsePrometheusUrl(text: string): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new PrometheusUsageError(`--prometheus: '${text}' is not a URL (e.g. http://prometheus:9090)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new PrometheusUsageError(`--prometheus: '${text}' is not an http or https URL`);
  }
  if (u.username || u.password) {
    throw new PrometheusUsageError(
      '--prometheus: put credentials in --prometheus-basic-auth USER:PASSWORD_FILE, not in the URL',
    );
  }
  if (u.search || u.hash) throw new PrometheusUsageError(`--prometheus: '${text}' must not have a query or fragment`);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}

export class PrometheusUsageError extends ExpectedError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Reads a credential file (token, password): trimmed, non-empty. */
export function readSecretFile(flag: string, file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new PrometheusUsageError(`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const secret = text.trim();
  if (!secret) throw new PrometheusUsageError(`${flag}: ${file} is empty`);
  return secret;
}

interface ApiReply {
  status?: string;
  data?: { resultType?: string; result?: unknown };
  errorType?: string;
  error?: string;
}

export class PrometheusClient {
  readonly base: URL;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly headers: Record<string, string>;
  private readonly ca: Buffer | undefined;
  /** Requests made (the benchmark and tests count them). */
  requests = 0;

  constructor(options: PrometheusClientOptions) {
    this.base = parsePrometheusUrl(options.url);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.headers = options.headers ?? {};
    this.ca = options.ca;
  }

  /** The base URL as shown to people (no credentials are ever in it). */
  get label(): string {
    return this.base.href.replace(/\/$/, '');
  }

  /** An instant query; `timeSeconds` evaluates it in the past. */
  async query(expr: string, timeSeconds?: number): Promise<VectorSample[]> {
    return parseVector(await this.instant(expr, timeSeconds, 'vector'));
  }

  /** An instant query of a range selector (`metric{...}[1m]`): every sample in the window, per series. */
  async queryMatrix(expr: string, timeSeconds?: number): Promise<RangeSeries[]> {
    return parseMatrix(await this.instant(expr, timeSeconds, 'matrix'));
  }

  /** The result of an instant query, which must be of `resultType`. */
  private async instant(expr: string, timeSeconds: number | undefined, resultType: 'vector' | 'matrix') {
    const params: Record<string, string> = { query: expr };
    if (timeSeconds !== undefined) params.time = String(timeSeconds);
    const data = await this.call('api/v1/query', params);
    if (data.resultType !== resultType) {
      throw new PrometheusError(`${this.label}: expected a ${resultType} from the query, got ${data.resultType}`);
    }
    return data.result;
  }

  /** A range query from start to end (epoch seconds) every stepSeconds. */
  async queryRange(
    expr: string,
    startSeconds: number,
    endSeconds: number,
    stepSeconds: number,
  ): Promise<RangeSeries[]> {
    const data = await this.call('api/v1/query_range', {
      query: expr,
      start: String(startSeconds),
      end: String(endSeconds),
      step: String(stepSeconds),
    });
    if (data.resultType !== 'matrix') {
      throw new PrometheusError(`${this.label}: expected a matrix from the range query, got ${data.resultType}`);
    }
    return parseMatrix(data.result);
  }

  private async call(
    endpoint: string,
    params: Record<string, string>,
  ): Promise<{ resultType?: string; result?: unknown }> {
    const url = new URL(endpoint, this.base);
    const body = new URLSearchParams(params).toString();
    this.requests++;
    const { status, text } = await this.post(url, body);
    if (status === 401 || status === 403) {
      throw new PrometheusError(
        `${this.label} refused the credentials (HTTP ${status}): check --prometheus-bearer-token-file or --prometheus-basic-auth`,
      );
    }
    let reply: ApiReply;
    try {
      reply = JSON.parse(text) as ApiReply;
    } catch {
      const what = status === 200 ? 'returned' : `answered HTTP ${status} with`;
      throw new PrometheusError(
        `${this.label} ${what} something that is not JSON (${bodySnippet(text)}): is this the Prometheus base URL?`,
      );
    }
    if (reply.status !== 'success' || !reply.data) {
      const why = reply.error ? `${reply.errorType ?? 'error'}: ${reply.error}` : `HTTP ${status}`;
      throw new PrometheusError(`${this.label} answered the query with an error (${why})`);
    }
    return reply.data;
  }

  private async post(url: URL, body: string): Promise<HttpResponse> {
    try {
      return await httpRequest(url, {
        method: 'POST',
        headers: {
          ...this.headers,
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
        body,
        ca: this.ca,
        timeoutMs: this.timeoutMs,
        maxResponseBytes: this.maxResponseBytes,
      });
    } catch (err) {
      if (err instanceof HttpRequestError) throw new PrometheusError(this.problemMessage(err.problem));
      throw err;
    }
  }

  private problemMessage(p: HttpProblem): string {
    const label = this.label;
    switch (p.kind) {
      case 'timeout':
        return `${label} did not answer within ${this.timeoutMs} ms (--prometheus-timeout)`;
      case 'too-large':
        return `${label}: the response is larger than ${this.maxResponseBytes} bytes; narrow it with --match or --instance`;
      case 'broken':
        return `${label}: the response broke off (${p.detail})`;
      case 'refused':
        return `${label} is unreachable: connection refused (is Prometheus running there?)`;
      case 'dns':
        return `${label} is unreachable: the host name does not resolve`;
      case 'route':
        return `${label} is unreachable: no route to the host`;
      case 'tls':
        return `${label}: the TLS certificate is not trusted (${p.code}): pass its CA with --prometheus-ca-file`;
      default:
        return `${label} is unreachable (${p.code || p.detail})`;
    }
  }
}

/** Prometheus writes sample values as strings ("1.5", "NaN", "+Inf"). */
function sampleValue(v: unknown): number {
  if (typeof v !== 'string') return NaN;
  return Number(v.replace('Inf', 'Infinity'));
}

function isPair(v: unknown): v is [number, string] {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'number';
}

function labels(m: unknown): Record<string, string> {
  return m && typeof m === 'object' ? (m as Record<string, string>) : {};
}

export function parseVector(result: unknown): VectorSample[] {
  if (!Array.isArray(result)) throw new PrometheusError('the query result is not a list');
  const out: VectorSample[] = [];
  for (const r of result as { metric?: unknown; value?: unknown }[]) {
    if (!isPair(r.value)) continue;
    out.push({ metric: labels(r.metric), value: sampleValue(r.value[1]) });
  }
  return out;
}

export function parseMatrix(result: unknown): RangeSeries[] {
  if (!Array.isArray(result)) throw new PrometheusError('the range query result is not a list');
  return (result as { metric?: unknown; values?: unknown }[]).map((r) => ({
    metric: labels(r.metric),
    points: (Array.isArray(r.values) ? r.values : [])
      .filter(isPair)
      .map((p): [number, number] => [p[0], sampleValue(p[1])]),
  }));
}
