// `tstop run` and `tstop exec`: flags (named as docker run / docker exec
// name them) and help. The implementation is in src/launcher/ (loaded on
// demand: `tstop run` loads nothing it does not use).

import type { CommandSpec, FlagSpec } from '../command.js';
import { COLLECTION_FLAGS } from '../collection-flags.js';
import { LIMIT_VALUE_FLAGS } from './limit.js';

const ENV_FLAG: FlagSpec = {
  name: 'env',
  short: 'e',
  type: 'string',
  multiple: true,
  value: 'NAME=VALUE',
  description: "set an environment variable (NAME alone passes tstop's own value)",
};
const USER_FLAG: FlagSpec = {
  name: 'user',
  short: 'u',
  type: 'string',
  value: 'USER[:GROUP]',
  description: "user and group to run as: numbers, or names from the container's /etc/passwd and /etc/group",
};
const WORKDIR_FLAG: FlagSpec = {
  name: 'workdir',
  short: 'w',
  type: 'string',
  value: 'DIR',
  description: 'working directory inside the container',
  default: '/',
};
const INTERACTIVE_FLAG: FlagSpec = {
  name: 'interactive',
  short: 'i',
  type: 'boolean',
  description: 'keep stdin open (connect it to the workload)',
};
const TTY_FLAG: FlagSpec = {
  name: 'tty',
  short: 't',
  type: 'boolean',
  description: "allocate a pseudo-terminal from the container's own /dev/pts",
};

export const RUN_FLAGS: FlagSpec[] = [
  {
    name: 'name',
    type: 'string',
    value: 'NAME',
    description: 'container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*); also its cgroup: /tstop/NAME',
    default: '12 random hex digits',
  },
  {
    name: 'hostname',
    short: 'h',
    type: 'string',
    value: 'NAME',
    description: 'hostname inside (its own UTS namespace)',
    default: 'the container name',
  },
  {
    name: 'network',
    type: 'string',
    value: 'none|host|bridge|container:NAME',
    description:
      "none: a new network namespace with only lo, up; host: the host's network; bridge: a veth pair, eth0 inside with an address of the tstop0 bridge's subnet (TSTOP_BRIDGE, TSTOP_NET_SUBNET; default 10.88.0.0/16 or the first free private /16) and NAT with nft; container:NAME: the network namespace of tstop container NAME",
    default: 'none',
  },
  {
    name: 'publish',
    short: 'p',
    type: 'string',
    multiple: true,
    value: '[IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]',
    description: 'publish a container port on the host (nft DNAT; 127.0.0.1 works too); needs --network bridge',
  },
  {
    name: 'dns',
    type: 'string',
    multiple: true,
    value: 'IP',
    description:
      "a name server for the container's own /etc/resolv.conf (default: the host's, without loopback ones); needs --rootfs",
  },
  {
    name: 'add-host',
    type: 'string',
    multiple: true,
    value: 'NAME:IP',
    description: "a line in the container's own /etc/hosts (IP host-gateway: the bridge's address); needs --rootfs",
  },
  {
    name: 'userns',
    type: 'string',
    value: 'BASE[:COUNT]|self|host',
    description:
      'a user namespace: root inside is BASE outside, COUNT ids (default 65536) mapped; self maps root to your own uid; host: none',
    default: 'host',
  },
  {
    name: 'rootfs',
    type: 'string',
    value: 'DIR',
    description: "root filesystem (pivot_root into it); without it the host's / in a private mount namespace",
  },
  {
    name: 'image',
    type: 'string',
    value: 'NAME[:TAG]',
    description:
      'run a loaded image (tstop load): an overlay of its layers, writes kept in the container until tstop rm; its Entrypoint, Cmd (replaced by COMMAND), Env, WorkingDir and User apply. No pull: docker save the image elsewhere',
  },
  {
    name: 'entrypoint',
    type: 'string',
    value: 'CMD',
    description: "--image: replace the image's Entrypoint and drop its Cmd ('' for none), as docker run does",
  },
  {
    name: 'image-store',
    type: 'string',
    value: 'DIR',
    description: 'where tstop load keeps images (also TSTOP_IMAGES)',
    default: '/var/lib/tstop/images',
  },
  { name: 'read-only', type: 'boolean', description: 'mount the rootfs read-only (needs --rootfs or --image)' },
  {
    name: 'volume',
    short: 'v',
    type: 'string',
    multiple: true,
    value: 'SRC:DST[:ro]',
    description: 'bind-mount a host directory or file into the rootfs (needs --rootfs)',
  },
  WORKDIR_FLAG,
  ENV_FLAG,
  USER_FLAG,
  {
    name: 'cap-add',
    type: 'string',
    multiple: true,
    value: 'CAP',
    description: "add a capability to docker's default 14 (ALL for every one)",
  },
  {
    name: 'cap-drop',
    type: 'string',
    multiple: true,
    value: 'CAP',
    description: 'drop a capability (ALL for every one)',
  },
  {
    name: 'security-opt',
    type: 'string',
    multiple: true,
    value: 'OPT',
    description:
      "no-new-privileges=false lets setuid programs gain privileges (the default is true); seccomp=unconfined runs without the seccomp filter, seccomp=PROFILE.json with a profile in Docker's format instead of the default (profiles/seccomp-default.json)",
  },
  {
    name: 'oom-score-adj',
    type: 'string',
    value: 'N',
    description: "the container's OOM score adjustment, -1000 to 1000 (never the caller's)",
    default: '0',
  },
  {
    name: 'ulimit',
    type: 'string',
    multiple: true,
    value: 'NAME=SOFT[:HARD]',
    description: 'a resource limit (nofile, nproc, core, memlock, stack...; -1 or unlimited)',
    default: 'nofile=1024:524288',
  },
  {
    name: 'device',
    type: 'string',
    multiple: true,
    value: 'HOST[:CONTAINER][:rwm]',
    description:
      'allow a host device and create its node in the container (under /dev; needs --rootfs for another path)',
  },
  {
    name: 'device-cgroup-rule',
    type: 'string',
    multiple: true,
    value: "'c 1:3 rwm'",
    description: "allow devices by type, major:minor (* for any) and access, beyond docker's default list",
  },
  INTERACTIVE_FLAG,
  TTY_FLAG,
  {
    name: 'detach',
    short: 'd',
    type: 'boolean',
    description: 'run in the background: print the name and return (output goes to <run dir>/<name>.log)',
  },
  {
    name: 'log-opt',
    type: 'string',
    multiple: true,
    value: 'max-size=SIZE|max-file=N',
    description: "-d: the log's cap (k, m, g) and how many rotated files to keep",
    default: 'max-size=10m, max-file=3',
  },
  {
    name: 'restart',
    type: 'string',
    value: 'POLICY',
    description:
      '-d: no, on-failure[:N] (after a non-zero exit, at most N times), always or unless-stopped: restart the workload when it exits, after 100 ms doubling to 1 min; tstop stop ends it. No daemon: nothing restarts at boot, so unless-stopped is always',
    default: 'no',
  },
  { name: 'rm', type: 'boolean', description: 'remove the container (state and cgroup) when it exits' },
  {
    name: 'init',
    type: 'boolean',
    description: 'run a minimal init as PID 1 that forwards signals and reaps zombies',
  },
  ...LIMIT_VALUE_FLAGS,
];

export const runCommand: CommandSpec = {
  name: 'run',
  summary: 'Run a command in new namespaces and its own cgroup with limits, as docker run does (no daemon).',
  usage: 'run [OPTIONS] [--] COMMAND [ARG...]  |  run --image NAME[:TAG] [OPTIONS] [--] [COMMAND [ARG...]]',
  description: [
    'The workload is PID 1 of new mount, UTS, IPC, PID, cgroup and (with --network none, the default)',
    "network namespaces, with docker's default capabilities, no_new_privs and masked /proc paths.",
    'Its cgroup, /tstop/NAME in every hierarchy, gets the limits before the workload starts; the',
    "dashboard and the exporter show it at once with runtime 'tstop' and its name. The exit code is",
    "the workload's (128+n when killed by signal n); 125 when tstop failed, 126/127 when the command",
    'could not be run. State: /run/tstop/NAME.json (TSTOP_RUN_DIR); parent cgroup: TSTOP_RUN_PARENT.',
    '--network bridge gives it an eth0 on the tstop0 bridge (ip and nft; -p publishes ports, also on 127.0.0.1),',
    '--network container:NAME the network of another tstop container: docs/network.md.',
    'Needs root. docs/launcher.md has the details.',
  ].join('\n'),
  flags: RUN_FLAGS,
  positionals: true,
  stopAtPositional: true,
  examples: [
    'tstop run --rm -it --rootfs /srv/alpine --memory 256m --cpus 0.5 -- /bin/sh',
    'tstop run -d --name web --pids-limit 100 --rootfs /srv/web -v /srv/data:/data:ro -- /bin/httpd -f',
    'tstop run --rm --userns 100000:65536 --init -- sleep 10',
    'tstop run --rm --image busybox:latest -e GREETING=hi -- sh -c "echo $GREETING"',

    'tstop run -d --name api --network bridge -p 127.0.0.1:8080:80 --rootfs /srv/web -- httpd -f -p 80',
  ],
  run: async (flags, positionals) => (await import('../run.js')).runCli(flags, positionals),
};

export const execCommand: CommandSpec = {
  name: 'exec',
  summary: "Run a command inside a running container (tstop's or another runtime's), as docker exec does.",
  usage: 'exec [OPTIONS] <container> COMMAND [ARG...]',
  description: [
    '<container> is a name, a runtime id or a unique prefix of one, or a cgroup path starting with /.',
    "The command joins the container's namespaces (user first, mount last), its root and its cgroups,",
    "and gets docker's default capabilities (a tstop container's own set), no_new_privs and the",
    "environment of the container's PID 1 plus -e. The exit code is the command's.",
  ].join('\n'),
  // Where other runtimes keep their state, to find their containers by name (--root is not one:
  // exec enters processes of this host).
  flags: [
    INTERACTIVE_FLAG,
    TTY_FLAG,
    ENV_FLAG,
    USER_FLAG,
    WORKDIR_FLAG,
    ...COLLECTION_FLAGS.filter((f) => f.name !== 'root'),
  ],
  positionals: true,
  stopAtPositional: true,
  examples: [
    'tstop exec -it web /bin/sh',
    'tstop exec 3f2a cat /proc/1/status',
    'tstop exec /tstop/web hostname',
    'tstop exec --docker-root /srv/docker web hostname',
  ],
  run: async (flags, positionals) => (await import('../exec.js')).execCli(flags, positionals),
};
