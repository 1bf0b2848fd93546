// The docker lane's global setup: one private dockerd for every test file
// (engine.ts), stopped and removed in teardown even when tests failed. If the
// engine cannot start, setup throws one line and the lane fails: it never skips.

import fs from 'node:fs';
import type { TestProject } from 'vitest/node';
import { buildTestload } from '../helpers/testload.js';
import { removeStaleTestCgroups } from '../helpers/cgroups.js';
import { DockerEngine, EngineStartError, type EngineInfo } from './engine.js';

declare module 'vitest' {
  export interface ProvidedContext {
    docker: EngineInfo;
  }
}

let engine: DockerEngine | null = null;

export async function setup(project: TestProject): Promise<void> {
  if (process.getuid?.() !== 0) throw new EngineStartError('the docker lane needs root (it starts dockerd)');
  buildTestload();
  await removeStaleTestCgroups();
  engine = new DockerEngine();
  // .ci/docker-lane.sh checks this directory (and what mentions it) is gone after the run, even after a crash.
  if (process.env.TSTOP_DOCKER_LANE_STATE) fs.writeFileSync(process.env.TSTOP_DOCKER_LANE_STATE, engine.dir);
  try {
    await engine.start();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    await engine.stop();
    engine = null;
    // The lane script greps this line; one line, saying why.
    throw new EngineStartError(`docker-lane: dockerd cannot start: ${why}`);
  }
  const t = engine.timings;
  process.stderr.write(
    `docker-lane: dockerd up in ${t.dockerdStartMs} ms, image built and imported in ${t.imageImportMs} ms, ` +
      `docker run --rm true in ${t.containerRunMs} ms\n`,
  );
  project.provide('docker', engine.info());
}

export async function teardown(): Promise<void> {
  if (engine === null) return;
  const problems = await engine.stop();
  engine = null;
  await removeStaleTestCgroups();
  if (problems.length > 0) throw new Error(`docker-lane: teardown found leftovers: ${problems.join('; ')}`);
}
