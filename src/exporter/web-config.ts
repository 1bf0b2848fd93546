// The web-config file in the shape of Prometheus's exporter-toolkit, so a
// file written for node_exporter works here:
//
//   tls_server_config:
//     cert_file: server.crt          # relative paths: to the file's directory
//     key_file: server.key
//     client_ca_file: ca.crt         # optional, with client_auth_type
//     client_auth_type: RequireAndVerifyClientCert
//     min_version: TLS12             # optional: TLS12 or TLS13
//   basic_auth_users:
//     prometheus: $2y$10$...         # bcrypt hashes (htpasswd -nBC 10 "" | tr -d ':\n')
//   bearer_token_file: token         # tstop's addition: a file holding one token
//
//   http_server_config:
//     headers:                       # sent with every response (exporter-toolkit's list)
//       Strict-Transport-Security: max-age=31536000
//
// Read at startup and again on SIGHUP (src/exporter/run.ts). Any problem is
// an ExportStartupError naming the file.
// With users or a token configured every request needs credentials, except
// GET/HEAD /healthz (liveness probes; it says only "ok").

import fs from 'node:fs';
import path from 'node:path';
import { BcryptPool } from './bcrypt-pool.js';
import { ExportStartupError } from './errors.js';
import { loadCrypto } from '../util/lazy-builtins.js';

export interface TlsSettings {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | null;
  requestCert: boolean;
  rejectUnauthorized: boolean;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface WebConfig {
  file: string;
  tls: TlsSettings | null;
  /** Client auth type name (e.g. VerifyClientCertIfGiven); null without TLS. */
  clientAuthType: string | null;
  /** http_server_config.headers: sent with every response. */
  headers: Record<string, string>;
  /** user → bcrypt hash */
  users: Map<string, string>;
  bearerToken: string | null;
}

const TOP_KEYS = ['tls_server_config', 'basic_auth_users', 'bearer_token_file', 'http_server_config'];
/** The response headers exporter-toolkit lets http_server_config.headers set. */
const ALLOWED_HEADERS = [
  'Strict-Transport-Security',
  'X-Content-Type-Options',
  'X-Frame-Options',
  'X-XSS-Protection',
  'Content-Security-Policy',
];
const TLS_KEYS = ['cert_file', 'key_file', 'client_ca_file', 'client_auth_type', 'min_version'];
const CLIENT_AUTH: Record<string, { requestCert: boolean; rejectUnauthorized: boolean }> = {
  NoClientCert: { requestCert: false, rejectUnauthorized: false },
  RequestClientCert: { requestCert: true, rejectUnauthorized: false },
  VerifyClientCertIfGiven: { requestCert: true, rejectUnauthorized: false },
  RequireAndVerifyClientCert: { requestCert: true, rejectUnauthorized: true },
};
const BCRYPT = /^\$2[abxy]?\$(\d{2})\$[./A-Za-z0-9]{53}$/;
/** exporter-toolkit's bound too: each step doubles the CPU of every check (cost 14 is ~1 s in bcryptjs). */
export const MAX_BCRYPT_COST = 14;
const MIN_BCRYPT_COST = 4;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses web-config text; `file` names it in errors and anchors relative paths. */
export async function parseWebConfig(text: string, file: string): Promise<WebConfig> {
  const fail = (what: string): never => {
    throw new ExportStartupError(`web config ${file}: ${what}`);
  };
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text) ?? {};
  } catch (err) {
    fail(`not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (!isRecord(doc)) return fail('expected a mapping at the top level');
  for (const k of Object.keys(doc)) if (!TOP_KEYS.includes(k)) fail(`unknown key '${k}'`);
  const dir = path.dirname(path.resolve(file));
  const readFile = (key: string, p: unknown): Buffer => {
    if (typeof p !== 'string' || p === '') return fail(`${key} must be a file path`);
    const abs = path.resolve(dir, p);
    try {
      return fs.readFileSync(abs);
    } catch (err) {
      return fail(`${key}: cannot read ${abs} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };

  const headers: Record<string, string> = {};
  const h = doc.http_server_config;
  if (h !== undefined && h !== null) {
    if (!isRecord(h)) return fail('http_server_config must be a mapping');
    for (const k of Object.keys(h)) {
      if (k !== 'headers') {
        fail(`http_server_config.${k} is not supported (only http_server_config.headers is)`);
      }
    }
    if (h.headers !== undefined && h.headers !== null) {
      if (!isRecord(h.headers)) return fail('http_server_config.headers must be a mapping of header to value');
      for (const [name, value] of Object.entries(h.headers)) {
        const known = ALLOWED_HEADERS.find((a) => a.toLowerCase() === name.toLowerCase());
        if (!known) fail(`http_server_config.headers: '${name}' is not one of ${ALLOWED_HEADERS.join(', ')}`);
        if (typeof value !== 'string' || /[\0-\x08\x0a-\x1f\x7f]/.test(value)) {
          fail(`http_server_config.headers.${name}: the value must be a string on one line`);
        }
        headers[known!] = value as string;
      }
    }
  }

  let tls: TlsSettings | null = null;
  let clientAuthType: string | null = null;
  const t = doc.tls_server_config;
  if (t !== undefined && t !== null) {
    if (!isRecord(t)) return fail('tls_server_config must be a mapping');
    for (const k of Object.keys(t)) if (!TLS_KEYS.includes(k)) fail(`unknown key 'tls_server_config.${k}'`);
    if (t.cert_file === undefined || t.key_file === undefined) {
      fail('tls_server_config needs both cert_file and key_file');
    }
    const authType =
      t.client_auth_type ?? (t.client_ca_file !== undefined ? 'RequireAndVerifyClientCert' : 'NoClientCert');
    const auth = typeof authType === 'string' ? CLIENT_AUTH[authType] : undefined;
    if (!auth)
      return fail(
        `tls_server_config.client_auth_type: '${String(authType)}' is not one of ${Object.keys(CLIENT_AUTH).join(', ')}`,
      );
    if (auth.requestCert && authType !== 'RequestClientCert' && t.client_ca_file === undefined) {
      fail(`tls_server_config.client_auth_type ${String(authType)} needs client_ca_file`);
    }
    clientAuthType = authType as string;
    const min = t.min_version ?? 'TLS12';
    if (min !== 'TLS12' && min !== 'TLS13')
      fail(`tls_server_config.min_version: '${String(min)}' is not TLS12 or TLS13`);
    tls = {
      cert: readFile('tls_server_config.cert_file', t.cert_file),
      key: readFile('tls_server_config.key_file', t.key_file),
      ca: t.client_ca_file !== undefined ? readFile('tls_server_config.client_ca_file', t.client_ca_file) : null,
      ...auth,
      minVersion: min === 'TLS13' ? 'TLSv1.3' : 'TLSv1.2',
    };
    try {
      const crypto = loadCrypto();
      crypto.createPrivateKey(tls.key);
      new crypto.X509Certificate(tls.cert);
    } catch (err) {
      fail(`tls_server_config: certificate or key is not valid PEM (${(err as Error).message})`);
    }
  }

  const users = new Map<string, string>();
  const u = doc.basic_auth_users;
  if (u !== undefined && u !== null) {
    if (!isRecord(u)) return fail('basic_auth_users must be a mapping of user to bcrypt hash');
    for (const [user, hash] of Object.entries(u)) {
      const m = typeof hash === 'string' ? BCRYPT.exec(hash) : null;
      if (!m) return fail(`basic_auth_users.${user}: not a bcrypt hash`);
      const cost = Number(m[1]);
      if (cost > MAX_BCRYPT_COST || cost < MIN_BCRYPT_COST) {
        fail(
          `basic_auth_users.${user}: bcrypt cost ${cost} is outside ${MIN_BCRYPT_COST}-${MAX_BCRYPT_COST} ` +
            `(above ${MAX_BCRYPT_COST} every check would take seconds to days of CPU; htpasswd -nBC 10 ${user})`,
        );
      }
      if (user.includes(':')) fail(`basic_auth_users: user name '${user}' contains ':'`);
      users.set(user, hash as string);
    }
  }

  let bearerToken: string | null = null;
  if (doc.bearer_token_file !== undefined && doc.bearer_token_file !== null) {
    const tokenFile = doc.bearer_token_file;
    bearerToken = readFile('bearer_token_file', tokenFile).toString('utf8').trim();
    // A token readable by others is a token others can scrape (or write) with.
    const abs = path.resolve(dir, tokenFile as string);
    if ((fs.statSync(abs).mode & 0o077) !== 0) {
      fail(`bearer_token_file ${abs} is readable or writable by group or others (chmod 600 ${abs})`);
    }
    if (bearerToken === '') fail('bearer_token_file is empty');
  }
  return { file, tls, clientAuthType, headers, users, bearerToken };
}

export async function loadWebConfig(file: string): Promise<WebConfig> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ExportStartupError(
      `cannot read web config ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parseWebConfig(text, file);
}

/** A bcrypt hash (cost 10) of a random string, compared against when the user is unknown. */
const DUMMY_HASH = '$2b$10$vOaBSu9lG510qyWhmWOHH.pPhqn0pTr3E4ZNTzcKFrsd1IZyfxER.';

function sha256(s: string): Buffer {
  return loadCrypto().createHash('sha256').update(s).digest();
}

/**
 * ok; denied (401); limited: this address failed too often lately (429);
 * busy: too many bcrypt checks waiting (503).
 */
export type AuthVerdict = 'ok' | 'denied' | 'limited' | 'busy';

export interface AuthLimits {
  /** Failed checks an address may make per window before it gets 429 without a check. */
  maxFailures: number;
  windowMs: number;
  /** Successful credentials remembered (by digest). */
  cacheSize: number;
}

export const DEFAULT_AUTH_LIMITS: AuthLimits = { maxFailures: 10, windowMs: 10_000, cacheSize: 256 };
/** Addresses tracked at most; past it, the oldest windows are dropped. */
const MAX_TRACKED_ADDRESSES = 4096;

/** Failed authentications per remote address in fixed windows. */
class FailureCounter {
  private readonly byAddress = new Map<string, { since: number; failures: number }>();
  constructor(private readonly limits: AuthLimits) {}

  limited(address: string, now = Date.now()): boolean {
    const entry = this.byAddress.get(address);
    if (!entry) return false;
    if (now - entry.since >= this.limits.windowMs) {
      this.byAddress.delete(address);
      return false;
    }
    return entry.failures >= this.limits.maxFailures;
  }

  fail(address: string, now = Date.now()): void {
    const entry = this.byAddress.get(address);
    if (entry && now - entry.since < this.limits.windowMs) {
      entry.failures++;
      return;
    }
    this.byAddress.delete(address);
    if (this.byAddress.size >= MAX_TRACKED_ADDRESSES) {
      this.byAddress.delete(this.byAddress.keys().next().value as string);
    }
    this.byAddress.set(address, { since: now, failures: 1 });
  }
}

/**
 * Checks an Authorization header against the web config's users and token.
 * Successful basic credentials are cached (as exporter-toolkit does) keyed
 * on a SHA-256 of user, password and hash, never the password itself, so a
 * scraper with the right password pays bcrypt once and is never limited.
 */
export class Authenticator {
  private readonly verified = new Set<string>();
  private tokenDigest: Buffer | null = null;
  private config!: Pick<WebConfig, 'users' | 'bearerToken'>;
  private readonly failures: FailureCounter;

  constructor(
    config: Pick<WebConfig, 'users' | 'bearerToken'>,
    private readonly pool: BcryptPool = new BcryptPool(),
    private readonly limits: AuthLimits = DEFAULT_AUTH_LIMITS,
  ) {
    this.update(config);
    this.failures = new FailureCounter(limits);
  }

  /** New users and token (a reloaded web config); the cache of good credentials starts over. */
  update(config: Pick<WebConfig, 'users' | 'bearerToken'>): void {
    this.config = config;
    this.tokenDigest = config.bearerToken === null ? null : sha256(config.bearerToken);
    this.verified.clear();
  }

  get required(): boolean {
    return this.config.users.size > 0 || this.tokenDigest !== null;
  }

  /** The WWW-Authenticate challenge for a 401. */
  get challenge(): string {
    return this.config.users.size > 0 ? 'Basic realm="tstop", charset="UTF-8"' : 'Bearer realm="tstop"';
  }

  async check(header: string | undefined, remoteAddress = ''): Promise<AuthVerdict> {
    if (!this.required) return 'ok';
    const verdict = await this.verify(header, remoteAddress);
    if (verdict === 'denied') this.failures.fail(remoteAddress);
    return verdict;
  }

  close(): void {
    this.pool.close();
  }

  private async verify(header: string | undefined, remoteAddress: string): Promise<AuthVerdict> {
    const space = (header ?? '').indexOf(' ');
    const scheme = space < 0 ? '' : header!.slice(0, space).toLowerCase();
    const value = space < 0 ? '' : header!.slice(space + 1).trim();
    if (scheme === 'bearer' && this.tokenDigest && loadCrypto().timingSafeEqual(sha256(value), this.tokenDigest)) {
      return 'ok';
    }
    let basic: { user: string; password: string; hash: string | undefined; key: string } | null = null;
    if (scheme === 'basic' && this.config.users.size > 0) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) {
        const user = decoded.slice(0, colon);
        const password = decoded.slice(colon + 1);
        const hash = this.config.users.get(user);
        const key = sha256(`${user}\0${password}\0${hash ?? ''}`).toString('hex');
        if (hash !== undefined && this.verified.has(key)) return 'ok';
        basic = { user, password, hash, key };
      }
    }
    // Cheap checks are done; an address that failed too often gets no bcrypt.
    if (this.failures.limited(remoteAddress)) return 'limited';
    if (!basic) return 'denied';
    // An unknown user costs a bcrypt comparison too, so timing does not tell which users exist.
    const ok = await this.pool.compare(basic.password, basic.hash ?? DUMMY_HASH);
    if (ok === 'busy') return 'busy';
    if (!ok || basic.hash === undefined) return 'denied';
    if (this.verified.size >= this.limits.cacheSize) this.verified.clear();
    this.verified.add(basic.key);
    return 'ok';
  }
}
