// Node's builtins that only some configurations use (TLS, basic auth, bearer
// tokens, the limiter), loaded on first use instead of at start. https brings
// tls and crypto with it: ~1.6 MB of RSS, and crypto and worker_threads
// ~0.3 MB more, that an exporter serving plain HTTP would hold for as long as
// it runs (the bundle requires its static imports when it loads).

import { createRequire } from 'node:module';

const nodeRequire = createRequire(import.meta.url);

export const loadHttps = (): typeof import('node:https') => nodeRequire('node:https') as typeof import('node:https');

export const loadCrypto = (): typeof import('node:crypto') =>
  nodeRequire('node:crypto') as typeof import('node:crypto');

export const loadWorkerThreads = (): typeof import('node:worker_threads') =>
  nodeRequire('node:worker_threads') as typeof import('node:worker_threads');
