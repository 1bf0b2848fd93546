// npm run bench [-- --cgroups N] [--only scrape,collect,dashboard] (--only fleet: the 1,000-host fleet bench)
// Creates N cgroups (default 1,000) for the run, measures each face against
// its floor in the same run, prints one line per figure, removes the cgroups.

import { parseArgs } from 'node:util';
import { createBenchCgroups, type BenchCgroups } from './fixture.js';
import { bench as collect } from './collect.js';
import { bench as dashboard } from './dashboard.js';
import { bench as fleet } from './fleet.js';
import { bench as launch } from './launch.js';
import { bench as limiter } from './limiter.js';
import { bench as logs } from './logs.js';
import { bench as record } from './record.js';
import { bench as scrape } from './scrape.js';
import { bench as whatif } from './whatif.js';

interface SectionOptions {
  cgroups: number;
  /** The shared bench cgroups, created on first use (the exporter measures its idle cost before). */
  fixture: () => Promise<BenchCgroups>;
}
type Section = (options: SectionOptions) => Promise<string[]>;

/** Sections `npm run bench` leaves out unless named in --only. */
const OPT_IN = new Set(['fleet']);

const SECTIONS: Record<string, Section> = {
  scrape: (o) => scrape(o),
  collect: async (o) => collect({ cgroups: o.cgroups, fixture: await o.fixture() }),
  dashboard: async (o) => dashboard({ cgroups: o.cgroups, fixture: await o.fixture() }),
  limiter: async (o) => limiter({ cgroups: o.cgroups, fixture: await o.fixture() }),
  launch: (o) => launch({ cgroups: o.cgroups }),
  record: (o) => record({ cgroups: o.cgroups, fixture: o.fixture }),
  whatif: () => whatif({ containers: 100 }),
  logs: () => logs(),
  fleet: () => fleet(),
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { cgroups: { type: 'string', default: '1000' }, only: { type: 'string' } },
    strict: true,
  });
  const cgroups = Number(values.cgroups);
  if (!Number.isInteger(cgroups) || cgroups < 1)
    throw new Error(`--cgroups: '${values.cgroups}' is not a positive whole number`);
  // The fleet bench backfills 1,000 hosts into Prometheus (minutes): only when asked for.
  const only = values.only ? values.only.split(',') : Object.keys(SECTIONS).filter((s) => !OPT_IN.has(s));
  const unknown = only.filter((s) => !(s in SECTIONS));
  if (unknown.length > 0)
    throw new Error(`--only: unknown section(s) ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`);
  if (process.getuid?.() !== 0) throw new Error('the benchmark creates cgroups: run it as root');
  const state: { created: Promise<BenchCgroups> | null } = { created: null };
  const fixture = (): Promise<BenchCgroups> => {
    if (!state.created) {
      const t0 = Date.now();
      state.created = createBenchCgroups(cgroups).then((f) => {
        console.log(`fixture: ${cgroups} cgroups under ${f.parent} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        return f;
      });
    }
    return state.created;
  };
  // Stopped by a signal, the bench still removes its cgroups: a tree left
  // behind slows every later run and can exhaust the descriptor budget.
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`bench: ${signal}: removing the bench cgroups`);
    const removed = state.created ? state.created.then((f) => f.cleanup()) : Promise.resolve();
    void removed.finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const name of only) for (const line of await SECTIONS[name]({ cgroups, fixture })) console.log(line);
  } finally {
    if (state.created) await (await state.created).cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
