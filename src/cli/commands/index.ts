// Every tstop command, in the order `tstop --help` lists them. Each file
// declares its flags; implementations load on demand. Only the invoked
// command's file is imported (`tstop run` must start fast); help imports all.

import type { CommandSpec } from '../command.js';

const LOADERS: [name: string, load: () => Promise<CommandSpec>][] = [
  ['dashboard', async () => (await import('./dashboard.js')).dashboardCommand],
  ['snapshot', async () => (await import('./snapshot.js')).snapshotCommand],
  ['limit', async () => (await import('./limit.js')).limitCommand],
  ['freeze', async () => (await import('./limit.js')).freezeCommand],
  ['thaw', async () => (await import('./limit.js')).thawCommand],
  ['kill', async () => (await import('./limit.js')).killCommand],
  ['recommend', async () => (await import('./recommend.js')).recommendCommand],
  ['guard', async () => (await import('./guard.js')).guardCommand],
  ['export', async () => (await import('./export.js')).exportCommand],
  ['record', async () => (await import('./record.js')).recordCommand],
  ['run', async () => (await import('./run.js')).runCommand],
  ['exec', async () => (await import('./run.js')).execCommand],
  ['ps', async () => (await import('./ps.js')).psCommand],
  ['stop', async () => (await import('./ps.js')).stopCommand],
  ['rm', async () => (await import('./ps.js')).rmCommand],
  ['logs', async () => (await import('./logs.js')).logsCommand],

  ['load', async () => (await import('./load.js')).loadCommand],
  ['images', async () => (await import('./images.js')).imagesCommand],
  ['rmi', async () => (await import('./rmi.js')).rmiCommand],
];

/** The command of that name, or undefined. */
export async function loadCommand(name: string): Promise<CommandSpec | undefined> {
  return LOADERS.find(([n]) => n === name)?.[1]();
}

/** Every command, in help order. */
export function loadAllCommands(): Promise<CommandSpec[]> {
  return Promise.all(LOADERS.map(([, load]) => load()));
}
