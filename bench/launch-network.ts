// Launch latency of `tstop run --network bridge` (issue 18) next to
// --network none, inside a network namespace of the bench's own (machine
// safety: the bridge, its nft tables and sysctls never touch the host's
// namespace). Every command goes through the same `nsenter --net`, so the
// rows compare like with like; the namespace (and with it the bridge) dies
// with its holder at the end. Also: a request through a -p port
// (127.0.0.1, DNAT + route_localnet) against the same request straight to
// the container's address, the cost of choosing DNAT over a userland proxy.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const RUNS = 15;
const REQUESTS = 200;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function timed(cmd: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function tool(name: string): string | null {
  return (
    ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].map((d) => path.join(d, name)).find((p) => fs.existsSync(p)) ?? null
  );
}

/** Median ms of one HTTP/1.0 GET with busybox nc (a connect, a request, a close) to host:port, from inside the namespace. */
function requestMs(inNs: string[], busybox: string, host: string, port: number): number {
  const script = `i=0; while [ $i -lt ${REQUESTS} ]; do printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | ${busybox} nc -w 3 ${host} ${port} >/dev/null || exit 1; i=$((i+1)); done`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(inNs[0], [...inNs.slice(1), '/bin/sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`requests to ${host}:${port} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6 / REQUESTS;
}

export function benchNetwork(bin: string, env: NodeJS.ProcessEnv, tmp: string): string[] {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
  const missing = ['ip', 'nft', 'nsenter', 'unshare'].filter((t) => tool(t) === null);
  if (missing.length > 0 || !busybox)
    return [`launch network: skipped (missing ${[...missing, ...(busybox ? [] : ['busybox'])].join(', ')})`];
  const holder = spawn('unshare', ['--net', 'sleep', '100000'], { stdio: 'ignore' });
  try {
    const own = fs.readlinkSync('/proc/self/ns/net');
    const deadline = Date.now() + 5000;
    while (fs.readlinkSync(`/proc/${holder.pid}/ns/net`) === own) {
      if (Date.now() > deadline) throw new Error('the bench netns did not appear');
    }
    const inNs = ['nsenter', `--net=/proc/${holder.pid}/ns/net`, '--'];
    spawnSync(inNs[0], [...inNs.slice(1), 'ip', 'link', 'set', 'lo', 'up']);
    const netEnv = { ...env, TSTOP_BRIDGE: 'tstopbench0', TSTOP_NET_SUBNET: '10.124.0.0/16' };
    const commands: Record<string, string[]> = {
      none: [...inNs, bin, 'run', '--network', 'none', '--', '/bin/true'],
      bridge: [...inNs, bin, 'run', '--network', 'bridge', '--', '/bin/true'],
      publish: [...inNs, bin, 'run', '--network', 'bridge', '-p', '127.0.0.1:18090:80', '--', '/bin/true'],
    };
    const times: Record<string, number[]> = { none: [], bridge: [], publish: [] };
    for (const c of Object.values(commands)) timed(c, netEnv); // warm caches; the first bridge run makes the bridge
    for (let i = 0; i < RUNS; i++) for (const [k, c] of Object.entries(commands)) times[k].push(timed(c, netEnv));
    const none = median(times.none);
    const bridge = median(times.bridge);
    const lines = [
      `launch network: tstop run --network none ${none.toFixed(1)} ms, --network bridge ${bridge.toFixed(1)} ms (+${(bridge - none).toFixed(1)}), bridge with -p ${median(times.publish).toFixed(1)} ms (medians of ${RUNS} interleaved runs, all through nsenter --net into the bench's own namespace)`,
    ];

    // -p: DNAT through 127.0.0.1 against the container's own address.
    const rootfs = path.join(tmp, 'net-rootfs');
    for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'www'])
      fs.mkdirSync(path.join(rootfs, d), { recursive: true });
    fs.copyFileSync(busybox, path.join(rootfs, 'bin', 'busybox'));
    fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
    fs.writeFileSync(path.join(rootfs, 'www', 'index.html'), 'x'.repeat(100));
    const runWeb = [
      ...inNs,
      bin,
      'run',
      '-d',
      '--name',
      'bench-web',
      '--network',
      'bridge',
      '-p',
      '127.0.0.1:18091:8080',
    ];
    timed([...runWeb, '--rootfs', rootfs, '--', '/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'], netEnv);
    try {
      const leases = path.join(env.TSTOP_RUN_DIR as string, 'net', 'leases');
      const lease = fs
        .readdirSync(leases)
        .map((f) => JSON.parse(fs.readFileSync(path.join(leases, f), 'utf8')) as { name: string; address: string })
        .find((l) => l.name === 'bench-web');
      if (!lease) throw new Error('bench-web has no lease');
      const ready = Date.now() + 10_000;
      for (;;) {
        try {
          requestMs(inNs, busybox, lease.address, 8080);
          break;
        } catch (err) {
          if (Date.now() > ready) throw err;
        }
      }
      const direct: number[] = [];
      const dnat: number[] = [];
      for (let i = 0; i < 3; i++) {
        direct.push(requestMs(inNs, busybox, lease.address, 8080));
        dnat.push(requestMs(inNs, busybox, '127.0.0.1', 18091));
      }
      lines.push(
        `launch network: one HTTP/1.0 GET with busybox nc (spawn, connect, request, close): to the container's address ${median(direct).toFixed(2)} ms, through -p 127.0.0.1:PORT (nft DNAT + route_localnet) ${median(dnat).toFixed(2)} ms (medians of 3 rounds of ${REQUESTS})`,
      );
    } finally {
      spawnSync(inNs[0], [...inNs.slice(1), bin, 'rm', '-f', 'bench-web'], { env: netEnv, stdio: 'ignore' });
    }
    return lines;
  } finally {
    holder.kill('SIGKILL');
  }
}
