// The entry of the launcher's commands (run, exec, ps, stop, rm), which
// bin/tstop starts directly. It imports those commands statically and
// nothing of the other commands, so the build bundles it, with everything
// `tstop run` loads, into one file (dist/launch/tstop-launch.js, see
// build/bundle-launcher.mjs): one file instead of ~30 ES modules is what
// pays (docs/benchmarks.md, "Launcher"). Anything else goes to main.ts.

import { execCommand, runCommand as runSpec } from './commands/run.js';
import { psCommand, rmCommand, stopCommand } from './commands/ps.js';
import type { CommandSpec } from './command.js';
import { runCommand } from './run-command.js';
import { allowExecInPlace } from '../launcher/exec-in-place.js';

/** The commands bin/tstop sends here. */
export const LAUNCHER_COMMANDS: readonly CommandSpec[] = [runSpec, execCommand, psCommand, stopCommand, rmCommand];

/**
 * Runs a launcher command; anything else (help, a typo) goes to `otherCommand`,
 * the CLI's entry (dist/src/cli/main.js), which the caller imports: the bundle
 * never holds the other commands, and it is compiled where import() is not
 * available (bin/tstop-launch.cjs). `processIsTheCli`: bin/tstop's own
 * process (not a test calling this), which a foreground `tstop run` may
 * replace with its helper (src/launcher/exec-in-place.ts).
 */
export async function launcherMain(
  argv: string[],
  otherCommand: (argv: string[]) => Promise<void>,
  options: { processIsTheCli?: boolean } = {},
): Promise<void> {
  if (options.processIsTheCli) allowExecInPlace();
  const cmd = LAUNCHER_COMMANDS.find((c) => c.name === argv[0]);
  if (cmd) {
    process.exitCode = await runCommand(cmd, argv.slice(1));
    return;
  }
  await otherCommand(argv);
}
