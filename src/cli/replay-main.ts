// The entry of `tstop snapshot` on a recorded store (--store, --at, --from,
// --to without --prometheus or --write-api), which bin/tstop starts directly
// (bin/tstop-replay.cjs). It imports that path statically and nothing of the
// collector or the fleet, so the build bundles it into one CommonJS file
// (dist/replay/, bin/build-replay.mjs): node then resolves, reads and links
// one file instead of ~35 ES modules (docs/benchmarks.md, "Seek, fourth
// round"). The command itself is the CLI's: flags, help and exit codes as
// main.ts runs them.

import v8 from 'node:v8';
import { snapshotCommand } from './commands/snapshot.js';
import { runCommand } from './run-command.js';
// Loaded on demand by the command (snapshot.ts); imported here so the bundle holds them in its one file.
import './snapshot.js';
import './snapshot-replay.js';

/**
 * Whether the command reads one sample (`--at`): a process that decodes one
 * block and prints it is over before V8's optimizing compiler pays back. Its
 * compilations (scanTemplate, applyNumbers, the text builders: large
 * functions, compiled on a second thread, some twice as their feedback
 * changes) cost a 1,000-cgroup seek ~60-80 ms of CPU for less than they save,
 * and on a busy host that thread competes with the seek itself.
 */
export function readsOneSample(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--at' || a.startsWith('--at='));
}

/** Runs `tstop snapshot ARGS` (argv[0] is "snapshot"). */
export async function replayMain(argv: string[]): Promise<void> {
  // As main.ts: a reader that stopped early (`| head`) closed the pipe: the output ends there, exit 0.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  // Set here, not on node's command line: a V8 flag there makes node compile its own modules without their code cache.
  if (readsOneSample(argv)) v8.setFlagsFromString('--no-turbofan');
  process.exitCode = await runCommand(snapshotCommand, argv.slice(1));
}
