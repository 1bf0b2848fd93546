// The HTTP write API's request handling with a recording fake Limiter:
// token (constant-time), body limit, content type, JSON validation, status
// codes per refusal, and the audit invocation (via http + remote address).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  LimitError,
  type Invocation,
  type LimitOptions,
  type LimitPlan,
  type LimitRequest,
  type Limiter,
} from '../../src/limiter/api.js';
import {
  authorized,
  BodyTooLargeError,
  handleLimitRequest,
  loadToken,
  loadTokens,
  readBody,
  tokenMatches,
  type LimitHttpRequest,
} from '../../src/limiter/http.js';

const TOKEN = 'c0ffee0123456789abcdef0123456789';

class FakeLimiter implements Limiter {
  planned: { ref: string; request: LimitRequest; options?: LimitOptions }[] = [];
  applied: { plan: LimitPlan; invocation: Invocation }[] = [];
  failWith: LimitError | null = null;
  async plan(ref: string, request: LimitRequest, options?: LimitOptions): Promise<LimitPlan> {
    this.planned.push({ ref, request, options });
    if (this.failWith) throw this.failWith;
    return {
      action: 'limit',
      container: { id: `/docker/${ref}`, name: ref },
      writes: [{ path: '/sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes', oldValue: '-1', newValue: '536870912' }],
      notes: [],
    };
  }
  async apply(plan: LimitPlan, invocation: Invocation) {
    this.applied.push({ plan, invocation });
    return { changeId: 'abcdef012345', writes: plan.writes, notes: [] };
  }
  async setFrozen(): Promise<never> {
    throw new Error('not used');
  }
  async kill(): Promise<never> {
    throw new Error('not used');
  }
  async history() {
    return [];
  }
  async planUndo(): Promise<never> {
    throw new Error('not used');
  }
}

function request(over: Partial<LimitHttpRequest> = {}): LimitHttpRequest {
  return {
    method: 'POST',
    url: '/api/v1/containers/web/limits',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ memory: '512m' }),
    remoteAddress: '10.1.2.3',
    ...over,
  };
}

async function call(over: Partial<LimitHttpRequest> = {}, limiter = new FakeLimiter()) {
  const res = await handleLimitRequest(request(over), { limiter, token: TOKEN, maxBodyBytes: 1024 });
  return { res, json: JSON.parse(res.body) as Record<string, unknown>, limiter };
}

describe('HTTP write API', () => {
  it('applies a change and audits it as via http with the remote address', async () => {
    const { res, json, limiter } = await call();
    expect(res.status).toBe(200);
    expect(json.changeId).toBe('abcdef012345');
    expect(limiter.planned).toEqual([
      { ref: 'web', request: { memory: '512m' }, options: { force: false, allowSystem: false } },
    ]);
    expect(limiter.applied[0].invocation).toEqual({ via: 'http', remoteAddress: '10.1.2.3', tokenName: 'default' });
  });

  it('refuses allowSystem and force in the body (403) unless the server allows them', async () => {
    for (const option of ['allowSystem', 'force'] as const) {
      const body = JSON.stringify({ memory: '512m', [option]: true });
      const { res, json, limiter } = await call({ body });
      expect(res.status).toBe(403);
      const flag = option === 'force' ? '--write-api-force' : '--write-api-allow-system';
      expect(json.error).toBe(`${option} is not allowed by this server (it is started without ${flag})`);
      expect(limiter.planned).toHaveLength(0);
      const allowed = new FakeLimiter();
      const ok = await handleLimitRequest(request({ body }), { limiter: allowed, token: TOKEN, [option]: true });
      expect(ok.status).toBe(200);
      expect(allowed.planned[0].options?.[option]).toBe(true);
    }
  });

  it('names the token that made a change in the audit invocation', async () => {
    const tokens = new Map([
      ['ops', TOKEN],
      ['ci', 'ci-' + TOKEN],
    ]);
    const limiter = new FakeLimiter();
    const auth = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
    expect(
      (await handleLimitRequest(request({ headers: auth('ci-' + TOKEN) }), { limiter, token: tokens })).status,
    ).toBe(200);
    expect(limiter.applied[0].invocation.tokenName).toBe('ci');
    expect((await handleLimitRequest(request({ headers: auth('nope') }), { limiter, token: tokens })).status).toBe(401);
  });

  it('answers 401 without the token, with a wrong one, or with another scheme, and plans nothing', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, 'Bearer ']) {
      const { res, limiter } = await call({ headers: { authorization, 'content-type': 'application/json' } });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="tstop"');
      expect(limiter.planned).toHaveLength(0);
    }
  });

  it('compares tokens in constant time over equal-length digests', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN, TOKEN.slice(0, -1))).toBe(false);
    expect(tokenMatches(TOKEN, '')).toBe(false);
    expect(tokenMatches('', '')).toBe(false);
    expect(authorized({ authorization: `bearer ${TOKEN}` }, TOKEN)).toBe(true);
  });

  it('refuses a body over the limit (413), a non-JSON type (415), other methods (405) and paths (404)', async () => {
    expect((await call({ body: JSON.stringify({ memory: 'x'.repeat(2000) }) })).res.status).toBe(413);
    expect(
      (await call({ headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' } })).res.status,
    ).toBe(415);
    const get = await call({ method: 'GET' });
    expect(get.res.status).toBe(405);
    expect(get.res.headers.allow).toBe('POST');
    expect((await call({ url: '/api/v1/containers/web/limits/x' })).res.status).toBe(404);
    expect((await call({ url: '/api/v1/containers//limits' })).res.status).toBe(404);
  });

  it.each([
    ['not json', '{', /^the body is not JSON/],
    ['an array', '[]', /^the body must be a JSON object/],
    ['an unknown field', '{"memroy":"1g"}', /^unknown field "memroy" \(fields: memory, /],
    ['a wrong type', '{"memory":true}', /^field 'memory' must be a string or a number$/],
    ['a wrong option type', '{"memory":"1g","force":"yes"}', /^field 'force' must be true or false$/],
    [
      'a wrong list',
      '{"deviceReadBps":[1]}',
      /^field 'deviceReadBps' must be a string or a list of at most 64 strings$/,
    ],
  ])('answers 400 for %s', async (_what, body, message) => {
    const { res, json, limiter } = await call({ body });
    expect(res.status).toBe(400);
    expect(json.error).toMatch(message);
    expect(limiter.planned).toHaveLength(0);
  });

  it('accepts numbers as docker API clients send them, and single strings for lists', async () => {
    const { limiter } = await call({
      body: JSON.stringify({ memory: 536870912, cpus: 0.5, deviceReadBps: '/dev/sda:1mb' }),
    });
    expect(limiter.planned[0].request).toEqual({ memory: '536870912', cpus: '0.5', deviceReadBps: ['/dev/sda:1mb'] });
  });

  it('decodes the container from the path (a cgroup path as %2F...)', async () => {
    const { limiter } = await call({ url: '/api/v1/containers/%2Fdocker%2Fabc/limits' });
    expect(limiter.planned[0].ref).toBe('/docker/abc');
    expect((await call({ url: '/api/v1/containers/%E0%A4%A/limits' })).res.status).toBe(400);
  });

  it('plans only with dryRun', async () => {
    const { res, json, limiter } = await call({ body: JSON.stringify({ memory: '1g', dryRun: true }) });
    expect(res.status).toBe(200);
    expect(json.dryRun).toBe(true);
    expect(limiter.applied).toHaveLength(0);
  });

  it.each([
    ['invalid', 400],
    ['refused', 403],
    ['not-found', 404],
    ['ambiguous', 409],
    ['conflict', 409],
    ['failed', 500],
  ] as const)('maps a %s refusal to %d with its message', async (reason, status) => {
    const limiter = new FakeLimiter();
    limiter.failWith = new LimitError(`because ${reason}`, reason === 'failed' ? 1 : 2, reason);
    const { res, json } = await call({}, limiter);
    expect(res.status).toBe(status);
    expect(json.error).toBe(`because ${reason}`);
  });

  it('reads a body and stops at the limit', async () => {
    const small = new PassThrough();
    const p = readBody(small, 10);
    small.end('{"a":1}');
    expect((await p).toString()).toBe('{"a":1}');
    const big = new PassThrough();
    const q = readBody(big, 10);
    big.write('0123456789');
    big.write('x');
    await expect(q).rejects.toBeInstanceOf(BodyTooLargeError);
  });

  it('loads a token only from a private file with a long enough token', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-token-'));
    try {
      const f = path.join(dir, 'token');
      fs.writeFileSync(f, `${TOKEN}\n`, { mode: 0o600 });
      expect(loadToken(f)).toBe(TOKEN);
      fs.chmodSync(f, 0o644);
      expect(() => loadToken(f)).toThrow(`the token file ${f} is readable by group or others (chmod 600 ${f})`);
      fs.writeFileSync(f, 'short\n', { mode: 0o600 });
      fs.chmodSync(f, 0o600);
      expect(() => loadToken(f)).toThrow('must be one word of at least 16 characters');
      fs.writeFileSync(f, `# who may change limits\nops: ${TOKEN}\n\nci:   ci-${TOKEN}\n`);
      expect([...loadTokens(f)]).toEqual([
        ['ops', TOKEN],
        ['ci', `ci-${TOKEN}`],
      ]);
      expect(loadTokens(path.join(dir, 'token'))).toBeInstanceOf(Map);
      fs.writeFileSync(f, `ops: ${TOKEN}\nci: ${TOKEN}\n`);
      expect(() => loadTokens(f)).toThrow(`the token file ${f} gives 'ci' (line 2) a token already used`);
      fs.writeFileSync(f, `ops: ${TOKEN}\nops: x${TOKEN}\n`);
      expect(() => loadTokens(f)).toThrow(`the token file ${f} names 'ops' twice`);
      fs.writeFileSync(f, `ops: short\n`);
      expect(() => loadTokens(f)).toThrow(`the token 'ops' in ${f} must be one word of at least 16 characters`);
      fs.writeFileSync(f, `${TOKEN}\n`);
      expect([...loadTokens(f)]).toEqual([['default', TOKEN]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
