// The container's own /etc/hosts and /etc/resolv.conf: files in the run
// directory (<run dir>/net/<name>.hosts, .resolv.conf), bind-mounted over
// the rootfs's by the helper like any -v. The host's files are only read.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Volume } from '../spec.js';
import { HOST_GATEWAY, type NetworkRequest } from './flags.js';
import { netDir } from './ipam.js';

export function etcFilePaths(runDir: string, name: string): [hosts: string, resolv: string] {
  const dir = netDir(runDir);
  return [path.join(dir, `${name}.hosts`), path.join(dir, `${name}.resolv.conf`)];
}

export interface EtcInput {
  hostname: string;
  /** The container's address; null without a bridge. */
  address: string | null;
  gateway: string | null;
  req: NetworkRequest;
}

export function hostsText(input: EtcInput): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  lines.push(`${input.address ?? '127.0.1.1'}\t${input.hostname}`);
  for (const h of input.req.addHosts) lines.push(`${h.ip === HOST_GATEWAY ? input.gateway : h.ip}\t${h.name}`);
  return lines.join('\n') + '\n';
}

/** Docker's fallback when the host only has local resolvers (127.0.0.53...), unreachable from a container. */
const FALLBACK_DNS = ['8.8.8.8', '8.8.4.4'];

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

/** --dns, or the host's non-loopback name servers; the host's search and options lines are kept. */
export function resolvText(req: NetworkRequest, hostResolv: string): string {
  const lines = hostResolv.split('\n').map((l) => l.trim());
  const hostServers = lines
    .map((l) => /^nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((ip): ip is string => ip !== undefined && net.isIP(ip) !== 0 && !isLoopback(ip));
  const servers = req.dns.length > 0 ? req.dns : hostServers.length > 0 ? hostServers : FALLBACK_DNS;
  const kept = lines.filter((l) => /^(search|domain|options)\s/.test(l));
  return [...servers.map((s) => `nameserver ${s}`), ...kept].join('\n') + '\n';
}

function writePrivate(file: string, text: string): void {
  fs.rmSync(file, { force: true });
  // O_EXCL|O_NOFOLLOW: a symlink planted under the run dir is not followed.
  const fd = fs.openSync(
    file,
    fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
    0o644,
  );
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}

export function writeEtcFiles(runDir: string, name: string, input: EtcInput): Volume[] {
  fs.mkdirSync(netDir(runDir), { recursive: true, mode: 0o700 });
  const [hosts, resolv] = etcFilePaths(runDir, name);
  let hostResolv = '';
  try {
    hostResolv = fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    // no resolver configured on the host
  }
  writePrivate(hosts, hostsText(input));
  writePrivate(resolv, resolvText(input.req, hostResolv));
  return [
    { source: hosts, target: '/etc/hosts' },
    { source: resolv, target: '/etc/resolv.conf' },
  ];
}
