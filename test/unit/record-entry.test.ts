// `tstop record` starts from a CommonJS bundle (dist/record/,
// bin/build-record.mjs): bin/tstop starts it from bin/tstop-record.cjs,
// without node's ES module loader and without the extra CA file (it makes no
// TLS connection). It must answer as the CLI entry answers, and record while
// loading no ES module of dist nor the chunks of what it loads on demand
// (--guard, the limiter).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  binEntry,
  cliEntry,
  expectBundleOnly,
  logLoads,
  logRequires,
  repoRoot as root,
  runEntry,
} from '../helpers/entries.js';
import { StoreReader } from '../../src/record/reader.js';

const recordEntry = binEntry('tstop-record.cjs');
const run = (entry: string, args: string[]): ReturnType<typeof runEntry> => runEntry(entry, ['record', ...args]);

/** The samples in a store (0 while the recorder has not made it yet). */
function samplesIn(store: string): number {
  try {
    return StoreReader.open(store).times().length;
  } catch {
    return 0;
  }
}

/** Runs `cmd args record` until its store holds one sample, then stops it; its whole stderr and what /proc said of it. */
async function recordOneSample(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ stderr: string; cmdline: string; environ: string[] }> {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-record-entry-'));
  const child = spawn(cmd, [...args, 'record', '--store', store, '--interval', '1s'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise((r) => child.once('close', r));
  let cmdline = '';
  let environ: string[] = [];
  try {
    const deadline = Date.now() + 30_000;
    while (samplesIn(store) < 1) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no sample recorded: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    cmdline = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
    environ = fs.readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0');
  } finally {
    child.kill('SIGTERM');
    await closed;
    fs.rmSync(store, { recursive: true, force: true });
  }
  return { stderr, cmdline, environ };
}

describe('the entry of record', { timeout: 60_000 }, () => {
  it('is where bin/tstop starts record, with its V8 flags and no extra CA file', async () => {
    const sh = fs.readFileSync(path.join(root, 'bin/tstop'), 'utf8');
    expect(sh).toMatch(
      /record\)\n(?: +#.*\n)* +unset NODE_EXTRA_CA_CERTS\n +exec node --max-semi-space-size=4 --max-inlined-bytecode-size-cumulative=460 -- "\$\{self%\/\*\}\/tstop-record\.cjs" "\$@" ;;/,
    );
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' };
    const seen = await recordOneSample(path.join(root, 'bin/tstop'), [], env);
    // The collecting commands' young generation, and half of V8's inlining budget (less to compile at start).
    expect(seen.cmdline.split('\0')).toEqual(
      expect.arrayContaining(['--max-semi-space-size=4', '--max-inlined-bytecode-size-cumulative=460']),
    );
    expect(seen.cmdline).toContain('tstop-record.cjs');
    expect(seen.environ.filter((e) => e.startsWith('NODE_EXTRA_CA_CERTS='))).toEqual([]);
  });

  it('prints what the CLI entry prints, and fails as it fails', () => {
    if (!fs.existsSync(path.join(root, 'dist/record/tstop-record.cjs'))) throw new Error('run `npm run build` first');
    // A bad rules file: --guard's modules are a chunk the bundle loads on demand, and its error is the CLI's.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-record-entry-'));
    const rules = path.join(tmp, 'rules.yml');
    fs.writeFileSync(rules, 'rules:\n  - name: x\n    match: "none"\n    when: memory.usageBytes > lots\n');
    const guard = ['--store', path.join(tmp, 'store'), '--guard', rules];
    for (const args of [['--help'], ['--bogus'], ['--interval', 'soon'], ['--max-size', '1k'], guard]) {
      const want = run(cliEntry, args);
      const got = run(recordEntry, args);
      expect(got, args.join(' ')).toEqual(want);
      expect(got.status, args.join(' ')).toBe(args[0] === '--help' ? 0 : 2);
    }
    expect(run(recordEntry, guard).stderr).toMatch(/rules\.yml:4: memory\.usageBytes 'lots': not a size/);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('records from its bundled files and their runtime helpers: no ES module of dist, no on-demand chunk', async () => {
    const { stderr } = await recordOneSample(
      process.execPath,
      ['--import', logLoads, '--require', logRequires, recordEntry],
      process.env,
    );
    expectBundleOnly(stderr, 'tstop-record');
    expect(stderr).toMatch(/recording every 1s/);
  });
});
