// src/launcher/spawn.ts against the real binary (no root needed).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnHelper } from '../../src/launcher/spawn.js';
import { HELPER, PATH_ENV, ensureHelper } from './harness.js';

describe.skipIf(process.platform !== 'linux')('spawnHelper', () => {
  beforeAll(() => ensureHelper());

  it('classifies a helper failure and rejects `started`', async () => {
    const h = spawnHelper(
      { mode: 'exec', pid: 999_999_999, argv: ['true'], env: PATH_ENV, capabilities: [] },
      { stdio: ['ignore', 'ignore', 'ignore'], helperPath: HELPER },
    );
    await expect(h.started).rejects.toThrow(/open \/proc\/999999999\/ns\/user/);
    const x = await h.exited;
    expect(x).toMatchObject({ code: 125, origin: 'helper', signal: null });
    expect(x.error).toBe('open /proc/999999999/ns/user: No such file or directory (ENOENT)');
  });

  it.skipIf(process.getuid?.() !== 0)('reports the pid and the workload exit code', async () => {
    const h = spawnHelper(
      { mode: 'run', namespaces: ['pid', 'mnt'], argv: ['sh', '-c', 'exit 126'], env: PATH_ENV, capabilities: [] },
      { stdio: ['ignore', 'ignore', 'ignore'], helperPath: HELPER },
    );
    expect(await h.started).toBeGreaterThan(1);
    // 126 from the workload itself: the report fd tells it from the helper's 126.
    expect(await h.exited).toMatchObject({ code: 126, origin: 'workload' });
  });
});
