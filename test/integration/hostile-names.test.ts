// Names and images come from containers (issue 11, item 7): whoever starts a
// container picks them. Escape sequences and bidi controls from a runtime's
// state file must come out escaped in every text output of `tstop
// snapshot`, and a state file that is a symlink or absurdly large is
// skipped with a note instead of being read.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STATE_FILE_BYTES } from '../../src/discovery/state-file.js';
import { TestCgroups } from '../helpers/cgroups.js';
import { runTstop } from '../helpers/limit.js';

const hex = (c: string): string => c.repeat(64);
// An OSC that retitles the terminal, a clear-screen CSI, the 8-bit CSI (C1) and a right-to-left override.
const HOSTILE_NAME = 'evil\x1b]0;pwned\x07\x1b[2J\u009b31m\u202egpj.exe';
const HOSTILE_IMAGE = 'img\u202e\u2066:latest\x1b[0m';
const ESCAPED_NAME = 'evil\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u{202e}gpj.exe';
const ESCAPED_IMAGE = 'img\\u{202e}\\u{2066}:latest\\x1b[0m';
const RAW_UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe.runIf(process.getuid?.() === 0)('hostile names from runtime state files', () => {
  let cg: TestCgroups;
  let dockerRoot: string;
  let flags: string[];
  const ids = { hostile: hex('1'), linked: hex('2'), big: hex('3') };

  function config(id: string, name: string, image: string): string {
    return JSON.stringify({
      ID: id,
      Name: '/' + name,
      Created: '2026-11-29T08:00:00.000000000Z',
      Image: 'sha256:' + hex('f'),
      Config: { Image: image, Labels: {} },
      State: { Running: true, Pid: 0 },
    });
  }

  const configPath = (id: string): string => path.join(dockerRoot, 'containers', id, 'config.v2.json');

  beforeAll(async () => {
    cg = new TestCgroups('names');
    dockerRoot = cg.tmp('docker');
    for (const id of Object.values(ids)) {
      fs.mkdirSync(path.dirname(configPath(id)), { recursive: true });
      cg.mkdir(`docker-${id}.scope`);
      await cg.spawn(`docker-${id}.scope`, ['sleep']).ready;
    }
    fs.writeFileSync(configPath(ids.hostile), config(ids.hostile, HOSTILE_NAME, HOSTILE_IMAGE));
    // A symlink to a file elsewhere (it could as well be /etc/shadow): not followed.
    const elsewhere = cg.tmp('elsewhere.json');
    fs.writeFileSync(elsewhere, config(ids.linked, 'linked', 'linked:1'));
    fs.symlinkSync(elsewhere, configPath(ids.linked));
    // Valid JSON, padded past the cap.
    const big = config(ids.big, 'big', 'big:1').replace(
      '"Labels":{}',
      `"Labels":{"pad":"${'x'.repeat(MAX_STATE_FILE_BYTES)}"}`,
    );
    fs.writeFileSync(configPath(ids.big), big);
    const none = cg.tmp('none');
    flags = [
      '--docker-root',
      dockerRoot,
      '--runc-root',
      none,
      '--podman-root',
      none,
      '--containerd-root',
      none,
      '--crio-root',
      none,
      '--filter',
      cg.name,
    ];
  });

  afterAll(async () => {
    await cg?.cleanup();
  });

  it('the table shows the name escaped, with no raw control or bidi character', async () => {
    const r = await runTstop(['snapshot', ...flags], process.env);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(RAW_UNSAFE);
    const row = r.stdout.split('\n').find((l) => l.startsWith('evil'));
    expect(row?.split(/\s{2,}/)[0]).toBe(ESCAPED_NAME);
  });

  it('--csv writes name and image escaped', async () => {
    const r = await runTstop(['snapshot', '--csv', ...flags], process.env);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(RAW_UNSAFE);
    const line = r.stdout.split('\n').find((l) => l.includes(ids.hostile))!;
    const [, id, name, runtime, image] = line.split(',');
    expect([id, name, runtime, image]).toEqual([
      cg.id(`docker-${ids.hostile}.scope`),
      ESCAPED_NAME,
      'docker',
      ESCAPED_IMAGE,
    ]);
  });

  it('--json escapes them as \\u sequences and parses back to the same name', async () => {
    const r = await runTstop(['snapshot', '--json', ...flags], process.env);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(RAW_UNSAFE);
    const c = (
      JSON.parse(r.stdout) as { containers: { id: string; name: string; image: string | null }[] }
    ).containers.find((x) => x.id.endsWith(ids.hostile + '.scope'));
    expect([c?.name, c?.image]).toEqual([HOSTILE_NAME, HOSTILE_IMAGE]);
  });

  it('skips a symlinked and an oversized state file, with a note for each', async () => {
    const r = await runTstop(['snapshot', '--json', ...flags], process.env);
    const snap = JSON.parse(r.stdout) as { containers: { id: string; name: string }[]; notes: string[] };
    const nameOf = (id: string): string | undefined => snap.containers.find((x) => x.id.endsWith(id + '.scope'))?.name;
    expect(nameOf(ids.linked)).not.toBe('linked');
    expect(nameOf(ids.big)).not.toBe('big');
    expect(snap.notes).toEqual(
      expect.arrayContaining([
        `runtime state unreadable: ${configPath(ids.linked)}: skipped: a symbolic link (state files are not followed)`,
        expect.stringMatching(
          new RegExp(
            `^runtime state unreadable: ${configPath(ids.big).replace(/[.]/g, '\\.')}: skipped: \\d+ bytes, above the 4 MiB cap for a state file$`,
          ),
        ),
      ]),
    );
    const table = await runTstop(['snapshot', ...flags], process.env);
    expect(table.stderr).toContain(
      `note: runtime state unreadable: ${configPath(ids.linked)}: skipped: a symbolic link (state files are not followed)\n`,
    );
  });
});
