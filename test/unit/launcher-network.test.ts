// The pure parts of tstop's networks: flag parsing, the subnet arithmetic,
// address leases (real files in a temp dir), the container's /etc files,
// and the helper spec's network keys.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAddHost, parseNetworkFlags, parsePublish } from '../../src/launcher/network/flags.js';
import { hostsText, resolvText } from '../../src/launcher/network/etc-files.js';
import {
  allocate,
  freeLease,
  gatewayOf,
  ipToNumber,
  listLeases,
  parseSubnet,
  pickSubnet,
  subnetText,
} from '../../src/launcher/network/ipam.js';
import { parseSpecRecords, serializeSpec, type RunSpec } from '../../src/launcher/spec.js';

const flags = (over: Partial<Parameters<typeof parseNetworkFlags>[0]> = {}) => ({
  network: undefined,
  publish: [],
  dns: [],
  addHost: [],
  ...over,
});

describe('network flags', () => {
  it('-p forms: HOSTPORT:CONTAINERPORT, with an address, with a protocol', () => {
    expect(parsePublish('8080:80')).toEqual({ hostIp: null, hostPort: 8080, containerPort: 80, protocol: 'tcp' });
    expect(parsePublish('127.0.0.1:18080:8080/udp')).toEqual({
      hostIp: '127.0.0.1',
      hostPort: 18080,
      containerPort: 8080,
      protocol: 'udp',
    });
    expect(parsePublish('0.0.0.0:53:53/tcp').hostIp).toBeNull();
    expect(() => parsePublish('80')).toThrow(/expected \[IP:\]HOSTPORT:CONTAINERPORT/);
    expect(() => parsePublish('0:80')).toThrow(/0 is not a port/);
    expect(() => parsePublish('::1:80:80')).toThrow(/is not an IPv4 address/);
  });

  it('--add-host: NAME:IP, NAME=IP, IPv6 keeps its colons, host-gateway', () => {
    expect(parseAddHost('db:10.0.0.5')).toEqual({ name: 'db', ip: '10.0.0.5' });
    expect(parseAddHost('db=10.0.0.5')).toEqual({ name: 'db', ip: '10.0.0.5' });
    expect(parseAddHost('v6:fd00::1')).toEqual({ name: 'v6', ip: 'fd00::1' });
    expect(parseAddHost('gw:host-gateway').ip).toBe('host-gateway');
    expect(() => parseAddHost('db:10.0.0')).toThrow(/'10\.0\.0' is not an IP address/);
  });

  it('conflicts: -p needs a bridge, container:NAME takes no --dns/--add-host, 0.0.0.0 clashes with any address', () => {
    expect(() => parseNetworkFlags(flags({ network: 'host', publish: ['80:80'] }), true)).toThrow(
      /needs --network bridge \(not host\)/,
    );
    expect(() => parseNetworkFlags(flags({ network: 'container:web', dns: ['1.1.1.1'] }), true)).toThrow(
      /conflict with --network container:web/,
    );
    expect(() => parseNetworkFlags(flags({ network: 'bridge', publish: ['127.0.0.1:80:80', '80:81'] }), true)).toThrow(
      /'80:81': host port 80\/tcp is published twice/,
    );
    // Same port, other protocol or other addresses: fine.
    const ok = parseNetworkFlags(
      flags({ network: 'bridge', publish: ['80:80', '80:80/udp', '127.0.0.1:81:80', '127.0.0.2:81:80'] }),
      false,
    );
    expect(ok.publish).toHaveLength(4);
    expect(parseNetworkFlags(flags(), false)).toEqual({ mode: 'none', publish: [], dns: [], addHosts: [] });
  });
});

describe('subnets', () => {
  it('parses and checks', () => {
    const s = parseSubnet('10.88.0.0/16');
    expect(subnetText(s)).toBe('10.88.0.0/16');
    expect(gatewayOf(s)).toBe('10.88.0.1');
    expect(() => parseSubnet('10.88.0.1/16')).toThrow(/host bits are set \(did you mean 10\.88\.0\.0\/16\?\)/);
    expect(() => parseSubnet('10.88.0.0/31')).toThrow(/prefix length is 8 to 30/);
    expect(() => parseSubnet('10.300.0.0/16')).toThrow(/expected an IPv4 subnet/);
  });

  it('the default is 10.88.0.0/16 unless a route overlaps it, then the next free private /16', () => {
    expect(subnetText(pickSubnet([]))).toBe('10.88.0.0/16');
    const taken = [parseSubnet('10.0.0.0/8')];
    expect(subnetText(pickSubnet(taken))).toBe('172.16.0.0/16');
    const one = [{ base: ipToNumber('10.88.3.4'), prefix: 32 }, parseSubnet('10.89.0.0/16')];
    expect(subnetText(pickSubnet(one))).toBe('10.90.0.0/16');
    // A default route (0.0.0.0/0) overlaps everything; it is not a reason to skip.
    expect(subnetText(pickSubnet([{ base: 0, prefix: 0 }]))).toBe('10.88.0.0/16');
  });
});

describe('address leases', () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = null;
  });
  const lease = (name: string) => ({ name, bridge: 'tstop0', veth: `veth-${name}`, table: null });

  it('the lowest free address, never the gateway; freed ones are reused; a full subnet says so', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-ipam-'));
    const s = parseSubnet('10.9.0.0/29'); // .1 gateway, .2-.6 containers, .7 broadcast
    const got = ['a', 'b', 'c', 'd', 'e'].map((n) => allocate(dir as string, s, lease(n)).address);
    expect(got).toEqual(['10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']);
    expect(() => allocate(dir as string, s, lease('f'))).toThrow(/no free address left in 10\.9\.0\.0\/29/);
    freeLease(
      dir,
      listLeases(dir).find((l) => l.name === 'c')!,
    );
    expect(allocate(dir, s, lease('g')).address).toBe('10.9.0.4');
  });

  it("never hands out the bridge's own address, wherever it is in the subnet", () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-ipam-'));
    const s = parseSubnet('10.9.0.0/24');
    expect(allocate(dir, s, lease('a'), '10.9.0.2').address).toBe('10.9.0.3');
  });

  it('processes allocating at once never share an address (O_EXCL lease files)', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-ipam-'));
    const { execFile } = await import('node:child_process');
    const ipam = path.resolve('dist/src/launcher/network/ipam.js');
    const script = `const m = await import(${JSON.stringify(ipam)});
      const s = m.parseSubnet('10.9.0.0/24');
      for (let i = 0; i < 10; i++) m.allocate(process.argv[1], s, { name: 'p' + process.pid + '-' + i, bridge: 'b', veth: 'v', table: null });`;
    await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<void>((resolve, reject) =>
            execFile(process.execPath, ['--input-type=module', '-e', script, dir as string], (err) =>
              err ? reject(err) : resolve(),
            ),
          ),
      ),
    );
    const leases = listLeases(dir);
    expect(leases).toHaveLength(60);
    expect(new Set(leases.map((l) => l.name)).size).toBe(60);
    expect(new Set(leases.map((l) => l.address)).size).toBe(60);
  });
});

describe("the container's /etc files", () => {
  const req = {
    mode: 'bridge' as const,
    publish: [],
    dns: [],
    addHosts: [
      { name: 'db', ip: '10.0.0.5' },
      { name: 'gw', ip: 'host-gateway' },
    ],
  };
  it('hosts: localhost, the container by its address, the extra hosts (host-gateway = the bridge)', () => {
    expect(hostsText({ hostname: 'web', address: '10.88.0.2', gateway: '10.88.0.1', req })).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.88.0.2\tweb\n10.0.0.5\tdb\n10.88.0.1\tgw\n',
    );
  });
  it("resolv.conf: --dns, else the host's non-loopback servers, else docker's fallback; search and options kept", () => {
    const host = 'nameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch example.org\noptions edns0\n';
    expect(resolvText(req, host)).toBe('nameserver 192.0.2.1\nsearch example.org\noptions edns0\n');
    expect(resolvText({ ...req, dns: ['1.1.1.1'] }, host)).toBe(
      'nameserver 1.1.1.1\nsearch example.org\noptions edns0\n',
    );
    expect(resolvText(req, 'nameserver 127.0.0.53\n')).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });
});

describe('helper spec: network keys', () => {
  const base: RunSpec = { mode: 'run', argv: ['true'], env: {}, capabilities: [], namespaces: ['mnt', 'net'] };
  it('net_wait_fd with the net namespace; netns_fd without it', () => {
    const rec = parseSpecRecords(serializeSpec({ ...base, netWaitFd: 5 }));
    expect(rec).toContainEqual(['net_wait_fd', '5']);
    const joined = parseSpecRecords(serializeSpec({ ...base, namespaces: ['mnt'], netnsFd: 5 }));
    expect(joined).toContainEqual(['netns_fd', '5']);
    expect(() => serializeSpec({ ...base, netnsFd: 5 })).toThrow(/not with the net namespace/);
    expect(() => serializeSpec({ ...base, namespaces: ['mnt'], netWaitFd: 5 })).toThrow(/needs the net namespace/);
  });
});
