// The set-up the real-kernel limit test files share: a test cgroup tree, an
// audit log, a 16 MiB loop device, and tstop run with them.
import { afterAll, beforeAll } from 'vitest';
import type { ChangeRecord } from '../../src/limiter/api.js';
import { Collector } from '../../src/collect/collector.js';
import type { ContainerSnapshot } from '../../src/model/types.js';
import { TestCgroups } from './cgroups.js';
import { limitEnv, RawLoop, runTstop, type RunResult } from './limit.js';

export interface LimitSuiteState {
  cg: TestCgroups;
  audit: string;
  loop: RawLoop;
  env: NodeJS.ProcessEnv;
}

export interface LimitSuite {
  tstop: (...args: string[]) => Promise<RunResult>;
  /** v1 or v2 for a controller on this host. */
  kind: (controller: string) => 'v1' | 'v2';
  read: (controller: string, rel: string, file: string) => string;
  history: () => Promise<ChangeRecord[]>;
}

/**
 * Registers the suite's beforeAll/afterAll (call it inside a describe);
 * `ready` receives the state once it exists, for the file's own variables.
 */
export function limitSuite(name: string, ready: (state: LimitSuiteState) => void): LimitSuite {
  let state: LimitSuiteState | undefined;
  const get = (): LimitSuiteState => {
    if (!state) throw new Error('limit suite used before its beforeAll');
    return state;
  };
  beforeAll(() => {
    const cg = new TestCgroups(name);
    const audit = cg.tmp('audit.jsonl');
    state = { cg, audit, env: limitEnv(cg, audit), loop: RawLoop.create(cg, 16) };
    ready(state);
  });
  afterAll(async () => {
    if (state) await state.cg.cleanupProcesses('');
    state?.loop.destroy();
    await state?.cg.cleanup();
  });
  const tstop = (...args: string[]): Promise<RunResult> => runTstop(args, get().env);
  return {
    tstop,
    kind: (controller) => get().cg.hierarchyOf(controller).kind,
    read: (controller, rel, file) => get().cg.read(controller, rel, file),
    history: async () => JSON.parse((await tstop('limit', 'history', '--json', '--last', '1000')).stdout),
  };
}

/** The container with this id in a fresh one-shot collection. */
export function snapshotOf(id: string): ContainerSnapshot {
  const collector = new Collector();
  try {
    const c = collector.collect().containers.find((x) => x.id === id);
    if (!c) throw new Error(`${id} not in a fresh snapshot`);
    return c;
  } finally {
    collector.close();
  }
}
