// A Limiter that changes another host's limits through its exporter's write
// API (POST /api/v1/containers/<ref>/limits, src/limiter/http.ts): plan() is
// a dry run there, apply() sends the same request for real, so the node
// plans against its own cgroups, applies, and audits the change with the
// token's name and our address. `tstop limit --remote URL` and the fleet
// dashboard's `l` use it. Every failure is one LimitError line naming the
// node and what to check; freeze and signals are not in the write API.

import fs from 'node:fs';
import { bodySnippet, httpRequest, HttpRequestError, type HttpProblem } from '../util/http-request.js';
import {
  LimitError,
  type LimitErrorReason,
  type LimitOptions,
  type LimitPlan,
  type LimitRequest,
  type LimitResult,
  type Limiter,
} from './api.js';

export const DEFAULT_REMOTE_TIMEOUT_MS = 30_000;
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export interface RemoteLimiterOptions {
  /** The node's exporter, e.g. https://node:9338 (the API path is added). */
  url: string;
  token: string;
  /** PEM CA bundle to trust for https. */
  ca?: Buffer;
  timeoutMs?: number;
  /** How the user names the token and CA options (messages point at them). */
  flags?: { token: string; ca: string };
}

/** Checks a write API base URL: http(s), no credentials, query or fragment. */
export function parseRemoteUrl(text: string, flag = '--remote'): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new LimitError(`${flag}: '${text}' is not a URL (e.g. https://node:9338)`, 2, 'invalid');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new LimitError(`${flag}: '${text}' is not an http or https URL`, 2, 'invalid');
  }
  if (u.username || u.password) throw new LimitError(`${flag}: put the token in a file, not in the URL`, 2, 'invalid');
  if (u.search || u.hash) throw new LimitError(`${flag}: '${text}' must not have a query or fragment`, 2, 'invalid');
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}

/** Reads a client token file: its first non-empty line, one word. */
export function readTokenFile(file: string, flag = '--token-file'): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new LimitError(`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`, 2, 'invalid');
  }
  const token =
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '' && !l.startsWith('#')) ?? '';
  if (!token) throw new LimitError(`${flag}: ${file} is empty`, 2, 'invalid');
  if (/\s/.test(token))
    throw new LimitError(`${flag}: the first line of ${file} must be the token alone`, 2, 'invalid');
  return token;
}

/** The HTTP status of the API's own refusals → the limiter's reason and exit code. */
const REFUSALS: Record<number, { reason: LimitErrorReason; exitCode: number }> = {
  400: { reason: 'invalid', exitCode: 2 },
  403: { reason: 'refused', exitCode: 2 },
  404: { reason: 'not-found', exitCode: 2 },
  409: { reason: 'conflict', exitCode: 2 },
  413: { reason: 'invalid', exitCode: 2 },
  415: { reason: 'invalid', exitCode: 2 },
  500: { reason: 'failed', exitCode: 1 },
};

interface Sent {
  ref: string;
  request: LimitRequest;
  options: LimitOptions;
}

export class RemoteLimiter implements Limiter {
  readonly base: URL;
  private readonly flags: { token: string; ca: string };
  /** What each plan came from: apply() sends the same request for real. */
  private readonly sent = new WeakMap<LimitPlan, Sent>();

  constructor(private readonly options: RemoteLimiterOptions) {
    this.base = parseRemoteUrl(options.url);
    this.flags = options.flags ?? { token: '--token-file', ca: '--remote-ca-file' };
  }

  /** The node as shown in messages. */
  get label(): string {
    return this.base.href.replace(/\/$/, '');
  }

  async plan(ref: string, request: LimitRequest, options: LimitOptions = {}): Promise<LimitPlan> {
    const reply = (await this.post(ref, request, options, true)) as LimitPlan & { dryRun?: boolean };
    const plan: LimitPlan = {
      ...(reply.action ? { action: reply.action } : {}),
      container: reply.container,
      writes: reply.writes ?? [],
      notes: reply.notes ?? [],
    };
    if (!plan.container || !Array.isArray(plan.writes)) throw this.notAnApi(200, JSON.stringify(reply));
    this.sent.set(plan, { ref, request, options });
    return plan;
  }

  async apply(plan: LimitPlan): Promise<LimitResult> {
    const sent = this.sent.get(plan);
    if (!sent) throw new LimitError(`${this.label}: this plan was not made by this node's write API`, 1, 'failed');
    const reply = (await this.post(sent.ref, sent.request, sent.options, false)) as Partial<LimitResult> & {
      changeId?: string | null;
    };
    if (reply.changeId === null) {
      throw new LimitError(`${this.label}: nothing was changed: the values were set in the meantime`, 1, 'conflict');
    }
    if (typeof reply.changeId !== 'string' || !Array.isArray(reply.writes)) {
      throw this.notAnApi(200, JSON.stringify(reply));
    }
    return { changeId: reply.changeId, writes: reply.writes, notes: reply.notes ?? [] };
  }

  setFrozen(): Promise<LimitResult> {
    return Promise.reject(this.notInApi('freeze and thaw'));
  }

  kill(): Promise<LimitResult> {
    return Promise.reject(this.notInApi('signals'));
  }

  private notInApi(what: string): LimitError {
    return new LimitError(
      `the write API of ${this.label} changes limits only; for ${what} run tstop on that host`,
      2,
      'refused',
    );
  }

  private notAnApi(status: number, text: string): LimitError {
    return new LimitError(
      `${this.label} has no tstop write API (HTTP ${status}, ${bodySnippet(text)}): start \`tstop export --enable-write-api\` there`,
      2,
      'refused',
    );
  }

  private async post(ref: string, request: LimitRequest, options: LimitOptions, dryRun: boolean): Promise<unknown> {
    const url = new URL(`api/v1/containers/${encodeURIComponent(ref)}/limits`, this.base);
    const body: Record<string, unknown> = { ...request };
    if (options.force) body.force = true;
    if (options.allowSystem) body.allowSystem = true;
    if (dryRun) body.dryRun = true;
    let status: number;
    let text: string;
    try {
      ({ status, text } = await httpRequest(url, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${this.options.token}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body: JSON.stringify(body),
        ca: this.options.ca,
        timeoutMs: this.options.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS,
        maxResponseBytes: MAX_RESPONSE_BYTES,
      }));
    } catch (err) {
      if (err instanceof HttpRequestError) throw new LimitError(this.problemMessage(err.problem), 1, 'failed');
      throw err;
    }
    if (status === 401) {
      throw new LimitError(`${this.label} refused the token (HTTP 401): check ${this.flags.token}`, 2, 'refused');
    }
    let reply: { error?: unknown } | null = null;
    try {
      reply = JSON.parse(text) as { error?: unknown };
    } catch {
      throw this.notAnApi(status, text);
    }
    if (status === 200 && reply && typeof reply === 'object') return reply;
    const refusal = REFUSALS[status];
    if (!refusal || !reply || typeof reply.error !== 'string') throw this.notAnApi(status, text);
    const what = status === 403 ? ` refused the change (HTTP 403):` : `:`;
    throw new LimitError(`${this.label}${what} ${reply.error}`, refusal.exitCode, refusal.reason);
  }

  private problemMessage(p: HttpProblem): string {
    const label = this.label;
    switch (p.kind) {
      case 'timeout':
        return `${label} did not answer within ${this.options.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS} ms`;
      case 'too-large':
        return `${label}: the answer is larger than ${MAX_RESPONSE_BYTES} bytes`;
      case 'broken':
        return `${label}: the answer broke off (${p.detail})`;
      case 'refused':
        return `${label} is unreachable: connection refused (is \`tstop export --enable-write-api\` running there?)`;
      case 'dns':
        return `${label} is unreachable: the host name does not resolve`;
      case 'route':
        return `${label} is unreachable: no route to the host`;
      case 'tls':
        return `${label}: the TLS certificate is not trusted (${p.code}): pass its CA with ${this.flags.ca}`;
      default:
        return `${label} is unreachable (${p.code || p.detail})`;
    }
  }
}
