// npm run bench [-- --cgroups N] [--only collect,scrape,...]
// Creates N cgroups (default 1,000) for the run, measures each face against
// its floor in the same run, prints one line per figure, removes the cgroups.

import { parseArgs } from 'node:util';
import { createBenchCgroups } from './fixture.js';
import { bench as collect } from './collect.js';
import { bench as dashboard } from './dashboard.js';

type Section = (options: {
  cgroups: number;
  fixture: Awaited<ReturnType<typeof createBenchCgroups>>;
}) => Promise<string[]>;

const SECTIONS: Record<string, Section> = { collect, dashboard };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { cgroups: { type: 'string', default: '1000' }, only: { type: 'string' } },
    strict: true,
  });
  const cgroups = Number(values.cgroups);
  if (!Number.isInteger(cgroups) || cgroups < 1)
    throw new Error(`--cgroups: '${values.cgroups}' is not a positive whole number`);
  const only = values.only ? values.only.split(',') : Object.keys(SECTIONS);
  const unknown = only.filter((s) => !(s in SECTIONS));
  if (unknown.length > 0)
    throw new Error(`--only: unknown section(s) ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`);
  if (process.getuid?.() !== 0) throw new Error('the benchmark creates cgroups: run it as root');
  const t0 = Date.now();
  const fixture = await createBenchCgroups(cgroups);
  console.log(`fixture: ${cgroups} cgroups under ${fixture.parent} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  try {
    for (const name of only) for (const line of await SECTIONS[name]({ cgroups, fixture })) console.log(line);
  } finally {
    await fixture.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
