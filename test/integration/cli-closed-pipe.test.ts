// `tstop snapshot | head`: the reader closes the pipe long before the ~2 MB
// of JSON is written. tstop must end quietly (exit 0, nothing on stderr), as
// `tstop logs NAME | head` already does, not die with an unhandled EPIPE.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const TSTOP = fileURLToPath(new URL('../../bin/tstop', import.meta.url));

describe('output into a pipe the reader closes', () => {
  it('tstop snapshot --json --all | head -c 20: exit 0, the first bytes, no error', () => {
    const run = spawnSync(
      'bash',
      ['-c', `"${TSTOP}" snapshot --json --all --interval 0 | head -c 20; exit "\${PIPESTATUS[0]}"`],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.stdout).toHaveLength(20);
    expect(run.stdout.startsWith('{"timestamp":"')).toBe(true);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
