// The helper as a detached container's supervisor and logger
// (native/src/supervisor.c, logger.c): restart policies with docker's
// backoff, the stop flag, and the CRI records of the log.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHelper, isRoot, runHelper, runSpec, startHelper, waitFor } from './harness.js';

const sh = (script: string): string[] => ['/bin/sh', '-c', script];
const RECORD = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) (.*)$/;

describe.skipIf(!isRoot)('tstop-helper: supervisor and logger', () => {
  let dir = '';
  let n = 0;
  const fresh = (): { stopFlag: string; log: string } => {
    n++;
    return { stopFlag: join(dir, `c${n}.stop`), log: join(dir, `c${n}.log`) };
  };
  beforeAll(() => {
    ensureHelper();
    dir = mkdtempSync(join(tmpdir(), 'tstop-supervise-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('on-failure with a maximum: N restarts after 100 ms, then 200 ms... and the last exit code', async () => {
    const { stopFlag } = fresh();
    const began = Date.now();
    const r = await runHelper(
      runSpec({ argv: sh('exit 3'), restart: { policy: 'on-failure', maxRetries: 2, stopFlag } }),
    );
    expect(r.code).toBe(3);
    expect(r.events.filter((e) => e.kind === 'pid')).toHaveLength(3);
    expect(r.events.filter((e) => e.kind === 'exit')).toEqual([
      { kind: 'exit', code: 3 },
      { kind: 'exit', code: 3 },
      { kind: 'exit', code: 3 },
    ]);
    expect(Date.now() - began).toBeGreaterThanOrEqual(300); // 100 + 200 ms of backoff
  });

  it('on-failure does not restart after exit 0; a first start that fails is not retried', async () => {
    const ok = await runHelper(
      runSpec({ argv: sh('exit 0'), restart: { policy: 'on-failure', maxRetries: 0, ...fresh() } }),
    );
    expect(ok.code).toBe(0);
    expect(ok.events.filter((e) => e.kind === 'pid')).toHaveLength(1);
    const missing = await runHelper(
      runSpec({ argv: ['no-such-command-tstop'], restart: { policy: 'always', maxRetries: 0, ...fresh() } }),
    );
    expect(missing.code).toBe(127);
    expect(missing.events.filter((e) => e.kind === 'pid')).toHaveLength(0);
  });

  it('always restarts after exit 0 until the stop flag exists', async () => {
    const { stopFlag } = fresh();
    const starts = join(dir, `starts-${n}`);
    const h = startHelper(
      runSpec({ argv: sh(`echo x >> ${starts}; exit 0`), restart: { policy: 'always', maxRetries: 0, stopFlag } }),
    );
    const count = (): number => (existsSync(starts) ? readFileSync(starts, 'utf8').split('\n').length - 1 : 0);
    await waitFor(() => (count() >= 3 ? true : undefined), 10_000);
    writeFileSync(stopFlag, ''); // the helper ends within a backoff poll (100 ms)
    const r = await h.done;
    expect(r.code).toBe(0);
    expect(r.events.filter((e) => e.kind === 'pid').length).toBe(count());
  });

  it('a stop flag present when the workload exits ends the supervisor at once', async () => {
    const { stopFlag } = fresh();
    writeFileSync(stopFlag, '');
    const r = await runHelper(runSpec({ argv: sh('exit 1'), restart: { policy: 'always', maxRetries: 0, stopFlag } }));
    expect(r.code).toBe(1);
    expect(r.events.filter((e) => e.kind === 'pid')).toHaveLength(1);
  });

  it('the log holds CRI records: stdout and stderr, F for a line, P for a piece without its newline or beyond 16 KiB', async () => {
    const { log } = fresh();
    const r = await runHelper(
      runSpec({
        argv: sh(
          'echo one; echo two >&2; printf three; sleep 0.2; echo " end"; head -c 20000 /dev/zero | tr "\\0" x; echo',
        ),
        log: { path: log, maxBytes: 1024 * 1024, maxFiles: 2 },
      }),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(''); // everything went to the log
    const records = readFileSync(log, 'utf8')
      .split('\n')
      .slice(0, -1)
      .map((l) => RECORD.exec(l));
    expect(records.every((m) => m !== null)).toBe(true);
    // Each stream's lines: its P pieces joined up to an F. (How many pieces a
    // line takes depends on how the writes reached the pipe.)
    const lines: Record<string, string[]> = { stdout: [], stderr: [] };
    const open: Record<string, string> = { stdout: '', stderr: '' };
    for (const m of records) {
      const [, , stream, tag, text] = m as RegExpExecArray;
      expect(text.length).toBeLessThanOrEqual(16384);
      open[stream] += text;
      if (tag === 'F') {
        lines[stream].push(open[stream]);
        open[stream] = '';
      }
    }
    expect(lines.stderr).toEqual(['two']);
    expect(lines.stdout).toEqual(['one', 'three end', 'x'.repeat(20000)]);
    expect(open).toEqual({ stdout: '', stderr: '' });
    // "three" went out as a P record when read, before its line ended 200 ms later.
    const three = records.find((m) => m?.[4] === 'three');
    const end = records.find((m) => m?.[4] === ' end');
    expect(three?.[3]).toBe('P');
    expect(Date.parse(end?.[1] ?? '') - Date.parse(three?.[1] ?? '')).toBeGreaterThanOrEqual(150);
    expect(Math.abs(Date.parse(three?.[1] ?? '') - Date.now())).toBeLessThan(60_000);
  });

  it('a record never straddles two files: each file stays within max_bytes', async () => {
    const { log } = fresh();
    const r = await runHelper(
      runSpec({
        argv: sh('i=0; while [ $i -lt 200 ]; do echo "line-$i"; i=$((i+1)); done'),
        log: { path: log, maxBytes: 500, maxFiles: 3 },
      }),
    );
    expect(r.code).toBe(0);
    for (const f of [log, `${log}.1`, `${log}.2`]) {
      const text = readFileSync(f, 'utf8');
      expect(text.length).toBeLessThanOrEqual(500);
      for (const line of text.trimEnd().split('\n')) expect(line).toMatch(RECORD);
    }
    expect(existsSync(`${log}.3`)).toBe(false);
    expect(readFileSync(log, 'utf8')).toMatch(/ stdout F line-199\n$/);
  });
});
