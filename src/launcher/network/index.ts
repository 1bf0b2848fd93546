// A container's network, around the helper's launch (src/launcher/run.ts):
// prepareNetwork before it (bridge, lease, /etc files, or the other
// container's netns fd), attach once the helper reports the child's pid
// (veth, eth0, -p rules), releaseNetwork when the container is gone (run's
// own end, `tstop rm`, or `tstop ps` after tstop was killed).

import fs from 'node:fs';
import path from 'node:path';
import type { Volume } from '../spec.js';
import { alive, LaunchError, readState, type ContainerState } from '../state.js';
import { writeEtcFiles, etcFilePaths } from './etc-files.js';
import { HOST_GATEWAY, type NetworkRequest } from './flags.js';
import { attachVeth, containerTable, detach, ensureBridge, findTools, writeRules, type Tools } from './host.js';
import { allocate, freeLease, leasesOf, listLeases, parseSubnet, vethName, type Lease } from './ipam.js';

export const DEFAULT_BRIDGE = 'tstop0';

/** TSTOP_BRIDGE: the bridge's name (tests use their own). */
export function bridgeName(env: NodeJS.ProcessEnv = process.env): string {
  const b = env.TSTOP_BRIDGE;
  if (b === undefined || b === '') return DEFAULT_BRIDGE;
  if (!/^[a-zA-Z][a-zA-Z0-9_-]{0,14}$/.test(b)) {
    throw new LaunchError(`TSTOP_BRIDGE '${b}': a link name of 1-15 of a-z A-Z 0-9 _ - starting with a letter`, 2);
  }
  return b;
}

export interface PreparedNetwork {
  /** Bind mounts of the container's own /etc/hosts and /etc/resolv.conf (with a rootfs). */
  volumes: Volume[];
  /** --network bridge: called with the child's pid while it waits; eth0 is ready when it resolves. */
  attach: ((pid: number) => Promise<void>) | null;
  /** --network container:NAME: an open fd of that container's netns, for the helper to join. */
  netnsFd: number | null;
  /** The container's address (bridge). */
  address: string | null;
  /** --network bridge: what the child sets on eth0 itself ("A.B.C.D/N", gateway). */
  eth0: { address: string; gateway: string } | null;
  /** Undoes everything prepared (idempotent). */
  release: () => Promise<void>;
}

export interface NetworkContext {
  name: string;
  hostname: string;
  rootfs: string | null;
  /** A user namespace: its root cannot reach the run dir, so no /etc files are bound (--dns/--add-host are refused). */
  userns?: boolean;
  runDir: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * --network container:NAME: NAME's netns as an open fd. Opened first, then
 * NAME's PID 1 checked to be the very process the state names (pid and
 * start time, as exec checks it): a reused pid would fail the check, so the
 * fd is NAME's namespace and no other.
 */
export function openContainerNetns(runDir: string, target: string): number {
  const { st, ref } = joinableContainer(runDir, target);
  let fd: number;
  try {
    fd = fs.openSync(`/proc/${st.pid}/ns/net`, 'r');
  } catch (err) {
    throw new LaunchError(`--network container:${target}: ${(err as Error).message}`);
  }
  if (!alive(ref)) {
    fs.closeSync(fd);
    throw new LaunchError(`--network container:${target}: container '${target}' ended meanwhile`, 2);
  }
  return fd;
}

/** --network container:NAME names a running tstop container (checked before anything is created, exit 2). */
export function joinableContainer(
  runDir: string,
  target: string,
): { st: ContainerState; ref: { pid: number; start: number } } {
  const st: ContainerState | null = readState(runDir, target);
  if (st === null) throw new LaunchError(`--network container:${target}: no tstop container '${target}'`, 2);
  const ref = st.pid !== null && st.pidStart !== null ? { pid: st.pid, start: st.pidStart } : null;
  if (ref === null || st.status !== 'running' || !alive(ref) || !alive(st.helper)) {
    throw new LaunchError(`--network container:${target}: container '${target}' is not running`, 2);
  }
  return { st, ref };
}

export async function prepareNetwork(req: NetworkRequest, ctx: NetworkContext): Promise<PreparedNetwork> {
  const env = ctx.env ?? process.env;
  const none: PreparedNetwork = {
    volumes: [],
    attach: null,
    netnsFd: null,
    address: null,
    eth0: null,
    release: async () => {},
  };
  if (req.mode.startsWith('container:')) {
    const fd = openContainerNetns(ctx.runDir, req.mode.slice('container:'.length));
    let open = true;
    const release = async (): Promise<void> => {
      if (open) fs.closeSync(fd);
      open = false;
    };
    return { ...none, netnsFd: fd, release };
  }
  if (req.mode !== 'bridge') {
    if (ctx.rootfs === null || (req.dns.length === 0 && req.addHosts.length === 0)) return none;
    const files = writeEtcFiles(ctx.runDir, ctx.name, { hostname: ctx.hostname, address: null, gateway: null, req });
    return { ...none, volumes: files, release: async () => removeEtcFiles(ctx.runDir, ctx.name) };
  }
  const tools = findTools(env);
  if (req.publish.length > 0 && tools.nft === null) {
    throw new LaunchError('-p needs nftables (nft) for its DNAT rules: apt-get install nftables');
  }
  const bridge = bridgeName(env);
  const wanted = env.TSTOP_NET_SUBNET ? parseSubnet(env.TSTOP_NET_SUBNET) : null;
  const info = await ensureBridge(tools, bridge, wanted);
  if (!info.nat) {
    process.stderr.write(
      `tstop: run: nft (nftables) is not installed: no NAT, so the container reaches this host (${info.gateway}) and other containers only\n`,
    );
  }
  const lease = allocate(
    ctx.runDir,
    info.subnet,
    {
      name: ctx.name,
      bridge,
      veth: vethName(),
      table: req.publish.length > 0 ? containerTable(ctx.name) : null,
    },
    info.gateway,
  );
  const release = async (): Promise<void> => {
    await releaseLeases(ctx.runDir, [lease], tools);
    removeEtcFiles(ctx.runDir, ctx.name);
  };
  try {
    const volumes =
      ctx.rootfs === null || ctx.userns === true
        ? []
        : writeEtcFiles(ctx.runDir, ctx.name, {
            hostname: ctx.hostname,
            address: lease.address,
            gateway: info.gateway,
            req,
          });
    await writeRules(
      tools,
      info,
      lease.table !== null ? { table: lease.table, address: lease.address, ports: req.publish } : null,
    );
    const attach = (pid: number): Promise<void> => attachVeth(tools, info, lease, pid);
    const eth0 = { address: `${lease.address}/${info.subnet.prefix}`, gateway: info.gateway };
    return { volumes, attach, netnsFd: null, address: lease.address, eth0, release };
  } catch (err) {
    await release();
    throw err;
  }
}

function removeEtcFiles(runDir: string, name: string): void {
  for (const f of etcFilePaths(runDir, name)) fs.rmSync(f, { force: true });
}

async function releaseLeases(runDir: string, leases: Lease[], tools?: Tools): Promise<string[]> {
  const problems: string[] = [];
  for (const lease of leases) {
    if (tools === undefined) {
      try {
        tools = findTools();
      } catch (err) {
        problems.push((err as Error).message);
        continue; // keep the lease: what it names may still exist
      }
    }
    const left = await detach(tools, lease);
    if (left.length > 0) problems.push(...left);
    else freeLease(runDir, lease);
  }
  return problems;
}

/** What a container's network left behind: its veth, nft table, address and /etc files. Cheap when there is none. */
export async function releaseNetwork(runDir: string, name: string): Promise<string[]> {
  removeEtcFiles(runDir, name);
  const leases = leasesOf(runDir, name);
  return leases.length === 0 ? [] : releaseLeases(runDir, leases);
}

/** A lease still being written by a run (created, not yet filled) is left alone this long. */
const HALF_WRITTEN_GRACE_MS = 60_000;

/** Leases whose container is gone or exited (tstop killed at the wrong moment): released. */
export async function sweepLeases(runDir: string, isLive: (name: string) => boolean): Promise<void> {
  const stale = listLeases(runDir).filter((l) => {
    if (l.name !== '') return !isLive(l.name);
    try {
      const file = path.join(runDir, 'net', 'leases', l.address);
      return Date.now() - fs.statSync(file).mtimeMs > HALF_WRITTEN_GRACE_MS;
    } catch {
      return false;
    }
  });
  if (stale.length > 0) await releaseLeases(runDir, stale);
}

export { HOST_GATEWAY };
