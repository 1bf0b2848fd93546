// The entry of `tstop record`, which bin/tstop starts directly
// (bin/tstop-record.cjs). It imports the recorder's path statically, so the
// build bundles it into one CommonJS file (dist/record/, bin/build-record.mjs):
// node then loads one file instead of ~90 ES modules through its ES module
// loader, CPU a recorder spends at every start (docs/record.md). The command
// itself is the CLI's: flags, help and exit codes as main.ts runs them.

import { recordCommand } from './commands/record.js';
import { runCommand } from './run-command.js';
// Loaded on demand by the command; imported here so the bundle holds it in its one file.
import './record.js';

/** Runs `tstop record ARGS` (argv[0] is "record"). */
export async function recordMain(argv: string[]): Promise<void> {
  // As main.ts: a reader that stopped early closed the pipe: the output ends there, exit 0.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  process.exitCode = await runCommand(recordCommand, argv.slice(1));
}
