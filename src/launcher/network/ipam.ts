// Addresses of bridged containers: a lease file per address under
// <run dir>/net/leases/, created with O_EXCL. The create is the lock of
// that one address: of two `tstop run` racing for 10.88.0.2, exactly one
// creates the file and the other moves on to .3, with no global lock to
// leave behind when tstop is killed. A lease names its container and what
// was made for it (the host's veth, the nft table), so whoever releases it
// (the run itself, or `tstop ps`/`rm` after a kill -9) knows what to delete.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LaunchError } from '../state.js';

export interface Subnet {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export interface Lease {
  name: string;
  address: string;
  /** "10.88.0.0/16" */
  subnet: string;
  bridge: string;
  /** The host end of the veth pair. */
  veth: string;
  /** The container's own nft table (its -p rules), or null without -p. */
  table: string | null;
}

export function ipToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "A.B.C.D/N" with N from 8 to 30 and no host bits set. */
export function parseSubnet(text: string, what = 'TSTOP_NET_SUBNET'): Subnet {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m || m.slice(1, 5).some((x) => Number(x) > 255)) {
    throw new LaunchError(`${what} '${text}': expected an IPv4 subnet such as 10.88.0.0/16`, 2);
  }
  const prefix = Number(m[5]);
  if (prefix < 8 || prefix > 30) throw new LaunchError(`${what} '${text}': the prefix length is 8 to 30`, 2);
  const base = ipToNumber(m.slice(1, 5).join('.'));
  if ((base & mask(prefix)) >>> 0 !== base) {
    throw new LaunchError(
      `${what} '${text}': host bits are set (did you mean ${numberToIp((base & mask(prefix)) >>> 0)}/${prefix}?)`,
      2,
    );
  }
  return { base, prefix };
}

export function subnetText(s: Subnet): string {
  return `${numberToIp(s.base)}/${s.prefix}`;
}

/** The bridge's own address: the first of the subnet. */
export function gatewayOf(s: Subnet): string {
  return numberToIp(s.base + 1);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.base & mask(p)) >>> 0 === (b.base & mask(p)) >>> 0;
}

/**
 * The default subnet: 10.88.0.0/16 unless a route of this network
 * namespace overlaps it, else the first free private /16 (10.89-10.255,
 * then 172.16-31, then 192.168).
 */
export function pickSubnet(routes: Subnet[]): Subnet {
  const candidates: Subnet[] = [];
  for (let b = 88; b <= 255; b++) candidates.push({ base: ipToNumber(`10.${b}.0.0`), prefix: 16 });
  for (let b = 16; b <= 31; b++) candidates.push({ base: ipToNumber(`172.${b}.0.0`), prefix: 16 });
  candidates.push({ base: ipToNumber('192.168.0.0'), prefix: 16 });
  const free = candidates.find((c) => !routes.some((r) => r.prefix > 0 && overlaps(c, r)));
  if (!free) throw new LaunchError('no free private /16 for the bridge: set TSTOP_NET_SUBNET');
  return free;
}

export function netDir(runDir: string): string {
  return path.join(runDir, 'net');
}

function leaseDir(runDir: string): string {
  return path.join(netDir(runDir), 'leases');
}

/** A fresh host-side veth name: veth + 8 hex digits (15 characters is the kernel's limit). */
export function vethName(): string {
  return `veth${crypto.randomBytes(4).toString('hex')}`;
}

/** The lowest free address of the subnet (after its first; never `gateway`, the bridge's own), leased to lease.name. */
export function allocate(
  runDir: string,
  subnet: Subnet,
  lease: Omit<Lease, 'address' | 'subnet'>,
  gateway: string = gatewayOf(subnet),
): Lease {
  const dir = leaseDir(runDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const last = subnet.base + 2 ** (32 - subnet.prefix) - 2; // before the broadcast address
  for (let n = subnet.base + 2; n <= last; n++) {
    const full: Lease = { ...lease, address: numberToIp(n), subnet: subnetText(subnet) };
    if (full.address === gateway) continue;
    let fd: number;
    try {
      fd = fs.openSync(path.join(dir, full.address), 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new LaunchError(`cannot lease an address in ${dir}: ${(err as Error).message}`);
    }
    try {
      fs.writeSync(fd, JSON.stringify(full) + '\n');
    } finally {
      fs.closeSync(fd);
    }
    return full;
  }
  throw new LaunchError(`no free address left in ${subnetText(subnet)} (${dir} holds every one)`);
}

function readLease(file: string): Lease | null {
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Lease;
    return typeof raw.name === 'string' && typeof raw.address === 'string' ? raw : null;
  } catch {
    return null;
  }
}

/** Every lease (a half-written one, from a run killed between create and write, has no name: name ''). */
export function listLeases(runDir: string): Lease[] {
  const dir = leaseDir(runDir);
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return files
    .filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))
    .map(
      (f) =>
        readLease(path.join(dir, f)) ?? {
          name: '',
          address: f,
          subnet: '',
          bridge: '',
          veth: '',
          table: null,
        },
    );
}

export function leasesOf(runDir: string, name: string): Lease[] {
  return listLeases(runDir).filter((l) => l.name === name);
}

/** Gives the address back (after its veth and rules are gone). */
export function freeLease(runDir: string, lease: Lease): void {
  fs.rmSync(path.join(leaseDir(runDir), lease.address), { force: true });
}
