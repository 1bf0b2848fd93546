// The HTTP write API's request handling, for `tstop export --enable-write-api
// --token-file F` to mount at POST /api/v1/containers/<ref>/limits. Kept
// free of any server so it is tested on its own:
//
//   const api = { limiter, token: loadToken(file) };
//   if (!authorized(req.headers, api.token)) → 401 before reading the body
//   const body = await readBody(req, api.maxBodyBytes)  (413 past the limit)
//   const res = await handleLimitRequest({ method, url, headers, body, remoteAddress }, api)
//   res.status, res.headers, res.body
//
// The body is JSON with the LimitRequest fields (camelCase docker flag
// names; numbers accepted where docker's API has numbers) and the options
// force, allowSystem and dryRun. Every change is audited with via 'http' and
// the remote address. There is no interactive confirmation: dryRun shows
// the plan.

import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { LimitError, type LimitErrorReason, type LimitRequest, type Limiter } from './api.js';
import { LIST_KEYS, REQUEST_KEYS } from './fields.js';

export const LIMITS_PATH = /^\/api\/v1\/containers\/([^/?#]+)\/limits$/;
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;
export const MIN_TOKEN_LENGTH = 16;

/** Token name → token. */
export type Tokens = ReadonlyMap<string, string>;
/** The name a single-token file's token goes by in audit records. */
export const DEFAULT_TOKEN_NAME = 'default';

export interface WriteApiOptions {
  limiter: Limiter;
  /** The secret(s) callers must present as "Authorization: Bearer <token>"; a string is named "default". */
  token: string | Tokens;
  maxBodyBytes?: number;
  /** Server-side policy (--write-api-allow-system, --write-api-force): without it a request cannot ask for either. */
  allowSystem?: boolean;
  force?: boolean;
}

export interface LimitHttpRequest {
  method: string;
  /** Path and query as received ("/api/v1/containers/web/limits"). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer | string;
  remoteAddress: string | undefined;
}

export interface LimitHttpResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON text. */
  body: string;
}

const STATUS_OF: Record<LimitErrorReason, number> = {
  invalid: 400,
  refused: 403,
  'not-found': 404,
  ambiguous: 409,
  conflict: 409,
  failed: 500,
};

function respond(status: number, body: unknown, headers: Record<string, string> = {}): LimitHttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body) + '\n',
  };
}

function error(status: number, message: string, headers: Record<string, string> = {}): LimitHttpResponse {
  return respond(status, { error: message }, headers);
}

function header(headers: LimitHttpRequest['headers'], name: string): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Constant-time comparison: both sides hashed to equal length, then timingSafeEqual. */
export function tokenMatches(expected: string, given: string): boolean {
  const a = crypto.createHash('sha256').update(expected).digest();
  const b = crypto.createHash('sha256').update(given).digest();
  return crypto.timingSafeEqual(a, b) && expected.length > 0;
}

function asTokens(token: string | Tokens): Tokens {
  return typeof token === 'string' ? new Map([[DEFAULT_TOKEN_NAME, token]]) : token;
}

/**
 * The name of the token the headers carry as "Authorization: Bearer <token>",
 * or null. Every token is compared (constant time each), so the time taken
 * does not tell which one came close.
 */
export function tokenName(headers: LimitHttpRequest['headers'], token: string | Tokens): string | null {
  const m = /^Bearer +(\S+) *$/i.exec(header(headers, 'authorization') ?? '');
  let found: string | null = null;
  for (const [name, expected] of asTokens(token)) {
    if (tokenMatches(expected, m ? m[1] : '') && found === null) found = name;
  }
  return found;
}

/** Whether the headers carry "Authorization: Bearer <token>" with a right token. */
export function authorized(headers: LimitHttpRequest['headers'], token: string | Tokens): boolean {
  return tokenName(headers, token) !== null;
}

/**
 * Reads the token file: the first line, trimmed; at least 16 characters;
 * the file must not be readable by group or others.
 */
export function loadToken(file: string): string {
  const tokens = loadTokens(file);
  return tokens.get(DEFAULT_TOKEN_NAME) ?? [...tokens.values()][0];
}

const NAMED_TOKEN = /^([A-Za-z0-9_.@-]{1,64}):\s+(\S+)$/;

/**
 * Reads a token file in either form: one token on the first line (named
 * "default"), or one `name: token` per line (blank lines and # comments
 * allowed). Each token one word of 16+ characters, no two alike; the file
 * private (not readable by group or others).
 */
export function loadTokens(file: string): Map<string, string> {
  let st: fs.Stats;
  let text: string;
  try {
    st = fs.statSync(file);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new LimitError(`cannot read the token file ${file}: ${(err as Error).message}`, 2, 'invalid');
  }
  if (!st.isFile()) throw new LimitError(`the token file ${file} is not a regular file`, 2, 'invalid');
  if ((st.mode & 0o077) !== 0) {
    throw new LimitError(`the token file ${file} is readable by group or others (chmod 600 ${file})`, 2, 'invalid');
  }
  const weak = (where: string): LimitError =>
    new LimitError(
      `the token ${where}in ${file} must be one word of at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 32)`,
      2,
      'invalid',
    );
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length > 0 && lines.every((l) => NAMED_TOKEN.test(l))) {
    const tokens = new Map<string, string>();
    const seen = new Set<string>();
    lines.forEach((line, i) => {
      const [, name, token] = NAMED_TOKEN.exec(line)!;
      if (token.length < MIN_TOKEN_LENGTH) throw weak(`'${name}' `);
      if (tokens.has(name)) throw new LimitError(`the token file ${file} names '${name}' twice`, 2, 'invalid');
      if (seen.has(token)) {
        throw new LimitError(
          `the token file ${file} gives '${name}' (line ${i + 1}) a token already used`,
          2,
          'invalid',
        );
      }
      tokens.set(name, token);
      seen.add(token);
    });
    return tokens;
  }
  const token = (text.split('\n')[0] ?? '').trim();
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) throw weak('');
  return new Map([[DEFAULT_TOKEN_NAME, token]]);
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

/** Reads a request body, failing as soon as it passes maxBytes (the rest is not buffered). */
export function readBody(stream: Readable, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer | string): void => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += b.length;
      if (size > maxBytes) {
        stream.off('data', onData);
        stream.resume();
        reject(new BodyTooLargeError(maxBytes));
        return;
      }
      chunks.push(b);
    };
    stream.on('data', onData);
    stream.once('end', () => {
      if (size <= maxBytes) resolve(Buffer.concat(chunks));
    });
    stream.once('error', reject);
  });
}

interface ParsedBody {
  request: LimitRequest;
  force: boolean;
  allowSystem: boolean;
  dryRun: boolean;
}

const OPTION_KEYS = ['force', 'allowSystem', 'dryRun'] as const;
/** Options a request may set only when the server's flag allows them. */
const SERVER_POLICY = [
  ['allowSystem', '--write-api-allow-system'],
  ['force', '--write-api-force'],
] as const;

/** The JSON body to a LimitRequest; throws a message for a 400. */
export function parseLimitBody(text: string): ParsedBody {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new LimitError(`the body is not JSON: ${(err as Error).message}`, 2, 'invalid');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw new LimitError('the body must be a JSON object such as {"memory": "512m"}', 2, 'invalid');
  }
  const body = v as Record<string, unknown>;
  const out: ParsedBody = { request: {}, force: false, allowSystem: false, dryRun: false };
  for (const [key, value] of Object.entries(body)) {
    if ((OPTION_KEYS as readonly string[]).includes(key)) {
      if (typeof value !== 'boolean') throw new LimitError(`field '${key}' must be true or false`, 2, 'invalid');
      out[key as (typeof OPTION_KEYS)[number]] = value;
      continue;
    }
    if (!(REQUEST_KEYS as string[]).includes(key)) {
      throw new LimitError(
        `unknown field ${JSON.stringify(key).slice(0, 80)} (fields: ${[...REQUEST_KEYS, ...OPTION_KEYS].join(', ')})`,
        2,
        'invalid',
      );
    }
    const k = key as keyof LimitRequest;
    if (LIST_KEYS.includes(k)) {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string') || list.length > 64) {
        throw new LimitError(`field '${key}' must be a string or a list of at most 64 strings`, 2, 'invalid');
      }
      (out.request as Record<string, string[]>)[k] = list;
    } else if (typeof value === 'string') {
      (out.request as Record<string, string>)[k] = value;
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      (out.request as Record<string, string>)[k] = String(value);
    } else {
      throw new LimitError(`field '${key}' must be a string or a number`, 2, 'invalid');
    }
  }
  return out;
}

/** Handles one request to the limits endpoint; never throws. */
export async function handleLimitRequest(req: LimitHttpRequest, api: WriteApiOptions): Promise<LimitHttpResponse> {
  const pathname = req.url.split('?')[0];
  const m = LIMITS_PATH.exec(pathname);
  if (!m) return error(404, 'not found: POST /api/v1/containers/<container>/limits');
  if (req.method !== 'POST') return error(405, 'method not allowed: use POST', { allow: 'POST' });
  const caller = tokenName(req.headers, api.token);
  if (caller === null) {
    return error(401, 'missing or wrong token: send "Authorization: Bearer <token>"', {
      'www-authenticate': 'Bearer realm="tstop"',
    });
  }
  const max = api.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const body = typeof req.body === 'string' ? Buffer.from(req.body) : req.body;
  if (body.length > max) return error(413, `request body larger than ${max} bytes`);
  const type = (header(req.headers, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') return error(415, 'send the body as application/json');
  let ref: string;
  try {
    ref = decodeURIComponent(m[1]);
  } catch {
    return error(400, 'the container in the path is not valid percent-encoding');
  }
  try {
    const parsed = parseLimitBody(body.toString('utf8'));
    // A request may ask for force or allowSystem only where the server allows it.
    for (const [option, flag] of SERVER_POLICY) {
      if (parsed[option] && !api[option]) {
        return error(403, `${option} is not allowed by this server (it is started without ${flag})`);
      }
    }
    const plan = await api.limiter.plan(ref, parsed.request, { force: parsed.force, allowSystem: parsed.allowSystem });
    if (parsed.dryRun) return respond(200, { dryRun: true, ...plan });
    if (plan.writes.length === 0) return respond(200, { changeId: null, ...plan });
    const result = await api.limiter.apply(plan, {
      via: 'http',
      remoteAddress: req.remoteAddress ?? 'unknown',
      tokenName: caller,
    });
    return respond(200, { ...result, container: plan.container });
  } catch (err) {
    if (err instanceof LimitError) return error(STATUS_OF[err.reason], err.message);
    return error(500, 'internal error (see the exporter log)');
  }
}
