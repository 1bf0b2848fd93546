// Process detail for the dashboard: the /proc parsers on captured contents,
// and the sampler on this test's own process and a busy child.

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  parseCmdline,
  parsePasswd,
  parseProcStat,
  parseProcStatus,
  ProcessSampler,
} from '../../collectors/proc-detail.js';

describe('parsers', () => {
  it('reads /proc/<pid>/stat, with spaces and parentheses in the command name', () => {
    const stat =
      '4242 (my (odd) proc) R 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 3 0 123456 10000000 2500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0';
    expect(parseProcStat(stat)).toEqual({
      comm: 'my (odd) proc',
      state: 'R',
      ppid: 1,
      cpuTicks: 300,
      threads: 3,
      startTicks: 123456,
    });
    expect(parseProcStat('garbage')).toBeNull();
    expect(parseProcStat('1 (x) S 0')).toBeNull();
  });

  it('reads the effective uid and VmRSS from /proc/<pid>/status', () => {
    const status =
      'Name:\tnginx\nState:\tS (sleeping)\nUid:\t0\t33\t33\t33\nGid:\t0\t33\t33\t33\nVmRSS:\t   10240 kB\n';
    expect(parseProcStatus(status)).toEqual({ uid: 33, rssBytes: 10240 * 1024 });
    expect(parseProcStatus('Name:\tkthreadd\nUid:\t0\t0\t0\t0\n')).toEqual({ uid: 0, rssBytes: 0 });
  });

  it('joins the NUL-separated command line; kernel threads have none', () => {
    expect(parseCmdline(Buffer.from('nginx: worker\0-g\0daemon off;\0'))).toBe('nginx: worker -g daemon off;');
    expect(parseCmdline(Buffer.from(''))).toBe('');
  });

  it('maps uids to names from /etc/passwd, first entry wins', () => {
    const users = parsePasswd(
      'root:x:0:0:root:/root:/bin/sh\n# comment\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\ntoor:x:0:0::/:/bin/sh\nbad line\n',
    );
    expect([...users]).toEqual([
      [0, 'root'],
      [33, 'www-data'],
    ]);
  });
});

describe('ProcessSampler', () => {
  it('reads this process and a busy child, with CPU % from the second sample', async () => {
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 5000; while (Date.now() < end);'], {
      stdio: 'ignore',
    });
    try {
      const sampler = new ProcessSampler('/');
      const pids = [process.pid, child.pid!, 999_999_999];
      const first = sampler.sample(pids);
      expect(first.total).toBe(3);
      expect(first.processes.map((p) => p.pid)).toEqual([process.pid, child.pid]); // the missing pid is skipped
      expect(first.processes.every((p) => p.cpuPercent === null)).toBe(true);
      await new Promise((r) => setTimeout(r, 1000));
      const second = sampler.sample(pids);
      const me = second.processes.find((p) => p.pid === process.pid)!;
      const busy = second.processes.find((p) => p.pid === child.pid)!;
      expect(me.command).toContain('node');
      expect(me.user).toBe(process.getuid?.() === 0 ? 'root' : expect.any(String));
      expect(me.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(busy.state).toBe('R');
      // A busy loop: up to a full core, less when the machine's CPUs are shared with other work.
      expect(busy.cpuPercent).toBeGreaterThan(10);
      expect(busy.cpuPercent).toBeLessThanOrEqual(110);
      expect(busy.cpuPercent!).toBeGreaterThan(me.cpuPercent!);
      expect(sampler.sample(pids, 1).processes).toHaveLength(1);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
