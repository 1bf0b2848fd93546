// `tstop export --enable-write-api --token-file F`: mounts the limiter's
// request handling (src/limiter/http.ts) at POST /api/v1/containers/<ref>/limits.
// Off by default; 401 without a token, checked before the body is read.
// Failed authentications are counted (tstop_write_api_auth_failures_total)
// and logged at most once per LOG_EVERY_MS, so a flood cannot fill the log.

import type http from 'node:http';
import { Counter } from './prom.js';
import {
  BodyTooLargeError,
  DEFAULT_MAX_BODY_BYTES,
  handleLimitRequest,
  readBody,
  tokenName,
  type Tokens,
} from '../limiter/http.js';
import type { Limiter } from '../limiter/api.js';
import type { ApiHandler } from './server.js';

const LOG_EVERY_MS = 10_000;

export interface WriteApiPolicy {
  /** --write-api-allow-system: requests may set allowSystem. */
  allowSystem: boolean;
  /** --write-api-force: requests may set force. */
  force: boolean;
}

export interface WriteApi {
  handler: ApiHandler;
  /** For the exporter's registry. */
  authFailures: Counter;
}

export function writeApiHandler(
  limiter: Limiter,
  tokens: string | Tokens,
  policy: WriteApiPolicy = { allowSystem: false, force: false },
  log: (line: string) => void = (line) => process.stderr.write(line),
): WriteApi {
  const api = { limiter, token: tokens, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, ...policy };
  const authFailures = new Counter({
    name: 'tstop_write_api_auth_failures_total',
    help: 'Write API requests refused for a missing or wrong bearer token.',
    registers: [],
  });
  let unreported = 0;
  let reportedAt = -Infinity;
  const failed = (remoteAddress: string): void => {
    authFailures.inc();
    unreported++;
    const now = performance.now();
    if (now - reportedAt < LOG_EVERY_MS) return;
    log(
      `tstop export: write API: ${unreported} failed authentication${unreported === 1 ? '' : 's'} ` +
        `since the last report (latest from ${remoteAddress})\n`,
    );
    unreported = 0;
    reportedAt = now;
  };
  const handler = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const send = (status: number, headers: Record<string, string>, body: string): true => {
      res.writeHead(status, headers);
      res.end(body);
      return true;
    };
    const json = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
    if (tokenName(req.headers, tokens) === null) {
      req.resume();
      failed(req.socket.remoteAddress ?? 'unknown');
      return send(
        401,
        { ...json, 'www-authenticate': 'Bearer' },
        JSON.stringify({ error: 'missing or wrong token' }) + '\n',
      );
    }
    let body: Buffer;
    try {
      body = await readBody(req, api.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        return send(413, json, JSON.stringify({ error: `body larger than ${api.maxBodyBytes} bytes` }) + '\n');
      }
      throw err;
    }
    const r = await handleLimitRequest(
      {
        method: req.method ?? '',
        url: req.url ?? '/',
        headers: req.headers,
        body,
        remoteAddress: req.socket.remoteAddress,
      },
      api,
    );
    return send(r.status, r.headers, r.body);
  };
  return { handler, authFailures };
}
