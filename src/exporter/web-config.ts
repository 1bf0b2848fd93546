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
// Read once at startup. Any problem is an ExportStartupError naming the file.
// With users or a token configured every request needs credentials, except
// GET/HEAD /healthz (liveness probes; it says only "ok").

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ExportStartupError } from './errors.js';

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
  /** user → bcrypt hash */
  users: Map<string, string>;
  bearerToken: string | null;
}

const TOP_KEYS = ['tls_server_config', 'basic_auth_users', 'bearer_token_file', 'http_server_config'];
const TLS_KEYS = ['cert_file', 'key_file', 'client_ca_file', 'client_auth_type', 'min_version'];
const CLIENT_AUTH: Record<string, { requestCert: boolean; rejectUnauthorized: boolean }> = {
  NoClientCert: { requestCert: false, rejectUnauthorized: false },
  RequestClientCert: { requestCert: true, rejectUnauthorized: false },
  VerifyClientCertIfGiven: { requestCert: true, rejectUnauthorized: false },
  RequireAndVerifyClientCert: { requestCert: true, rejectUnauthorized: true },
};
const BCRYPT = /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

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

  let tls: TlsSettings | null = null;
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
      if (typeof hash !== 'string' || !BCRYPT.test(hash)) fail(`basic_auth_users.${user}: not a bcrypt hash`);
      if (user.includes(':')) fail(`basic_auth_users: user name '${user}' contains ':'`);
      users.set(user, hash as string);
    }
  }

  let bearerToken: string | null = null;
  if (doc.bearer_token_file !== undefined && doc.bearer_token_file !== null) {
    bearerToken = readFile('bearer_token_file', doc.bearer_token_file).toString('utf8').trim();
    if (bearerToken === '') fail('bearer_token_file is empty');
  }
  return { file, tls, users, bearerToken };
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
  return crypto.createHash('sha256').update(s).digest();
}

/** Checks an Authorization header against the web config's users and token. */
export class Authenticator {
  /** Successful (user, password) checks, by digest: bcrypt is slow by design and scrapes repeat. */
  private readonly verified = new Set<string>();
  private readonly tokenDigest: Buffer | null;

  constructor(private readonly config: Pick<WebConfig, 'users' | 'bearerToken'>) {
    this.tokenDigest = config.bearerToken === null ? null : sha256(config.bearerToken);
  }

  get required(): boolean {
    return this.config.users.size > 0 || this.tokenDigest !== null;
  }

  /** The WWW-Authenticate challenge for a 401. */
  get challenge(): string {
    return this.config.users.size > 0 ? 'Basic realm="tstop", charset="UTF-8"' : 'Bearer realm="tstop"';
  }

  async check(header: string | undefined): Promise<boolean> {
    if (!this.required) return true;
    if (!header) return false;
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'bearer' && this.tokenDigest) {
      return crypto.timingSafeEqual(sha256(value), this.tokenDigest);
    }
    if (scheme !== 'basic' || this.config.users.size === 0) return false;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const hash = this.config.users.get(user);
    const key = sha256(`${user}\0${password}\0${hash ?? ''}`).toString('hex');
    if (hash !== undefined && this.verified.has(key)) return true;
    const { default: bcrypt } = await import('bcryptjs');
    // An unknown user costs a bcrypt comparison too, so timing does not tell which users exist.
    const ok = await bcrypt.compare(password, hash ?? DUMMY_HASH);
    if (ok && hash !== undefined) {
      if (this.verified.size >= 256) this.verified.clear();
      this.verified.add(key);
      return true;
    }
    return false;
  }
}
