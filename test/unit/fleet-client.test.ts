// The Prometheus client's failures against a local HTTP server that answers
// 401, HTML, an oversized body or a JSON error: each one clear line.

import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusClient, PrometheusError } from '../../src/fleet/prometheus.js';

let server: http.Server;
let base = '';
const seen: http.IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers);
    const path = req.url ?? '';
    if (path.startsWith('/auth/')) return void res.writeHead(401).end('Unauthorized\n');
    if (path.startsWith('/html/'))
      return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>hi</html>');
    if (path.startsWith('/big/')) return void res.writeHead(200).end('x'.repeat(10_000));
    if (path.startsWith('/err/')) {
      return void res
        .writeHead(400)
        .end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }));
    }
    res.writeHead(200).end(
      JSON.stringify({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: { a: 'b' }, value: [1, '+Inf'] }] },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => server.close());

const client = (
  path: string,
  extra: Partial<ConstructorParameters<typeof PrometheusClient>[0]> = {},
): PrometheusClient => new PrometheusClient({ url: base + path, timeoutMs: 5000, ...extra });

describe('PrometheusClient', () => {
  it('parses a vector and sends the configured headers', async () => {
    const r = await client('/ok', { headers: { Authorization: 'Bearer t0k' } }).query('up');
    expect(r).toEqual([{ metric: { a: 'b' }, value: Infinity }]);
    expect(seen.at(-1)!.authorization).toBe('Bearer t0k');
  });

  it('names the credentials on 401, the base URL on HTML, the cap on a big body and the server error', async () => {
    await expect(client('/auth').query('up')).rejects.toThrow(
      `${base}/auth refused the credentials (HTTP 401): check --prometheus-bearer-token-file or --prometheus-basic-auth`,
    );
    await expect(client('/html').query('up')).rejects.toThrow(
      `${base}/html returned something that is not JSON ('<html>hi</html>'): is this the Prometheus base URL?`,
    );
    await expect(client('/big', { maxResponseBytes: 1000 }).query('up')).rejects.toThrow(
      `${base}/big: the response is larger than 1000 bytes; narrow it with --match or --instance`,
    );
    await expect(client('/err').query('up')).rejects.toThrow(
      `${base}/err answered the query with an error (bad_data: parse error)`,
    );
    await expect(client('/err').query('up')).rejects.toBeInstanceOf(PrometheusError);
  });

  it('refuses a URL that is not http(s) or carries credentials', () => {
    expect(() => new PrometheusClient({ url: 'ftp://x' })).toThrow('is not an http or https URL');
    expect(() => new PrometheusClient({ url: 'http://u:p@x' })).toThrow('put credentials in --prometheus-basic-auth');
  });
});
