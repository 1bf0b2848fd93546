// The deployment files say what the issue and docs promise: read-only host
// mounts, host PID, --root, a scrape annotation; a hardened systemd unit.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const repo = path.resolve(import.meta.dirname, '../..');

interface Doc {
  kind: string;
  spec?: {
    template?: {
      metadata: { annotations: Record<string, string> };
      spec: {
        hostPID?: boolean;
        containers: {
          args: string[];
          volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
          securityContext: { capabilities: { add: string[]; drop: string[] }; readOnlyRootFilesystem: boolean };
        }[];
        volumes: { name: string; hostPath?: { path: string } }[];
      };
    };
  };
}

describe('deploy/', () => {
  const docs = parseAllDocuments(
    fs.readFileSync(path.join(repo, 'deploy/kubernetes/tstop-daemonset.yaml'), 'utf8'),
  ).map((d) => d.toJSON() as Doc);
  const ds = docs.find((d) => d.kind === 'DaemonSet')!;
  const pod = ds.spec!.template!;
  const c = pod.spec.containers[0];

  it('runs the exporter in the host PID namespace with --root over read-only host mounts', () => {
    expect(pod.spec.hostPID).toBe(true);
    expect(c.args.slice(0, 3)).toEqual(['export', '--root=/host', '--listen=:9338']);
    const mount = (hostPath: string) => {
      const vol = pod.spec.volumes.find((v) => v.hostPath?.path === hostPath)!;
      return c.volumeMounts.find((m) => m.name === vol.name)!;
    };
    expect(mount('/sys/fs/cgroup')).toMatchObject({ mountPath: '/host/sys/fs/cgroup', readOnly: true });
    expect(mount('/proc')).toMatchObject({ mountPath: '/host/proc', readOnly: true });
    // Every host path read-only but the recorder's store.
    expect(c.volumeMounts.filter((m) => m.readOnly !== true).map((m) => m.mountPath)).toEqual(['/var/lib/tstop/store']);
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['SYS_PTRACE', 'DAC_READ_SEARCH'] });
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it('records into a hostPath store in the same process (one agent per node)', () => {
    expect(c.args.slice(3)).toEqual([
      '--record',
      '--store=/var/lib/tstop/store',
      '--record-interval=5s',
      '--retain=7d',
      '--max-size=2GiB',
    ]);
    const vol = pod.spec.volumes.find((v) => v.hostPath?.path === '/var/lib/tstop/store')!;
    expect(vol.hostPath).toEqual({ path: '/var/lib/tstop/store', type: 'DirectoryOrCreate' });
    expect(c.volumeMounts.find((m) => m.name === vol.name)).toMatchObject({ mountPath: '/var/lib/tstop/store' });
  });

  it('is found by Prometheus through scrape annotations or a ServiceMonitor', () => {
    expect(pod.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9338',
      'prometheus.io/path': '/metrics',
    });
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'DaemonSet', 'Service', 'ServiceMonitor']);
  });

  it('has a systemd unit that runs tstop export with a config file and few capabilities', () => {
    const unit = fs.readFileSync(path.join(repo, 'deploy/tstop-export.service'), 'utf8');
    expect(unit).toMatch(
      /^ExecStart=\/usr\/local\/bin\/tstop export --config \/etc\/tstop\/tstop.yml --record --store \/var\/lib\/tstop\/store$/m,
    );
    expect(unit).toMatch(/^StateDirectory=tstop\/store$/m);
    expect(unit).toMatch(/^ReadWritePaths=\/var\/lib\/tstop\/store$/m);
    expect(unit).toMatch(/^CapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH$/m);
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    expect(unit).toMatch(/^WantedBy=multi-user.target$/m);
  });
});

describe('laziness', () => {
  it('keeps the export command file light: no static import of the exporter or prom-client', () => {
    const src = fs.readFileSync(path.join(repo, 'src/cli/commands/export.ts'), 'utf8');
    const staticImports = [...src.matchAll(/^import\s+(type\s+)?[^'"]*from\s+'([^']+)';$/gm)]
      .filter((m) => !m[1])
      .map((m) => m[2]);
    // Flag declarations only (no implementation): the agent's --guard, the shared --store.
    expect(staticImports).toEqual(['../collection-flags.js', './agent-flags.js', './shared-flags.js']);
    for (const flagsFile of ['agent-flags.ts', 'shared-flags.ts']) {
      const text = fs.readFileSync(path.join(repo, 'src/cli/commands', flagsFile), 'utf8');
      expect([...text.matchAll(/^import\s+(?!type)[^'"]*from\s+'([^']+)';$/gm)].map((m) => m[1])).toEqual([]);
    }
    expect(src).toContain("await import('../export.js')");
    // collection-flags pulls in only node:path and the command layer at run time.
    const flags = fs.readFileSync(path.join(repo, 'src/cli/collection-flags.ts'), 'utf8');
    expect(flags).not.toMatch(/from '(prom-client|\.\.\/exporter[^']*)'/);
  });
});
