// The dashboard in tmux on a host running Docker: containers listed by the
// name and image docker ps shows; a tstop freeze and a limit docker does not
// know are marked on the row.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tstopBin } from '../../bench/export-process.js';
import { hasTmux, TmuxPane, waitForScreen } from '../helpers/tmux.js';
import { docker, dockerOk, tstopRootFlags } from './engine.js';
import { runContainer, tstop } from './tstop.js';
import path from 'node:path';

const info = inject('docker');

describe('the dashboard in tmux against docker', () => {
  let pane: TmuxPane | null = null;
  let id = '';

  beforeAll(async () => {
    if (!hasTmux()) throw new Error('the docker lane needs tmux (apt-get install tmux)');
    id = await runContainer(info, ['--name', 'dash-web', info.image, 'sleep', '100000']);
  });

  afterAll(async () => {
    pane?.kill();
    await docker(info, ['rm', '-f', 'dash-web']);
  });

  it('lists the container by its docker name and image, and marks a tstop limit docker does not know', async () => {
    const [name, image] = (await dockerOk(info, ['ps', '--filter', `id=${id}`, '--format', '{{.Names}} {{.Image}}']))
      .trim()
      .split(' ');
    expect(name).toBe('dash-web');
    // Filtered to it, so the row is on screen whatever else the host runs: the dashboard re-reads
    // the limits of rows on screen within 10 s, of the others within 60 s (docs/dashboard.md).
    pane = new TmuxPane(`${tstopBin()} --interval 1s --filter dash-web ${tstopRootFlags(info).join(' ')}`, 200, 40);
    const row = (lines: string[]): string | undefined => lines.find((l) => /^\s*dash-web\b/.test(l));
    const lines = await waitForScreen(pane, 'the docker container row', (l) => row(l) !== undefined);
    expect(lines.find((l) => /NAME\s+RUNTIME\s+IMAGE/.test(l))).toBeDefined();
    expect(row(lines)).toMatch(new RegExp(`^dash-web\\s+docker\\s+${image.replace(/[.:]/g, '\\$&')}\\s`));

    const env = {
      ...process.env,
      TSTOP_AUDIT_LOG: path.join(info.dir, 'dash-audit.jsonl'),
      TSTOP_LIMIT_CONFINE: `/docker/${id}`,
    };
    const r = await tstop(['limit', 'dash-web', '--memory', '64m', '--yes', ...tstopRootFlags(info)], env);
    expect(r.code, r.stderr).toBe(0);
    // The limit is re-read at once by the limiter's process, by the dashboard within its settings refresh (10 s).
    await waitForScreen(pane, 'the drift mark', (l) => /dash-web \[!=docker\]/.test(row(l) ?? ''), 30_000);
  });
});
