// The host side of a bridged container, made with iproute2 (`ip`) and
// nftables (`nft`), each fed one batch on stdin: per launch one `ip -j addr`
// (the bridge), one `nft -f` (the rules, -p included) and one `ip -batch`
// (the veth pair), rather than a netlink client of our own (the container
// end is addressed by the helper's child with ioctls). bench/launch-network.ts
// measures what it costs. Every command acts on the network namespace tstop
// itself runs in (tests run tstop inside one of their own).

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LaunchError } from '../state.js';
import { gatewayOf, ipToNumber, pickSubnet, subnetText, type Lease, type Subnet } from './ipam.js';
import type { PortMapping } from './flags.js';

export interface Tools {
  ip: string;
  /** null: not installed (no NAT, no -p). */
  nft: string | null;
}

const SEARCH = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

function findTool(name: string, env: NodeJS.ProcessEnv): string | null {
  const dirs = [...(env.PATH ?? '').split(':').filter((d) => path.isAbsolute(d)), ...SEARCH];
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** ip is needed; nft is optional. TSTOP_NFT=none acts as if nft were missing. */
export function findTools(env: NodeJS.ProcessEnv = process.env): Tools {
  const ip = findTool('ip', env);
  if (ip === null) throw new LaunchError('--network bridge needs iproute2 (ip): apt-get install iproute2');
  return { ip, nft: env.TSTOP_NFT === 'none' ? null : findTool('nft', env) };
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { encoding: 'utf8', timeout: 30_000, env: {} }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : -1
        : 0;
      resolve({ code, stdout, stderr: err && !stderr ? err.message : stderr });
    });
    child.stdin?.on('error', () => undefined); // it exited first: its status says why
    child.stdin?.end(input ?? '');
  });
}

async function must(what: string, cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  if (r.code !== 0) throw new LaunchError(`${what}: ${path.basename(cmd)} ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** IPv4 routes of this network namespace, as subnets (for the default subnet's choice). */
async function routes(tools: Tools): Promise<Subnet[]> {
  const out = await must('list routes', tools.ip, ['-j', '-4', 'route', 'show', 'table', 'all']);
  const list = JSON.parse(out || '[]') as Array<{ dst?: string }>;
  const subnets: Subnet[] = [];
  for (const r of list) {
    const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?$/.exec(r.dst ?? '');
    if (m) subnets.push({ base: ipToNumber(m[1]), prefix: m[2] === undefined ? 32 : Number(m[2]) });
  }
  return subnets;
}

/** The bridge's IPv4 address and prefix and whether it is up, or null when there is no such link. */
async function bridgeAddress(
  tools: Tools,
  bridge: string,
): Promise<{ subnet: Subnet; gateway: string; up: boolean } | null> {
  const r = await run(tools.ip, ['-j', '-4', 'addr', 'show', 'dev', bridge]);
  if (r.code !== 0) return null;
  const links = JSON.parse(r.stdout || '[]') as Array<{
    flags?: string[];
    addr_info?: Array<{ local: string; prefixlen: number }>;
  }>;
  const up = links[0]?.flags?.includes('UP') ?? false;
  const a = links[0]?.addr_info?.[0];
  if (!a) return { subnet: { base: 0, prefix: 0 }, gateway: '', up };
  const n = ipToNumber(a.local);
  const m = a.prefixlen === 0 ? 0 : (0xffffffff << (32 - a.prefixlen)) >>> 0;
  return { subnet: { base: (n & m) >>> 0, prefix: a.prefixlen }, gateway: a.local, up };
}

function writeSysctl(key: string, value: string): void {
  const file = path.join('/proc/sys', ...key.split('.'));
  try {
    if (fs.readFileSync(file, 'utf8').trim() === value) return;
    fs.writeFileSync(file, value);
  } catch (err) {
    throw new LaunchError(`cannot set ${key}=${value}: ${(err as Error).message}`);
  }
}

export interface BridgeInfo {
  bridge: string;
  subnet: Subnet;
  gateway: string;
  /** Whether NAT (masquerade) gives outbound access beyond this host. */
  nat: boolean;
}

/**
 * The bridge, made when missing (and left, as docker0 is): the gateway
 * address, up, IPv4 forwarding on, route_localnet on the bridge (for -p to
 * 127.0.0.1). Every step is idempotent: two runs doing it at once end in
 * the same state. The nft rules are writeRules'.
 */
export async function ensureBridge(tools: Tools, bridge: string, wanted: Subnet | null): Promise<BridgeInfo> {
  let current = await bridgeAddress(tools, bridge);
  if (current !== null && current.subnet.prefix > 0) {
    if (wanted !== null && subnetText(wanted) !== subnetText(current.subnet)) {
      throw new LaunchError(
        `the bridge ${bridge} has ${subnetText(current.subnet)}, not TSTOP_NET_SUBNET ${subnetText(wanted)}: delete it (ip link del ${bridge}) or use another TSTOP_BRIDGE`,
      );
    }
  } else {
    const subnet = wanted ?? pickSubnet(await routes(tools));
    if (current === null) {
      const r = await run(tools.ip, ['link', 'add', bridge, 'type', 'bridge']);
      if (r.code !== 0 && !/File exists/.test(r.stderr)) {
        throw new LaunchError(`create the bridge ${bridge}: ${r.stderr.trim()}`);
      }
    }
    const r = await run(tools.ip, ['addr', 'add', `${gatewayOf(subnet)}/${subnet.prefix}`, 'dev', bridge]);
    if (r.code !== 0 && !/File exists/.test(r.stderr)) {
      throw new LaunchError(`address the bridge ${bridge}: ${r.stderr.trim()}`);
    }
    current = await bridgeAddress(tools, bridge);
    if (current === null || current.subnet.prefix === 0) throw new LaunchError(`the bridge ${bridge} has no address`);
  }
  if (!current.up) await must('bring up the bridge', tools.ip, ['link', 'set', bridge, 'up']);
  writeSysctl('net.ipv4.ip_forward', '1');
  writeSysctl(`net.ipv4.conf.${bridge}.route_localnet`, '1');
  return { bridge, subnet: current.subnet, gateway: current.gateway, nat: tools.nft !== null };
}

/** The shared table of a bridge (masquerade). */
export function bridgeTable(bridge: string): string {
  return `tstop-${bridge}`;
}

/** A container's own table (its -p rules); one delete removes them all. */
export function containerTable(name: string): string {
  return `tstop-c-${name}`;
}

/**
 * One nft transaction: the bridge's shared table (masquerade), replaced
 * whole so it reads the same whoever writes it, and the container's own
 * table of -p DNAT rules, from outside (prerouting) and from this host
 * itself (output; 127.0.0.1 through route_localnet). A rule for an address
 * whose veth does not exist yet is harmless.
 */
export async function writeRules(
  tools: Tools,
  info: BridgeInfo,
  ports: { table: string; address: string; ports: PortMapping[] } | null,
): Promise<void> {
  if (tools.nft === null) return;
  const table = bridgeTable(info.bridge);
  const text = [
    `add table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    `  chain postrouting {`,
    `    type nat hook postrouting priority srcnat; policy accept;`,
    `    ip saddr ${subnetText(info.subnet)} oifname != "${info.bridge}" masquerade`,
    `    oifname "${info.bridge}" ip saddr 127.0.0.0/8 masquerade`,
    `  }`,
    `}`,
  ];
  if (ports !== null) {
    const rules = ports.ports.map((p) => {
      const match = p.hostIp === null ? 'fib daddr type local' : `ip daddr ${p.hostIp}`;
      return `    ${match} ${p.protocol} dport ${p.hostPort} dnat to ${ports.address}:${p.containerPort}`;
    });
    text.push(
      `table ip ${ports.table} {`,
      `  chain prerouting {`,
      `    type nat hook prerouting priority dstnat; policy accept;`,
      ...rules,
      `  }`,
      `  chain output {`,
      `    type nat hook output priority -100; policy accept;`,
      ...rules,
      `  }`,
      `}`,
    );
  }
  await must('nft rules', tools.nft, ['-f', '-'], text.join('\n') + '\n');
}

/** The veth pair: the container end, eth0, straight into the netns of pid (the child addresses it itself). */
export async function attachVeth(tools: Tools, info: BridgeInfo, lease: Lease, pid: number): Promise<void> {
  await must(
    'create the veth pair',
    tools.ip,
    ['-batch', '-'],
    [
      `link add ${lease.veth} type veth peer name eth0 netns ${pid}`,
      `link set ${lease.veth} master ${info.bridge} up`,
      '',
    ].join('\n'),
  );
}

/** Deletes what a lease made; what is already gone is fine. */
export async function detach(tools: Tools, lease: Lease): Promise<string[]> {
  // Both at once: each is one spawn, and a foreground run waits for them before it exits.
  const [veth, table] = await Promise.all([
    lease.veth !== '' ? run(tools.ip, ['link', 'del', lease.veth]) : null,
    lease.table !== null && tools.nft !== null ? run(tools.nft, ['delete', 'table', 'ip', lease.table]) : null,
  ]);
  const problems: string[] = [];
  if (veth && veth.code !== 0 && !/Cannot find device|does not exist/.test(veth.stderr))
    problems.push(veth.stderr.trim());
  if (table && table.code !== 0 && !/No such file or directory/.test(table.stderr)) problems.push(table.stderr.trim());
  return problems;
}
