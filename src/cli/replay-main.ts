// The entry of `tstop snapshot` on a recorded store (--store, --at, --from,
// --to without --prometheus or --write-api), which bin/tstop starts directly
// (bin/tstop-replay.cjs). It imports that path statically and nothing of the
// collector or the fleet, so the build bundles it into one CommonJS file
// (dist/replay/, bin/build-replay.mjs): node then resolves, reads and links
// one file instead of ~35 ES modules (docs/benchmarks.md, "Seek, fourth
// round"). The command itself is the CLI's: flags, help and exit codes as
// main.ts runs them.

import { snapshotCommand } from './commands/snapshot.js';
import { runCommand } from './run-command.js';
// Loaded on demand by the command (snapshot.ts); imported here so the bundle holds them in its one file.
import './snapshot.js';
import './snapshot-replay.js';

/** Runs `tstop snapshot ARGS` (argv[0] is "snapshot"). */
export async function replayMain(argv: string[]): Promise<void> {
  // As main.ts: a reader that stopped early (`| head`) closed the pipe: the output ends there, exit 0.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  process.exitCode = await runCommand(snapshotCommand, argv.slice(1));
}
