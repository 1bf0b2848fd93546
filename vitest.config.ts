import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // the docker lane runs on its own (vitest.docker.config.ts, .ci/docker-lane.sh)
    exclude: [...configDefaults.exclude, 'test/docker/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests load the CPU and measure it: one file at a time keeps figures honest.
    fileParallelism: false,
    pool: 'forks',
  },
});
