// The benchmark's cgroups: N cgroups under tstop-bench-<pid> in every
// hierarchy (the run's own, removed afterwards), a sleeping process in every
// tenth so init lookups, namespaces and cgroup.procs have real content.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { creationHierarchies, ensureCgroup, removeCgroup } from '../src/cgroupfs/create.js';
import { detectCgroupMounts, type CgroupMounts } from '../src/cgroupfs/mounts.js';

export interface BenchCgroups {
  mounts: CgroupMounts;
  parent: string;
  ids: string[];
  cleanup(): Promise<void>;
}

export async function createBenchCgroups(count: number, processEvery = 10): Promise<BenchCgroups> {
  const mounts = detectCgroupMounts('/');
  const parent = `/tstop-bench-${process.pid}`;
  ensureCgroup(mounts, parent, { inner: true });
  const ids: string[] = [];
  const children: ChildProcess[] = [];
  const procsFiles = (id: string): string[] =>
    creationHierarchies(mounts).map((h) => path.join(h.mountPoint, id, 'cgroup.procs'));
  for (let i = 0; i < count; i++) {
    const id = `${parent}/c${String(i).padStart(5, '0')}`;
    ensureCgroup(mounts, id);
    ids.push(id);
    if (processEvery > 0 && i % processEvery === 0) {
      // sh writes its own pid into the cgroup, then becomes a sleeper.
      const writes = procsFiles(id)
        .map((f) => `echo $$ > ${f}`)
        .join('; ');
      children.push(spawn('sh', ['-c', `${writes}; exec sleep 3600`], { stdio: 'ignore' }));
    }
  }
  // Wait until every sleeper has moved itself in.
  const deadline = Date.now() + 30_000;
  for (const [n, id] of ids.entries()) {
    if (processEvery === 0 || n % processEvery !== 0) continue;
    const memoryProcs = procsFiles(id)[0];
    while (fs.readFileSync(memoryProcs, 'utf8').trim() === '' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    removeOnSignal(mounts, parent, children);
    process.kill(process.pid, signal); // the default action now (exit code 128+n)
  };
  for (const signal of EXIT_SIGNALS) process.once(signal, onSignal);
  return {
    mounts,
    parent,
    ids,
    async cleanup() {
      for (const signal of EXIT_SIGNALS) process.off(signal, onSignal);
      for (const c of children) c.kill('SIGKILL');
      await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
      for (let attempt = 0; ; attempt++) {
        try {
          removeCgroup(mounts, parent);
          return;
        } catch (err) {
          if (attempt > 200) throw err;
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    },
  };
}

/**
 * A bench stopped by a signal (timeout(1), Ctrl-C) would leave its thousand
 * cgroups behind, and every later collection on the host reads them: its
 * sleepers are killed and the fixture removed before it dies.
 */
const EXIT_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function removeOnSignal(mounts: CgroupMounts, parent: string, children: ChildProcess[]): void {
  for (const c of children) c.kill('SIGKILL');
  const pause = new Int32Array(new SharedArrayBuffer(4));
  // The killed sleepers leave their cgroups as they exit: a few ms, no event loop to wait on.
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      removeCgroup(mounts, parent);
      return;
    } catch {
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}
