// Bundles the entry of `tstop snapshot` on a recorded store
// (dist/src/cli/replay-main.js, compiled by tsc) into CommonJS files under
// dist/replay/, which bin/tstop-replay.cjs loads: tstop-replay.cjs holds the
// seek's whole path, and what the command imports only off that path (the
// collector, the fleet client) goes to chunks it does not load. CommonJS, as
// bin/build-launcher.mjs argues: node starts it without its ES module loader.
// Without rolldown (a production install without devDependencies) the bundle
// is skipped and bin/tstop-replay.cjs starts bin/tstop.js.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist/replay');
fs.rmSync(outDir, { recursive: true, force: true });
let rolldown;
try {
  ({ rolldown } = await import('rolldown'));
} catch {
  process.stderr.write('build-replay: rolldown not installed, snapshot --at not bundled (it starts ~20 ms slower)\n');
  process.exit(0);
}
const entry = path.join(root, 'dist/src/cli/replay-main.js');
/** The seek's path: the static closure of the entry, kept in the entry's file (shared ones too). */
const seekPath = new Set();
const bundle = await rolldown({
  input: entry,
  platform: 'node',
  external: [/^[^./]/], // node: builtins and packages
  logLevel: 'warn',
  // replay-main.ts imports what snapshot.ts imports on demand, so that the entry's file holds it: expected.
  onLog: (level, log, handler) => log.code !== 'INEFFECTIVE_DYNAMIC_IMPORT' && handler(level, log),
  plugins: [
    {
      name: 'seek-path',
      buildEnd() {
        const todo = [entry];
        while (todo.length > 0) {
          const id = todo.pop();
          const info = seekPath.has(id) ? null : this.getModuleInfo(id);
          if (!info || info.isExternal) continue;
          seekPath.add(id);
          todo.push(...info.importedIds);
        }
      },
    },
  ],
});
await bundle.write({
  dir: outDir,
  format: 'cjs',
  entryFileNames: 'tstop-replay.cjs',
  chunkFileNames: '[name]-[hash].cjs',
  codeSplitting: {
    groups: [{ name: 'tstop-replay-path', test: (id) => seekPath.has(id) || id.includes('rolldown/runtime') }],
  },
});
await bundle.close();
