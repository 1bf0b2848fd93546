// The network flags of `tstop run`: --network, -p/--publish, --dns,
// --add-host. Pure: every malformed or conflicting value is a UsageError
// (exit 2) naming the flag, before anything is created.

import { createRequire } from 'node:module';
import { UsageError } from '../../util/errors.js';
import { NAME_RE } from '../state.js';

/**
 * node:net, loaded only when an address is to be checked: it costs every
 * `tstop run` ~3 ms of CPU to load (docs/benchmarks.md, "Launcher"), and
 * these flags are rare.
 */
const net = (): typeof import('node:net') => createRequire(import.meta.url)('node:net') as typeof import('node:net');

/** none: own netns with lo; host: the host's; bridge: own netns + veth on the bridge; container:NAME: NAME's netns. */
export type NetworkMode = 'none' | 'host' | 'bridge' | `container:${string}`;

export type PortProtocol = 'tcp' | 'udp';

/** -p [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]; hostIp null = every local address. */
export interface PortMapping {
  hostIp: string | null;
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
}

/** --add-host NAME:IP; ip 'host-gateway' is the bridge's address. */
export interface ExtraHost {
  name: string;
  ip: string;
}

export interface NetworkRequest {
  mode: NetworkMode;
  publish: PortMapping[];
  dns: string[];
  addHosts: ExtraHost[];
}

export const HOST_GATEWAY = 'host-gateway';

function bad(flag: string, value: string, why: string): UsageError {
  return new UsageError(`--${flag} '${value}': ${why}`);
}

export function parseNetworkMode(value: string): NetworkMode {
  if (value === 'none' || value === 'host' || value === 'bridge') return value;
  if (value.startsWith('container:')) {
    const name = value.slice('container:'.length);
    if (!NAME_RE.test(name)) throw bad('network', value, 'container:NAME needs the name of a tstop container');
    return `container:${name}`;
  }
  throw bad(
    'network',
    value,
    "tstop offers 'none' (own namespace with lo only), 'host', 'bridge' (a veth on the tstop0 bridge) and 'container:NAME'",
  );
}

function port(flag: string, value: string, text: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) throw bad(flag, value, `${text} is not a port (1-65535)`);
  return n;
}

export function parsePublish(value: string): PortMapping {
  const m = /^(?:(.+):)?([^:/]+):([^:/]+)(?:\/([^/]*))?$/.exec(value);
  if (!m) throw bad('publish', value, 'expected [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]');
  const [, ip, hostPort, containerPort, proto] = m;
  if (ip !== undefined && net().isIPv4(ip) === false) throw bad('publish', value, `${ip} is not an IPv4 address`);
  if (proto !== undefined && proto !== 'tcp' && proto !== 'udp') {
    throw bad('publish', value, `the protocol is tcp or udp, not '${proto}'`);
  }
  return {
    hostIp: ip === undefined || ip === '0.0.0.0' ? null : ip,
    hostPort: port('publish', value, hostPort),
    containerPort: port('publish', value, containerPort),
    protocol: (proto as PortProtocol | undefined) ?? 'tcp',
  };
}

const HOSTNAME_RE = /^(?=.{1,253}$)[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,62})(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,62}))*$/;

/** NAME:IP (docker's form; NAME=IP too). The first separator splits, so an IPv6 address keeps its colons. */
export function parseAddHost(value: string): ExtraHost {
  const sep = /[:=]/.exec(value);
  if (!sep) throw bad('add-host', value, 'expected NAME:IP');
  const name = value.slice(0, sep.index);
  const ip = value.slice(sep.index + 1);
  if (!HOSTNAME_RE.test(name)) throw bad('add-host', value, `'${name}' is not a host name`);
  if (ip !== HOST_GATEWAY && net().isIP(ip) === 0) {
    throw bad('add-host', value, `'${ip}' is not an IP address (or host-gateway)`);
  }
  return { name, ip };
}

export function parseDns(value: string): string {
  if (net().isIP(value) === 0) throw bad('dns', value, 'expected the IP address of a name server');
  return value;
}

export interface NetworkFlagValues {
  network: string | undefined;
  publish: string[];
  dns: string[];
  addHost: string[];
}

/**
 * All network flags together, with docker's conflicts: -p only with a
 * bridge; container:NAME takes none of -p, --dns, --add-host (the other
 * container's network and files are shared); --dns and --add-host write
 * the container's /etc files, so they need a rootfs (and no --userns: its
 * root cannot reach tstop's private run directory to bind them).
 */
export function parseNetworkFlags(v: NetworkFlagValues, hasRootfs: boolean, userns = false): NetworkRequest {
  const mode = parseNetworkMode(v.network ?? 'none');
  const publish = v.publish.map(parsePublish);
  const dns = v.dns.map(parseDns);
  const addHosts = v.addHost.map(parseAddHost);
  if (publish.length > 0 && mode !== 'bridge') {
    throw bad('publish', v.publish[0], `publishing a port needs --network bridge (not ${mode})`);
  }
  for (const [i, p] of publish.entries()) {
    const earlier = publish
      .slice(0, i)
      .find(
        (q) =>
          q.protocol === p.protocol &&
          q.hostPort === p.hostPort &&
          (q.hostIp === null || p.hostIp === null || q.hostIp === p.hostIp),
      );
    if (earlier) throw bad('publish', v.publish[i], `host port ${p.hostPort}/${p.protocol} is published twice`);
  }
  if (mode.startsWith('container:') && (dns.length > 0 || addHosts.length > 0)) {
    throw new UsageError(
      `--dns and --add-host conflict with --network ${mode}: the container shares that one's network`,
    );
  }
  const gateway = addHosts.findIndex((h) => h.ip === HOST_GATEWAY);
  if (gateway >= 0 && mode !== 'bridge') {
    throw bad('add-host', v.addHost[gateway], `host-gateway needs --network bridge (${mode} has no gateway)`);
  }
  if ((dns.length > 0 || addHosts.length > 0) && !hasRootfs) {
    throw new UsageError(
      "--dns and --add-host need --rootfs: they write the container's own /etc/resolv.conf and /etc/hosts, never the host's",
    );
  }
  if ((dns.length > 0 || addHosts.length > 0) && userns) {
    throw new UsageError(
      "--dns and --add-host do not work with --userns yet: the container's root cannot reach the files in tstop's run directory to mount them",
    );
  }
  return { mode, publish, dns, addHosts };
}
