// One entry's static path bundled into CommonJS files (rolldown): the entry's
// file holds the closure of its static imports (shared ones too), and what it
// imports only on demand goes to chunks loaded then. Used by
// bin/build-replay.mjs, bin/build-export.mjs and bin/build-record.mjs (bin/build-launcher.mjs
// shares its plugin). CommonJS, as
// bin/build-launcher.mjs argues: node starts it without its ES module loader.
// Returns false when rolldown is not installed (a production install without
// devDependencies): the caller's entry then falls back to bin/tstop.js.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A rolldown plugin that fills `into` with the ids of the modules the roots
 * import statically, transitively (their chunk's members). Also used by
 * bin/build-launcher.mjs for the run path.
 * @param {string[]} roots
 * @param {Set<string>} into
 */
export function staticPathPlugin(roots, into) {
  return {
    name: 'static-path',
    buildEnd() {
      const todo = [...roots];
      while (todo.length > 0) {
        const id = todo.pop();
        const info = into.has(id) ? null : this.getModuleInfo(id);
        if (!info || info.isExternal) continue;
        into.add(id);
        todo.push(...info.importedIds);
      }
    },
  };
}

/**
 * @param {{ entry: string, outDir: string, name: string }} options
 *   entry: the tsc output to bundle; outDir: emptied, then written;
 *   name: the entry file is NAME.cjs, its path's chunk NAME-path-HASH.cjs.
 */
export async function bundleStaticPath({ entry, outDir, name }) {
  fs.rmSync(outDir, { recursive: true, force: true });
  let rolldown;
  try {
    ({ rolldown } = await import('rolldown'));
  } catch {
    return false;
  }
  const staticPath = new Set();
  const bundle = await rolldown({
    input: entry,
    platform: 'node',
    external: [/^[^./]/], // node: builtins and packages
    logLevel: 'warn',
    // An entry imports what its command imports on demand, so that the entry's file holds it: expected.
    onLog: (level, log, handler) => log.code !== 'INEFFECTIVE_DYNAMIC_IMPORT' && handler(level, log),
    plugins: [staticPathPlugin([entry], staticPath)],
  });
  await bundle.write({
    dir: outDir,
    format: 'cjs',
    // No comments: node keeps a script's source in the heap for as long as
    // the process runs, and a single character past Latin-1 (an arrow in a
    // doc comment) makes V8 keep all of it two bytes a character (the export
    // bundle: 705 KB of heap with its comments, 290 KB without).
    comments: false,
    entryFileNames: `${name}.cjs`,
    chunkFileNames: '[name]-[hash].cjs',
    codeSplitting: {
      groups: [{ name: `${name}-path`, test: (id) => staticPath.has(id) || id.includes('rolldown/runtime') }],
    },
  });
  await bundle.close();
  return true;
}

/**
 * Bundles dist/src/cli/MAIN.js (a CLI entry compiled by tsc) into dist/DIR/,
 * as NAME.cjs; without rolldown says so on stderr with `skipped`.
 * @param {{ main: string, dir: string, name: string, skipped: string }} options
 */
export async function bundleCliEntry({ main, dir, name, skipped }) {
  const built = await bundleStaticPath({
    entry: path.join(root, 'dist/src/cli', `${main}.js`),
    outDir: path.join(root, 'dist', dir),
    name,
  });
  if (!built) process.stderr.write(`${skipped}\n`);
}
