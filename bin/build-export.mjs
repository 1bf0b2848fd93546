// Bundles the entry of `tstop export` (dist/src/cli/export-main.js, compiled
// by tsc) into CommonJS files under dist/export/, which bin/tstop-export.cjs
// loads: tstop-export.cjs holds the exporter's static path, and what it
// imports only on demand (--record, --enable-write-api, --guard, the
// limiter for a due expiry) goes to chunks loaded then. CommonJS, as
// bin/build-launcher.mjs argues: node starts it without its ES module loader,
// ~1.4 MB less RSS in a process that runs for months (docs/benchmarks.md).
// Without rolldown (a production install without devDependencies) the bundle
// is skipped and bin/tstop-export.cjs starts bin/tstop.js.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist/export');
fs.rmSync(outDir, { recursive: true, force: true });
let rolldown;
try {
  ({ rolldown } = await import('rolldown'));
} catch {
  process.stderr.write('build-export: rolldown not installed, export not bundled (it loads its ES modules)\n');
  process.exit(0);
}
const entry = path.join(root, 'dist/src/cli/export-main.js');
/** The exporter's static path: the closure of the entry, kept in the entry's file (shared ones too). */
const staticPath = new Set();
const bundle = await rolldown({
  input: entry,
  platform: 'node',
  external: [/^[^./]/], // node: builtins and packages
  logLevel: 'warn',
  // export-main.ts imports what the command imports on demand, so that the entry's file holds it: expected.
  onLog: (level, log, handler) => log.code !== 'INEFFECTIVE_DYNAMIC_IMPORT' && handler(level, log),
  plugins: [
    {
      name: 'static-path',
      buildEnd() {
        const todo = [entry];
        while (todo.length > 0) {
          const id = todo.pop();
          const info = staticPath.has(id) ? null : this.getModuleInfo(id);
          if (!info || info.isExternal) continue;
          staticPath.add(id);
          todo.push(...info.importedIds);
        }
      },
    },
  ],
});
await bundle.write({
  dir: outDir,
  format: 'cjs',
  entryFileNames: 'tstop-export.cjs',
  chunkFileNames: '[name]-[hash].cjs',
  codeSplitting: {
    groups: [{ name: 'tstop-export-path', test: (id) => staticPath.has(id) || id.includes('rolldown/runtime') }],
  },
});
await bundle.close();
