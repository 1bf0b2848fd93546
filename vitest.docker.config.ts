// vitest config for the docker lane (`npm run test:docker`, .ci/docker-lane.sh):
// tstop against a real Docker engine (dockerd started by test/docker/global-setup.ts
// on its own socket and data root). Not part of `npm test`: it needs docker.io
// and root, and fails (never skips) without them.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/docker/**/*.test.ts'],
    globalSetup: ['test/docker/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 60_000,
    // One engine, shared; CPU figures are compared: one file at a time.
    fileParallelism: false,
    pool: 'forks',
  },
});
