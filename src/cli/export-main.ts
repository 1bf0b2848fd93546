// The entry of `tstop export`, which bin/tstop starts directly
// (bin/tstop-export.cjs). It imports the exporter's path statically, so the
// build bundles it into one CommonJS file (dist/export/, bin/build-export.mjs):
// node then loads one file instead of ~90 ES modules through its ES module
// loader, ~1.4 MB less RSS for a process that runs for months
// (docs/benchmarks.md). The command itself is the CLI's: flags, help and exit
// codes as main.ts runs them.

import { exportCommand } from './commands/export.js';
import { runCommand } from './run-command.js';
// Loaded on demand by the command; imported here so the bundle holds it in its one file.
import './export.js';

/** Runs `tstop export ARGS` (argv[0] is "export"). */
export async function exportMain(argv: string[]): Promise<void> {
  // As main.ts: a reader that stopped early closed the pipe: the output ends there, exit 0.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  process.exitCode = await runCommand(exportCommand, argv.slice(1));
}
