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

/** The commands bin/tstop sends here. */
export const LAUNCHER_COMMANDS: readonly CommandSpec[] = [runSpec, execCommand, psCommand, stopCommand, rmCommand];

/**
 * Runs a launcher command; anything else (help, a typo) is handed to the
 * CLI's entry, found beside this file's compiled copy (a specifier the
 * bundler leaves alone, so the bundle never holds the other commands).
 */
export async function launcherMain(argv: string[], mainUrl: URL): Promise<void> {
  const cmd = LAUNCHER_COMMANDS.find((c) => c.name === argv[0]);
  if (cmd) {
    process.exitCode = await runCommand(cmd, argv.slice(1));
    return;
  }
  const { main } = (await import(mainUrl.href)) as { main: (argv: string[]) => Promise<void> };
  await main(argv);
}
