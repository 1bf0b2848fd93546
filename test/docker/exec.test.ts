// `tstop exec` into a docker container next to `docker exec` into the same
// one: what the command sees of itself (/proc/self/status, /proc/self/cgroup,
// hostname, user, environment) is compared line by line. Where tstop exec
// differs on purpose or by a known gap, the test names the difference
// (docs/launcher.md, "tstop exec into other runtimes' containers").

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { docker, dockerOk, tstopRootFlags } from './engine.js';
import { runContainer, tstop } from './tstop.js';

const info = inject('docker');

const PROBE = [
  'sh',
  '-c',
  'echo "hostname=$(hostname)"; echo "id=$(id -u):$(id -g)"; echo "path=$PATH"; echo "pwd=$(pwd)";' +
    ' grep -E "^(Cap[A-Za-z]*|Seccomp|NoNewPrivs):" /proc/self/status | tr -d "\\t"; sed "s/^/cgroup=/" /proc/self/cgroup',
];

/** "key=value" or "Key:value" lines → map (cgroup lines keyed by their controllers). */
function parseProbe(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.trim().split('\n')) {
    const cg = /^cgroup=\d+:([^:]*):(.*)$/.exec(line);
    if (cg) m.set(`cgroup ${cg[1] || 'unified'}`, cg[2]);
    else {
      const kv = /^([A-Za-z_]+)[=:](.*)$/.exec(line);
      if (kv) m.set(kv[1], kv[2]);
    }
  }
  return m;
}

describe('tstop exec into a docker container, compared with docker exec', () => {
  let id: string;
  let viaDocker: Map<string, string>;
  let viaTstop: Map<string, string>;

  beforeAll(async () => {
    id = await runContainer(info, ['--name', 'ex', '--hostname', 'exhost', info.image, 'sleep', '100000']);
    viaDocker = parseProbe(await dockerOk(info, ['exec', 'ex', ...PROBE]));
    const r = await tstop(['exec', ...tstopRootFlags(info), 'ex', ...PROBE]);
    expect(r.code, r.stderr).toBe(0);
    viaTstop = parseProbe(r.stdout);
  });

  afterAll(async () => {
    await docker(info, ['rm', '-f', 'ex']);
  });

  it("tstop exec 'ex' sh -c hostname: by name with --docker-root, the same answer as docker exec", async () => {
    const t = await tstop(['exec', '--docker-root', info.dataRoot, 'ex', 'sh', '-c', 'hostname']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toBe(await dockerOk(info, ['exec', 'ex', 'sh', '-c', 'hostname']).then((s) => s + '\n'));
    expect(t.stdout).toBe('exhost\n');
    // By id prefix, no flags needed.
    expect((await tstop(['exec', id.slice(0, 12), 'hostname'])).stdout).toBe('exhost\n');
  });

  it('same hostname, user, PATH, working directory; the same effective, permitted and bounding capabilities', () => {
    for (const key of ['hostname', 'id', 'path', 'pwd', 'CapEff', 'CapPrm', 'CapBnd', 'CapAmb']) {
      expect([key, viaTstop.get(key)]).toEqual([key, viaDocker.get(key)]);
    }
    expect(viaDocker.get('CapEff')).toBe('00000000a80425fb'); // docker's default 14
  });

  it('the same cgroup in every hierarchy, name=systemd included', () => {
    const controllers = [...viaDocker.keys()].filter((k) => k.startsWith('cgroup '));
    expect(controllers.length).toBeGreaterThan(5);
    for (const k of controllers) {
      expect([k, viaTstop.get(k)]).toEqual([k, `/docker/${id}`]);
      expect([k, viaDocker.get(k)]).toEqual([k, `/docker/${id}`]);
    }
  });

  it('enters with the same sandbox as docker exec: a seccomp filter, its no_new_privs, an empty inheritable set', () => {
    expect([viaDocker.get('Seccomp'), viaTstop.get('Seccomp')]).toEqual(['2', '2']);
    expect(viaTstop.get('NoNewPrivs')).toBe(viaDocker.get('NoNewPrivs'));
    expect([viaDocker.get('CapInh'), viaTstop.get('CapInh')]).toEqual(['0000000000000000', '0000000000000000']);
  });
});
