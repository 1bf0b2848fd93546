// Issue 18, networks: `tstop run --network bridge`, -p, --add-host,
// --network container:NAME and their clean-up, with real veths, a real
// bridge and real nft rules. Machine safety: nothing here touches the
// host's network namespace. tstop runs inside a network namespace the test
// makes (`unshare --net`, held by a sleeping process, entered with nsenter
// --net only, so the host's /sys/fs/cgroup stays visible): the bridge, the
// nft tables, ip_forward and route_localnet all live and die in it. The
// "outside server" is in a second namespace of the test's own.

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLeases } from '../../src/launcher/network/ipam.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { TSTOP_BIN, type RunResult } from '../helpers/limit.js';
import { ensureHelper, findBusybox, makeBusyboxRootfs } from '../native/harness.js';

/** A shell GET of /index.html printing the body (busybox nc: the static busybox's wget crashes in getaddrinfo on Debian 12). */
const GET = (host: string, port: number): string =>
  `printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${host} ${port} | sed '1,/^\\r$/d'`;

const isRoot = process.getuid?.() === 0;
const has = (tool: string): boolean =>
  ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((d) => fs.existsSync(`${d}/${tool}`));
const TOOLS = has('ip') && has('nft') && has('nsenter') && has('unshare');
const BRIDGE = 'tstoptest0';
const SUBNET = '10.123.0.0/16';

/** A network namespace of the test's own, alive while its holder sleeps. */
class TestNetns {
  readonly holder: ChildProcess;
  constructor() {
    this.holder = spawn('unshare', ['--net', 'sleep', '100000'], { stdio: 'ignore' });
  }
  get pid(): number {
    return this.holder.pid as number;
  }
  get nsPath(): string {
    return `/proc/${this.pid}/ns/net`;
  }
  /** Waits until unshare has exec'd sleep (the namespace is the new one). */
  async ready(): Promise<void> {
    const own = fs.readlinkSync('/proc/self/ns/net');
    await waitFor('the test netns', () => {
      try {
        return fs.readlinkSync(this.nsPath) !== own;
      } catch {
        return false;
      }
    });
  }
  /** A command inside (network namespace only). */
  sh(cmd: string[]): string {
    return execFileSync('nsenter', [`--net=${this.nsPath}`, '--', ...cmd], { encoding: 'utf8' });
  }
  kill(): void {
    this.holder.kill('SIGKILL');
  }
}

describe.runIf(isRoot && TOOLS)('tstop run --network bridge / -p / container:NAME (issue 18)', () => {
  let cg: TestCgroups;
  let env: NodeJS.ProcessEnv;
  let runDir: string;
  let rootfs: ReturnType<typeof makeBusyboxRootfs>;
  let hostNs: TestNetns;
  let serverNs: TestNetns;
  let busybox: string;
  const children = new Set<ChildProcess>();

  /** `tstop ARGS` inside the test's "host" namespace. */
  const tstop = (args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> => {
    const start = Date.now();
    return new Promise((resolve) => {
      execFile(
        'nsenter',
        [`--net=${hostNs.nsPath}`, '--', process.execPath, TSTOP_BIN, ...args],
        { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 90_000 },
        (err, stdout, stderr) => {
          const code = err
            ? typeof (err as { code?: unknown }).code === 'number'
              ? (err as { code: number }).code
              : -1
            : 0;
          resolve({ code, stdout, stderr, ms: Date.now() - start });
        },
      );
    });
  };
  const bridged = (name: string, extra: string[], cmd: string[]): string[] => [
    'run',
    '--name',
    name,
    '--network',
    'bridge',
    '--rootfs',
    rootfs.rootfs,
    ...extra,
    '--',
    ...cmd,
  ];
  const leaseOf = (name: string): string | undefined => listLeases(runDir).find((l) => l.name === name)?.address;
  const links = (): string[] =>
    (JSON.parse(hostNs.sh(['ip', '-j', 'link', 'show'])) as Array<{ ifname: string }>).map((l) => l.ifname);
  const tables = (): string[] =>
    hostNs
      .sh(['nft', 'list', 'tables'])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^table ip /, ''));
  /** GET /index.html from inside the test's "host" namespace: the body, or null when nothing answers. */
  const fetchFromHost = (host: string, port: number): string | null => {
    try {
      const out = execFileSync(
        'nsenter',
        [`--net=${hostNs.nsPath}`, '--', busybox, 'nc', '-w', '3', host, String(port)],
        {
          input: 'GET /index.html HTTP/1.0\r\n\r\n',
          encoding: 'utf8',
          stdio: ['pipe', 'pipe', 'ignore'],
        },
      );
      return out.startsWith('HTTP/1.') ? out.slice(out.indexOf('\r\n\r\n') + 4) : null;
    } catch {
      return null;
    }
  };

  beforeAll(async () => {
    ensureHelper();
    const bb = findBusybox();
    if (!bb) throw new Error('a static busybox is needed: apt-get install busybox-static');
    busybox = bb;
    cg = new TestCgroups('net');
    runDir = cg.tmp('state');
    env = {
      ...process.env,
      TSTOP_RUN_DIR: runDir,
      TSTOP_RUN_PARENT: `${cg.id()}/tstop`,
      TSTOP_BRIDGE: BRIDGE,
      TSTOP_NET_SUBNET: SUBNET,
    };
    rootfs = makeBusyboxRootfs(busybox);
    fs.mkdirSync(path.join(rootfs.rootfs, 'www'));
    fs.writeFileSync(path.join(rootfs.rootfs, 'www', 'index.html'), 'hello from the container\n');
    hostNs = new TestNetns();
    serverNs = new TestNetns();
    await Promise.all([hostNs.ready(), serverNs.ready()]);
    hostNs.sh(['ip', 'link', 'set', 'lo', 'up']);
    // host ns <-> server ns, a /24 of their own; the server knows no route to the containers' subnet (NAT must do it).
    hostNs.sh(['ip', 'link', 'add', 'tsrv0', 'type', 'veth', 'peer', 'name', 'tsrv1', 'netns', String(serverNs.pid)]);
    hostNs.sh(['ip', 'addr', 'add', '192.168.240.1/24', 'dev', 'tsrv0']);
    hostNs.sh(['ip', 'link', 'set', 'tsrv0', 'up']);
    serverNs.sh(['ip', 'addr', 'add', '192.168.240.2/24', 'dev', 'tsrv1']);
    serverNs.sh(['ip', 'link', 'set', 'tsrv1', 'up']);
    serverNs.sh(['ip', 'link', 'set', 'lo', 'up']);
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    const left = fs.existsSync(runDir ?? '')
      ? fs
          .readdirSync(runDir)
          .filter((f) => f.endsWith('.json'))
          .map((f) => f.slice(0, -5))
      : [];
    if (hostNs && left.length > 0) await tstop(['rm', '-f', ...left]);
    hostNs?.kill(); // the bridge, the nft tables and every veth go with the namespace
    serverNs?.kill();
    await cg?.cleanup();
    rootfs?.cleanup();
  });

  it('two bridged containers reach each other by address (ping and HTTP)', async () => {
    const a = await tstop(bridged('peer-a', ['-d'], ['httpd', '-f', '-p', '8080', '-h', '/www']));
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const addrA = leaseOf('peer-a');
    expect(addrA).toMatch(/^10\.123\.\d+\.\d+$/);
    const b = await tstop(
      bridged(
        'peer-b',
        ['--rm'],
        [
          'sh',
          '-c',
          `ip -4 -o addr show eth0; ip route; ping -c 1 -W 5 ${addrA} >/dev/null && echo ping-ok; ${GET(addrA as string, 8080)}`,
        ],
      ),
    );
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/eth0\s+inet 10\.123\.\d+\.\d+\/16/);
    expect(b.stdout).toMatch(/^default via 10\.123\.0\.1 dev eth0/m);
    expect(b.stdout).toContain('ping-ok\nhello from the container\n');
    expect((await tstop(['rm', '-f', 'peer-a'])).code).toBe(0);
  });

  it('-p 127.0.0.1:PORT:8080: busybox httpd answers a fetch from the host side, through 127.0.0.1', async () => {
    const r = await tstop(
      bridged('web', ['-d', '-p', '127.0.0.1:18080:8080'], ['httpd', '-f', '-p', '8080', '-h', '/www']),
    );
    expect(r.code).toBe(0);
    const body = await waitFor('the published port', () => fetchFromHost('127.0.0.1', 18080), 20_000, 200);
    expect(body).toBe('hello from the container\n');
    // Bound to 127.0.0.1 only: the host's other address does not answer.
    expect(fetchFromHost('192.168.240.1', 18080)).toBeNull();
    expect(tables()).toContain('tstop-c-web');
  });

  it("--network container:web shares web's network namespace (its lo and eth0)", async () => {
    const r = await tstop([
      'run',
      '--rm',
      '--network',
      'container:web',
      '--rootfs',
      rootfs.rootfs,
      '--',
      'sh',
      '-c',
      `ip -4 -o addr show eth0 | grep -o 'inet [0-9.]*'; ${GET('127.0.0.1', 8080)}`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`inet ${leaseOf('web')}\nhello from the container\n`);
    expect((await tstop(['rm', '-f', 'web'])).code).toBe(0);
  });

  it('a container reaches a server in another network namespace (NAT), with its own /etc/hosts and resolv.conf', async () => {
    const www = cg.tmp('server-www');
    fs.mkdirSync(www);
    fs.writeFileSync(path.join(www, 'index.html'), 'hello from the outside server\n');
    const server = spawn(
      'nsenter',
      [`--net=${serverNs.nsPath}`, '--', busybox, 'httpd', '-f', '-p', '192.168.240.2:8081', '-h', www],
      {
        stdio: 'ignore',
      },
    );
    children.add(server);
    await waitFor('the outside server', () => fetchFromHost('192.168.240.2', 8081), 20_000, 200);
    const r = await tstop(
      bridged(
        'client',
        ['--rm', '--add-host', 'outside:192.168.240.2', '--add-host', 'gw:host-gateway', '--dns', '192.0.2.53'],
        ['sh', '-c', `cat /etc/hosts /etc/resolv.conf; ${GET('outside', 8081)}`],
      ),
    );
    server.kill('SIGKILL');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^10\.123\.\d+\.\d+\tclient$/m);
    expect(r.stdout).toContain('192.168.240.2\toutside\n10.123.0.1\tgw\nnameserver 192.0.2.53\n');
    expect(r.stdout.endsWith('hello from the outside server\n')).toBe(true);
    // The host's own files are untouched; the container's are gone with it.
    expect(fs.readdirSync(path.join(runDir, 'net')).sort()).toEqual(['leases']);
  });

  it('after tstop rm, no veth, nft table or address lease is left', async () => {
    const before = links();
    const r = await tstop(bridged('gone', ['-d', '-p', '18081:8080'], ['sleep', '600']));
    expect(r.code).toBe(0);
    const lease = listLeases(runDir).find((l) => l.name === 'gone');
    expect(lease?.veth).toMatch(/^veth[0-9a-f]{8}$/);
    expect(links()).toContain(lease?.veth);
    expect(tables()).toContain('tstop-c-gone');
    expect((await tstop(['rm', '-f', 'gone'])).code).toBe(0);
    expect(links()).toEqual(before);
    expect(tables()).not.toContain('tstop-c-gone');
    expect(leaseOf('gone')).toBeUndefined();
  });

  it('after kill -9 of tstop (and the container dying), tstop ps releases its veth, rules and address', async () => {
    const before = links();
    const child = spawn(
      'nsenter',
      [
        `--net=${hostNs.nsPath}`,
        '--',
        process.execPath,
        TSTOP_BIN,
        ...bridged('k9', ['-p', '18082:8080'], ['sleep', '600']),
      ],
      { env, stdio: 'ignore' },
    );
    children.add(child);
    const st = await waitFor(
      'k9 running',
      () => {
        try {
          const s = JSON.parse(fs.readFileSync(path.join(runDir, 'k9.json'), 'utf8')) as {
            status: string;
            pid: number;
            helper: { pid: number };
          };
          return s.status === 'running' ? s : null;
        } catch {
          return null;
        }
      },
      30_000,
    );
    expect(tables()).toContain('tstop-c-k9');
    child.kill('SIGKILL'); // nsenter exec'd node: this is tstop itself
    await new Promise((r) => child.once('exit', r));
    process.kill(st.helper.pid, 'SIGKILL'); // the container dies with its helper
    await waitFor('the workload to die', () => !fs.existsSync(`/proc/${st.pid}/stat`) || undefined);
    expect(leaseOf('k9')).toBeDefined(); // nobody released it yet
    const ps = await tstop(['ps', '-a']);
    expect(ps.stdout).toMatch(/^k9\s+-\s+Exited \(\?\)/m);
    expect(links()).toEqual(before);
    expect(tables()).not.toContain('tstop-c-k9');
    expect(leaseOf('k9')).toBeUndefined();
    expect((await tstop(['rm', 'k9'])).code).toBe(0);
  });

  it('--userns with --network bridge: the child addresses eth0 in a namespace its user namespace owns', async () => {
    const r = await tstop(
      bridged(
        'mapped',
        ['--rm', '--userns', '100000:65536'],
        [
          'sh',
          '-c',
          "ip -4 -o addr show eth0 | grep -o 'inet [0-9./]*'; ping -c 1 -W 5 10.123.0.1 >/dev/null && echo ping-ok",
        ],
      ),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^inet 10\.123\.\d+\.\d+\/16\nping-ok\n$/);
  });

  it('two parallel runs get different addresses', async () => {
    const cmd = ['sh', '-c', "ip -4 -o addr show eth0 | grep -o 'inet [0-9.]*'; sleep 1"];
    const runs = await Promise.all(['par1', 'par2', 'par3'].map((n) => tstop(bridged(n, ['--rm'], cmd))));
    for (const r of runs) expect(r.code).toBe(0);
    const addresses = runs.map((r) => r.stdout.trim());
    for (const a of addresses) expect(a).toMatch(/^inet 10\.123\.\d+\.\d+$/);
    expect(new Set(addresses).size).toBe(3);
    expect(listLeases(runDir)).toEqual([]);
  });

  it("a bridged container's eth0 bytes show up in tstop snapshot --json", async () => {
    const r = await tstop(
      bridged('counted', ['-d'], ['sh', '-c', 'ping -c 3 -s 1000 10.123.0.1 >/dev/null; sleep 600']),
    );
    expect(r.code).toBe(0);
    const eth0 = await waitFor(
      'eth0 counters',
      () => {
        const out = execFileSync(
          process.execPath,
          [TSTOP_BIN, 'snapshot', '--json', '--interval', '0', '--filter', 'counted'],
          {
            env,
            encoding: 'utf8',
          },
        );
        const snap = JSON.parse(out) as {
          containers: Array<{
            name: string;
            network: Array<{ interface: string; rxBytes: number; txBytes: number }> | null;
          }>;
        };
        const c = snap.containers.find((x) => x.name === 'counted');
        const e = c?.network?.find((n) => n.interface === 'eth0');
        return e && e.txBytes >= 3 * 1000 && e.rxBytes >= 3 * 1000 ? e : null;
      },
      20_000,
      300,
    );
    expect(eth0.txBytes).toBeGreaterThanOrEqual(3000);
    expect((await tstop(['rm', '-f', 'counted'])).code).toBe(0);
  });

  it('without nft: a plain note that the container reaches the host only; -p refused, nothing left', async () => {
    const r = await tstop(bridged('nonat', ['--rm'], ['ping', '-c', '1', '-W', '5', '10.123.0.1']), {
      TSTOP_NFT: 'none',
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /nft \(nftables\) is not installed: no NAT, so the container reaches this host \(10\.123\.0\.1\) and other containers only/,
    );
    const p = await tstop(bridged('nonat', ['--rm', '-p', '18083:80'], ['true']), { TSTOP_NFT: 'none' });
    expect(p.code).toBe(125);
    expect(p.stderr).toMatch(/-p needs nftables \(nft\)/);
    expect(listLeases(runDir)).toEqual([]);
    expect(fs.existsSync(path.join(runDir, 'nonat.json'))).toBe(false);
  });

  it('bad -p / --network / --add-host / --dns values exit 2 with a specific message and change nothing', async () => {
    const linksBefore = links();
    const tablesBefore = tables();
    const stateBefore = fs.readdirSync(runDir).sort();
    const rf = ['--rootfs', rootfs.rootfs];
    const cases: Array<[string[], RegExp]> = [
      [['--network', 'bridged'], /--network 'bridged': tstop offers 'none'.*'bridge'.*'container:NAME'/],
      [['--network', 'container:'], /--network 'container:': container:NAME needs the name of a tstop container/],
      [['--network', 'container:nosuch'], /--network container:nosuch: no tstop container 'nosuch'/],
      [['--network', 'bridge', '-p', '80'], /--publish '80': expected \[IP:\]HOSTPORT:CONTAINERPORT\[\/tcp\|udp\]/],
      [['--network', 'bridge', '-p', '70000:80'], /--publish '70000:80': 70000 is not a port \(1-65535\)/],
      [
        ['--network', 'bridge', '-p', '8080:80/sctp'],
        /--publish '8080:80\/sctp': the protocol is tcp or udp, not 'sctp'/,
      ],
      [['--network', 'bridge', '-p', '1.2.3:80:80'], /--publish '1.2.3:80:80': 1\.2\.3 is not an IPv4 address/],
      [
        ['--network', 'bridge', '-p', '8080:80', '-p', '8080:81'],
        /--publish '8080:81': host port 8080\/tcp is published twice/,
      ],
      [['-p', '8080:80'], /--publish '8080:80': publishing a port needs --network bridge \(not none\)/],
      [['--network', 'bridge', ...rf, '--add-host', 'foo'], /--add-host 'foo': expected NAME:IP/],
      [['--network', 'bridge', ...rf, '--add-host', 'foo:bar'], /--add-host 'foo:bar': 'bar' is not an IP address/],
      [['--network', 'bridge', ...rf, '--add-host', 'bad_name!:1.2.3.4'], /'bad_name!' is not a host name/],
      [['--network', 'bridge', '--add-host', 'foo:1.2.3.4'], /--dns and --add-host need --rootfs/],
      [['--network', 'host', ...rf, '--add-host', 'gw:host-gateway'], /host-gateway needs --network bridge/],
      [['--network', 'bridge', ...rf, '--dns', 'x'], /--dns 'x': expected the IP address of a name server/],
      [['--network', 'bridge', ...rf, '--userns', '100000', '--dns', '192.0.2.1'], /do not work with --userns yet/],
    ];
    for (const [flags, message] of cases) {
      const r = await tstop(['run', '--rm', ...flags, '--', 'true']);
      expect({ flags, code: r.code }).toEqual({ flags, code: 2 });
      expect(r.stderr).toMatch(message);
    }
    expect(links()).toEqual(linksBefore);
    expect(tables()).toEqual(tablesBefore);
    expect(fs.readdirSync(runDir).sort()).toEqual(stateBefore);
  });
});
