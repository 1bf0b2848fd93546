// `tstop limit`, `tstop freeze`, `tstop thaw`, `tstop kill`: flags and help;
// the implementation is in ../limit.ts (loaded on demand).

import { COLLECTION_FLAGS } from '../collection-flags.js';
import type { CommandSpec, FlagSpec } from '../command.js';
import { LIMIT_FIELDS } from '../../limiter/fields.js';
import { STORE_FLAG } from './record.js';

/** The limit flags, from the limiter's field table (src/limiter/fields.ts). */
export const LIMIT_VALUE_FLAGS: FlagSpec[] = LIMIT_FIELDS.map((f) => ({
  name: f.flag,
  ...(f.short ? { short: f.short } : {}),
  type: 'string',
  ...(f.multiple ? { multiple: true } : {}),
  value: f.value,
  description: f.help,
}));

export const AUDIT_FLAG: FlagSpec = {
  name: 'audit-log',
  type: 'string',
  value: 'FILE',
  description: 'the audit log (JSON Lines)',
  default: '$TSTOP_AUDIT_LOG or /var/log/tstop/audit.jsonl',
};
const LOCK_TIMEOUT_FLAG: FlagSpec = {
  name: 'lock-timeout',
  type: 'string',
  value: 'DURATION',
  description: 'wait this long while another change to the same cgroup runs, then give up',
  default: '10s',
};
const JSON_FLAG: FlagSpec = { name: 'json', type: 'boolean', description: 'print the result as JSON' };
const ALLOW_SYSTEM_FLAG: FlagSpec = {
  name: 'allow-system',
  type: 'boolean',
  description: "allow cgroups that are not containers (slices, systemd units, the machine's own)",
};

/** `tstop limit --remote`: ../limit-remote.ts reads them. */
export const REMOTE_FLAGS: FlagSpec[] = [
  {
    name: 'remote',
    type: 'string',
    value: 'URL',
    description: "change the limits on another host through its exporter's write API (e.g. https://node:9338)",
  },
  {
    name: 'token-file',
    type: 'string',
    value: 'FILE',
    description: 'with --remote: the write API bearer token (first line of FILE)',
  },
  { name: 'remote-ca-file', type: 'string', value: 'FILE', description: 'with --remote: PEM CA bundle to trust' },
  {
    name: 'remote-timeout',
    type: 'string',
    value: 'DURATION',
    description: 'with --remote: give up on the node after this long',
    default: '30s',
  },
];

export const limitCommand: CommandSpec = {
  name: 'limit',
  summary: "Change a container's limits (memory, CPU, pids, IO, devices), audited and undoable.",
  usage: 'limit <container> [FLAGS] | limit history [<container>] | limit undo <change-id> | limit recover',
  description: [
    '<container> is a name, a runtime id or a unique prefix of one, or a cgroup path starting with /.',
    'Everything is parsed and checked before anything is written; the writes are read back and, on',
    'any failure, restored. Each change is appended to the audit log (fsynced) before success is',
    'reported; `tstop limit undo <change-id>` restores the old values.',
    'Refused unless asked for: the root cgroup (always), cgroups that are not containers',
    '(--allow-system), a memory limit below current usage (--force).',
    'When stdin is a terminal tstop shows the plan and asks; otherwise (scripts, pipes) it applies',
    'without asking, as docker update does. --yes skips the question.',
    'Changes to one cgroup run one at a time: a second one waits (--lock-timeout), then gives up',
    'saying which change is in progress.',
    '',
    'Subcommands:',
    '  history [<container>]  the changes in the audit log (id, time, who, container, old -> new)',
    '  undo <change-id>       restore the old values of a change (itself audited)',
    '  recover                restore changes a killed tstop left unconfirmed (every change does this first;',
    '                         cgroups that are not containers only with --allow-system)',
    'The audit log and its directory must belong to the user running tstop and not be writable by',
    'group or others; tstop refuses them otherwise.',
  ].join('\n'),
  flags: [
    ...LIMIT_VALUE_FLAGS,
    {
      name: 'dry-run',
      type: 'boolean',
      description: 'print the planned writes (file, old value, new value); write nothing',
    },
    JSON_FLAG,
    { name: 'yes', short: 'y', type: 'boolean', description: 'apply without asking' },
    {
      name: 'force',
      type: 'boolean',
      description: 'allow a memory limit below current usage; undo over later changes',
    },
    ALLOW_SYSTEM_FLAG,
    AUDIT_FLAG,
    LOCK_TIMEOUT_FLAG,
    { name: 'last', type: 'string', value: 'N', description: 'history: the last N changes', default: '20' },
    {
      name: 'what-if',
      type: 'string',
      value: 'WINDOW',
      description:
        'write nothing: replay the last WINDOW (30m, 24h, 7d) of the recorded usage (tstop record) against --memory, --cpus, --pids-limit',
    },
    { ...STORE_FLAG, description: `--what-if: ${STORE_FLAG.description}` },
    ...REMOTE_FLAGS,
    ...COLLECTION_FLAGS,
  ],
  positionals: true,
  examples: [
    'tstop limit web --memory 512m --memory-swap 1g',
    'tstop limit 3f2a --cpus 0.5 --pids-limit 200 --dry-run',
    'tstop limit web --device-read-bps /dev/sda:10mb',
    'tstop limit web --memory 512m --cpus 1 --what-if 24h',
    'tstop limit history web',
    'tstop limit undo 5c1e0a2b9d44',
    'tstop limit --remote https://node:9338 --token-file ~/.tstop-token web --memory 1g',
  ],
  run: async (flags, positionals) => (await import('../limit.js')).runLimit(flags, positionals),
};

export const freezeCommand: CommandSpec = {
  name: 'freeze',
  summary: "Freeze a container's processes (v1 freezer, v2 cgroup.freeze), waiting until frozen.",
  usage: 'freeze <container> [--timeout DURATION]',
  flags: [
    {
      name: 'timeout',
      type: 'string',
      value: 'DURATION',
      description: 'give up (and thaw) after this long',
      default: '5s',
    },
    JSON_FLAG,
    ALLOW_SYSTEM_FLAG,
    AUDIT_FLAG,
    LOCK_TIMEOUT_FLAG,
    ...COLLECTION_FLAGS,
  ],
  positionals: true,
  examples: ['tstop freeze web', 'tstop thaw web'],
  run: async (flags, positionals) => (await import('../limit.js')).runFreeze(flags, positionals, true),
};

export const thawCommand: CommandSpec = {
  name: 'thaw',
  summary: 'Thaw a frozen container.',
  usage: 'thaw <container> [--timeout DURATION] [--force]',
  flags: [
    ...freezeCommand.flags,
    {
      name: 'force',
      type: 'boolean',
      description: 'thaw a container docker paused (docker unpause is the right way: docker keeps saying Paused)',
    },
  ],
  positionals: true,
  examples: ['tstop thaw web'],
  run: async (flags, positionals) => (await import('../limit.js')).runFreeze(flags, positionals, false),
};

export const killCommand: CommandSpec = {
  name: 'kill',
  summary: 'Send a signal to every process of a container (v2 cgroup.kill for SIGKILL).',
  usage: 'kill <container> [--signal SIG]',
  flags: [
    { name: 'signal', short: 's', type: 'string', value: 'SIG', description: 'signal name or number', default: 'KILL' },
    JSON_FLAG,
    ALLOW_SYSTEM_FLAG,
    AUDIT_FLAG,
    LOCK_TIMEOUT_FLAG,
    ...COLLECTION_FLAGS,
  ],
  positionals: true,
  examples: ['tstop kill web', 'tstop kill web --signal TERM'],
  run: async (flags, positionals) => (await import('../limit.js')).runKill(flags, positionals),
};
