// The fleet view's flags (tstop --prometheus URL ...), shared by the dashboard
// and snapshot commands; kept apart from src/cli/fleet.ts so that declaring
// them loads nothing.

import type { FlagSpec } from './command.js';

export const FLEET_FLAGS: FlagSpec[] = [
  {
    name: 'prometheus',
    type: 'string',
    value: 'URL',
    description: 'the fleet view: read every host from this Prometheus-compatible API (docs/fleet.md)',
  },
  {
    name: 'match',
    type: 'string',
    value: 'SELECTOR',
    description: 'with --prometheus: only series matching this label selector, e.g. {job="tstop",env="prod"}',
  },
  {
    name: 'instance',
    type: 'string',
    value: 'REGEX',
    description: 'with --prometheus: only instances whose label matches (PromQL regex, anchored)',
  },
  {
    name: 'at',
    type: 'string',
    value: 'TIME',
    description:
      "the fleet (with --prometheus) or the recording (--store) as it was at TIME ('10m ago', '03:12', ISO 8601, @epoch)",
  },
  {
    name: 'window',
    type: 'string',
    value: 'DURATION',
    description: 'with --prometheus: the window of rates (CPU, io, network) and of "OOM kills recently"',
    default: '1m',
  },
  {
    name: 'prometheus-timeout',
    type: 'string',
    value: 'DURATION',
    description: 'with --prometheus: timeout of each query',
    default: '10s',
  },
  { name: 'prometheus-bearer-token-file', type: 'string', value: 'FILE', description: 'send this bearer token' },
  {
    name: 'prometheus-basic-auth',
    type: 'string',
    value: 'USER:PASSWORD_FILE',
    description: 'HTTP basic auth, the password read from a file',
  },
  { name: 'prometheus-ca-file', type: 'string', value: 'FILE', description: 'PEM CA bundle to trust for https' },
  {
    name: 'prometheus-header',
    type: 'string',
    value: 'NAME=VALUE',
    multiple: true,
    description: 'an extra request header, e.g. X-Scope-OrgID=team (repeatable)',
  },
];

/** The fleet dashboard's `l`: where each host's write API is (docs/fleet.md). */
export const FLEET_WRITE_FLAGS: FlagSpec[] = [
  {
    name: 'write-api',
    type: 'string',
    value: 'URL_TEMPLATE',
    description:
      "with --prometheus: l sends limit changes to this host's write API; {instance} is the row's instance label, {host} the same without the port (e.g. 'https://{instance}')",
  },
  {
    name: 'write-api-token-file',
    type: 'string',
    value: 'FILE',
    description: 'with --write-api: the bearer token for the write APIs (first line of FILE)',
  },
  { name: 'write-api-ca-file', type: 'string', value: 'FILE', description: 'with --write-api: PEM CA bundle to trust' },
];

/** The fleet dashboard's own. */
export const FLEET_DASHBOARD_FLAGS: FlagSpec[] = [
  {
    name: 'top',
    type: 'string',
    value: 'N',
    description:
      'with --prometheus: each refresh fetches the first N rows by the sort key and filter (topk in PromQL), not the whole fleet',
    default: '200',
  },
];
