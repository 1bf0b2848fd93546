// `tstop export --enable-write-api --token-file F`: mounts the limiter's
// request handling (src/limiter/http.ts) at POST /api/v1/containers/<ref>/limits.
// Off by default; 401 without the token, checked before the body is read.

import type http from 'node:http';
import {
  authorized,
  BodyTooLargeError,
  DEFAULT_MAX_BODY_BYTES,
  handleLimitRequest,
  readBody,
} from '../limiter/http.js';
import type { Limiter } from '../limiter/api.js';
import type { ApiHandler } from './server.js';

export function writeApiHandler(limiter: Limiter, token: string): ApiHandler {
  const api = { limiter, token, maxBodyBytes: DEFAULT_MAX_BODY_BYTES };
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const send = (status: number, headers: Record<string, string>, body: string): true => {
      res.writeHead(status, headers);
      res.end(body);
      return true;
    };
    const json = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
    if (!authorized(req.headers, token)) {
      req.resume();
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
}
