// `tstop export`: flags and help; the implementation (and prom-client) loads
// lazily from ../../exporter/run.ts.

import { COLLECTION_FLAGS, FILTER_FLAG } from '../collection-flags.js';
import type { CommandSpec } from '../command.js';
import { AGENT_FLAGS } from './agent-flags.js';
import { STORE_FLAG } from './shared-flags.js';

const EXPORT_FLAGS = [
  {
    name: 'listen',
    short: 'l',
    type: 'string',
    value: 'ADDR',
    description: 'address to serve on: HOST:PORT, [IPV6]:PORT, or :PORT for every interface (env TSTOP_LISTEN)',
    default: '127.0.0.1:9338',
  },
  {
    name: 'config',
    short: 'c',
    type: 'string',
    value: 'FILE',
    description:
      'YAML config file; settings under "export:" (listen, min_interval, web_config, cgroups, filter, watch, ' +
      'header_timeout, request_timeout, max_connections, max_requests_in_flight, container_labels)',
  },
  {
    name: 'web-config',
    type: 'string',
    value: 'FILE',
    description: 'exporter-toolkit web config: tls_server_config, basic_auth_users (bcrypt), bearer_token_file',
  },
  {
    name: 'min-interval',
    type: 'string',
    value: 'DURATION',
    description: 'scrapes within this time of the last collection share it',
    default: '1s',
  },
  {
    name: 'cgroups',
    type: 'string',
    value: 'WHICH',
    description: 'all (every cgroup, like cAdvisor) or default (containers and cgroups with processes)',
    default: 'all',
  },
  FILTER_FLAG,
  {
    name: 'no-watch',
    type: 'boolean',
    description: 'walk the cgroup tree at each collection instead of following it with inotify',
  },
  {
    name: 'header-timeout',
    type: 'string',
    value: 'DURATION',
    description: "close a connection that has not sent a request's headers within this",
    default: '10s',
  },
  {
    name: 'request-timeout',
    type: 'string',
    value: 'DURATION',
    description: 'close a connection whose request (headers and body) takes longer',
    default: '30s',
  },
  {
    name: 'max-connections',
    type: 'string',
    value: 'N',
    description: 'open connections at most; more are closed at once',
    default: '512',
  },
  {
    name: 'container-labels',
    type: 'string',
    value: 'WHICH',
    description:
      "runtime labels exported as container_label_<name>, as cAdvisor does: all, none, or keys (e.g. 'com.docker.compose.project,team')",
    default: 'all',
  },
  {
    name: 'max-requests-in-flight',
    type: 'string',
    value: 'N',
    description: 'requests answered at once; more get 503 (/healthz excepted)',
    default: '40',
  },
  {
    name: 'enable-write-api',
    type: 'boolean',
    description: 'serve POST /api/v1/containers/<ref>/limits (limit changes, audited); needs --token-file',
  },
  {
    name: 'token-file',
    type: 'string',
    value: 'FILE',
    description: 'write API tokens: one token, or "name: token" lines (16+ characters each, mode 600)',
  },
  {
    name: 'write-api-allow-system',
    type: 'boolean',
    description: 'let write API requests set allowSystem (cgroups that are not containers); off by default',
  },
  {
    name: 'write-api-force',
    type: 'boolean',
    description: 'let write API requests set force (a memory limit below usage); off by default',
  },
  {
    name: 'write-api-insecure',
    type: 'boolean',
    description: 'serve the write API on a non-loopback address without TLS (the token travels in clear)',
  },
  {
    name: 'audit-log',
    type: 'string',
    value: 'FILE',
    description: 'audit log of the write API, the guard rules and the expiries this agent runs',
    default: '$TSTOP_AUDIT_LOG or /var/log/tstop/audit.jsonl',
  },
  ...AGENT_FLAGS,
  {
    name: 'record',
    type: 'boolean',
    description: 'also run the flight recorder in this process, on the same collector (one agent per node)',
  },
  STORE_FLAG,
  {
    name: 'record-interval',
    type: 'string',
    value: 'DURATION',
    description: 'with --record: time between recorded samples',
    default: '5s',
  },
  {
    name: 'retain',
    type: 'string',
    value: 'DURATION',
    description: 'with --record: drop samples older than this',
    default: '7d',
  },
  {
    name: 'max-size',
    type: 'string',
    value: 'SIZE',
    description: 'with --record: cap on the store size (KiB, MiB, GiB)',
    default: '2GiB',
  },
  ...COLLECTION_FLAGS,
] as const satisfies CommandSpec['flags'];

export const exportCommand: CommandSpec = {
  name: 'export',
  summary: 'Serve Prometheus metrics (cAdvisor-compatible names) of every cgroup of this host.',
  usage: 'export [--listen ADDR] [--config FILE] [--web-config FILE] [--min-interval DURATION] [--cgroups all|default]',
  description:
    'Serves /metrics (text format 0.0.4, gzip when asked), /healthz and an index page at /. Read-only:\n' +
    'only GET and HEAD. Metrics are collected at scrape time; scrapes within --min-interval share one\n' +
    'collection. Metric names and labels: docs/metrics.md. Listens on loopback unless told otherwise.',
  flags: [...EXPORT_FLAGS],
  examples: [
    'tstop export',
    'tstop export --listen :9338 --web-config /etc/tstop/web.yml',
    'TSTOP_LISTEN=10.0.0.5:9338 tstop export --cgroups default',
    'tstop export --root /host --listen :9338   # in a DaemonSet',
    'tstop export --record --store /var/lib/tstop/store   # metrics and the flight recorder, one process',
  ],
  run: async (flags) => (await import('../export.js')).exportCli(flags),
};
