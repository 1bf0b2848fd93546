// `tstop snapshot` on a recorded store starts from a CommonJS bundle
// (dist/replay/, bin/build-replay.mjs): bin/tstop starts it from
// bin/tstop-replay.cjs, without node's ES module loader. It must print what
// the CLI entry prints, exit as it exits, and load nothing of the collector
// or the fleet.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  binEntry,
  cliEntry,
  expectBundleOnly,
  logLoads,
  logRequires,
  repoRoot as root,
  runEntry,
} from '../helpers/entries.js';
import { syntheticSnapshot } from '../../src/model/samples.js';
import { StoreWriter } from '../../src/record/store.js';

const replayEntry = binEntry('tstop-replay.cjs');
const logV8Flags = path.join(root, 'test/fixtures/loader/log-v8-flags.cjs');
const T0 = Date.parse('2026-12-01T00:00:00Z');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-test-replay-entry-'));
  const w = StoreWriter.open(dir, {
    intervalMs: 1000,
    retainMs: 600_000,
    maxBytes: 2 ** 30,
    keyframeEvery: 4,
    sync: false,
  });
  for (let t = 0; t < 10; t++)
    w.append({ ...syntheticSnapshot(12, t), timestamp: new Date(T0 + t * 1000).toISOString() });
  w.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (entry: string, args: string[]): ReturnType<typeof runEntry> =>
  runEntry(entry, ['snapshot', '--store', dir, ...args]);

describe('the entry of snapshot on a store', () => {
  it('is where bin/tstop starts snapshot with --store, --at, --from or --to (and no --prometheus, --write-api)', () => {
    const sh = fs.readFileSync(path.join(root, 'bin/tstop'), 'utf8');
    expect(sh).toMatch(
      /\[ -n "\$store" \] && unset NODE_EXTRA_CA_CERTS && exec node -- "\$\{self%\/\*\}\/tstop-replay\.cjs" "\$@"/,
    );
  });

  it('prints what the CLI entry prints, and fails as it fails', () => {
    const at = new Date(T0 + 6500).toISOString();
    for (const args of [
      ['--at', at, '--json', '--all'],
      ['--at', at, '--json'],
      ['--at', at],
      ['--at', at, '--csv', '--filter', 'c0'],
      ['--from', new Date(T0).toISOString(), '--to', at, '--json'],
      ['--at', 'yesterday-ish'],
      ['--at', '@1'],
      ['--from', at],
      ['--at', at, '--count', '2'],
      ['--help'],
    ]) {
      const want = run(cliEntry, args);
      const got = run(replayEntry, args);
      expect(got, args.join(' ')).toEqual(want);
    }
    expect(run(replayEntry, ['--at', at, '--json']).stdout).toContain(
      `"timestamp":"${new Date(T0 + 6000).toISOString()}"`,
    );
    expect(run(replayEntry, ['--at', 'yesterday-ish']).status).toBe(2);
  });

  it('loads one bundled file and its runtime helpers: no ES module of dist, nothing of the collector or the fleet', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        logLoads,
        '--require',
        logRequires,
        replayEntry,
        'snapshot',
        '--store',
        dir,
        '--at',
        new Date(T0 + 3000).toISOString(),
        '--json',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expectBundleOnly(r.stderr, 'tstop-replay');
  });

  it("reads one sample (--at) without V8's optimizing compiler, a range with it", () => {
    const flagsOf = (args: string[]): string[] => {
      const r = spawnSync(
        process.execPath,
        ['--require', logV8Flags, replayEntry, 'snapshot', '--store', dir, ...args],
        {
          encoding: 'utf8',
        },
      );
      expect(r.status, r.stderr).toBe(0);
      return [...r.stderr.matchAll(/^v8 flags (.*)$/gm)].map((m) => m[1]);
    };
    const at = new Date(T0 + 3000).toISOString();
    expect(flagsOf(['--at', at, '--json', '--all'])).toEqual(['--no-turbofan']);
    expect(flagsOf([`--at=${at}`])).toEqual(['--no-turbofan']);
    expect(flagsOf(['--from', new Date(T0).toISOString(), '--to', at, '--json'])).toEqual([]);
  });

  it('ends quietly when the reader closes the pipe (`| head -c 20`): exit 0', () => {
    const r = spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${replayEntry}" snapshot --store "${dir}" --at @${T0 / 1000 + 5} --json --all | head -c 20; exit "\${PIPESTATUS[0]}"`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('{"timestamp":"2026-1');
    expect(r.stderr).toBe('');
  });
});
