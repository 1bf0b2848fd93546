// One HTTP(S) request with what tstop's clients (the Prometheus API, a
// node's write API) each need as one option: a CA file, a per-request
// timeout and a hard cap on the response size. node:http(s) rather than
// fetch, which has none of the three without extra dispatchers. Failures are
// an HttpRequestError whose `problem` a caller turns into its own message.

import http from 'node:http';
import https from 'node:https';

export interface HttpRequestOptions {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** PEM CA bundle for https. */
  ca?: Buffer;
  /** Connect to last byte. */
  timeoutMs: number;
  maxResponseBytes: number;
}

export interface HttpResponse {
  status: number;
  text: string;
}

/** Why a request got no (whole) answer. */
export type HttpProblem =
  | { kind: 'timeout' }
  | { kind: 'too-large' }
  | { kind: 'broken'; detail: string }
  /** Connecting failed: refused, no route, DNS, or the TLS handshake (kind 'tls'). */
  | { kind: 'refused' | 'dns' | 'route' | 'other'; code: string; detail: string }
  | { kind: 'tls'; code: string; detail: string };

export class HttpRequestError extends Error {
  constructor(readonly problem: HttpProblem) {
    super(problem.kind);
  }
}

function connectProblem(err: NodeJS.ErrnoException): HttpProblem {
  const code = err.code ?? '';
  const detail = err.message;
  if (code === 'ECONNREFUSED') return { kind: 'refused', code, detail };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'dns', code, detail };
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return { kind: 'route', code, detail };
  // Certificate problems only: a TLS handshake with a plain-http server is 'other' (ERR_SSL_WRONG_VERSION_NUMBER).
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return { kind: 'tls', code, detail };
  return { kind: 'other', code, detail };
}

/** Sends one request (no keep-alive); resolves with any HTTP status, rejects with an HttpRequestError. */
export function httpRequest(url: URL, options: HttpRequestOptions): Promise<HttpResponse> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (problem: HttpProblem): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(new HttpRequestError(problem));
    };
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(options.body));
    const req = mod.request(
      url,
      { method: options.method, headers, ...(options.ca ? { ca: options.ca } : {}), agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxResponseBytes) return fail({ kind: 'too-large' });
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (err) => fail({ kind: 'broken', detail: err.message }));
      },
    );
    const timer = setTimeout(() => fail({ kind: 'timeout' }), options.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => fail(connectProblem(err)));
    req.end(options.body);
  });
}

/** A short, printable piece of a response body for an error message. */
export function bodySnippet(text: string): string {
  const s = text.replace(/\s+/g, ' ').trim().slice(0, 60);
  return s ? `'${s.replace(/[^\x20-\x7e]/g, '?')}'` : 'an empty body';
}
