// Bundles the launcher's entry (dist/src/cli/launch-main.js, compiled by tsc)
// into CommonJS files under dist/launch/, which bin/tstop-launch.cjs (and
// bin/tstop.js) load for run, exec, ps, stop and rm:
//
//   tstop-launch.cjs              the entry
//   tstop-launch-run-<hash>.cjs   everything `tstop run` loads: launch-main's
//                                 static imports and the run command's (../run.js)
//   <name>-<hash>.cjs             what the launch path imports on demand (limits,
//                                 networks, images, exec, ps, the limiter): a plain
//                                 run does not parse it
//
// CommonJS because node starts a CommonJS main without its ES module loader,
// and require() of a builtin makes no ES module facade (which would read every
// export of node:fs, loading its streams and promises): ~6 ms less per launch.
// Packages (koffi, ...) stay requires. Without rolldown (a production install
// without devDependencies) the bundle is skipped and bin/tstop.js loads dist/
// as is. Measured in docs/benchmarks.md, "Performance (issue 14)".

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { staticPathPlugin } from './bundle-path.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist/launch');
fs.rmSync(outDir, { recursive: true, force: true });
let rolldown;
try {
  ({ rolldown } = await import('rolldown'));
} catch {
  process.stderr.write(
    'build-launcher: rolldown not installed, launcher not bundled (tstop run starts ~15 ms slower)\n',
  );
  process.exit(0);
}
const entry = path.join(root, 'dist/src/cli/launch-main.js');
// The default seccomp profile, checked and spelled out now rather than at each launch
// (src/launcher/seccomp-default.ts); a profile the checks refuse fails the build.
const seccomp = await import(path.join(root, 'dist/src/launcher/seccomp.js'));
const preparedDefaultSeccomp = JSON.stringify(
  seccomp.prepareSeccomp(seccomp.readProfile(seccomp.defaultProfilePath())),
);
const seccompDefaultModule = path.join(root, 'dist/src/launcher/seccomp-default.js');
/** Modules `tstop run` needs: the static closure of the entry and of the run command's module. */
const runPath = new Set();
const runRoots = [entry, path.join(root, 'dist/src/cli/run.js')];
const bundle = await rolldown({
  input: entry,
  platform: 'node',
  external: [/^[^./]/], // node: builtins and packages
  logLevel: 'warn',
  plugins: [
    {
      name: 'seccomp-default',
      // A file beside the chunks, not a string in one: a 15 kB literal made loading the run chunk
      // ~1.2 ms slower even from its code cache; reading the file at launch is ~0.1 ms.
      load(id) {
        if (id !== seccompDefaultModule) return null;
        return `export function preparedDefaultSeccomp() {
  try {
    return require('node:fs').readFileSync(__dirname + '/seccomp-default.json', 'utf8');
  } catch {
    return null; // not built: the profile itself
  }
}
`;
      },
    },
    {
      // CommonJS has the module's path at hand: rolldown would build a URL of it
      // (pathToFileURL) only for the code to turn it back, ~0.5 ms of cold URL code per launch.
      name: 'module-path',
      transform(code, id) {
        if (!id.startsWith(path.join(root, 'dist/src')) || !code.includes('(import.meta.url)')) return null;
        return code
          .replaceAll('fileURLToPath(import.meta.url)', '__filename')
          .replaceAll('createRequire(import.meta.url)', 'createRequire(__filename)');
      },
    },
    {
      // A builtin the chunk imports is required at its first use, not when the chunk loads, and
      // without rolldown's __toESM copy of its exports: a require() of a builtin not yet loaded
      // builds its ES module facade (os ~0.15 ms, module ~0.2), and the copy of fs's ~100
      // exports is ~0.15 ms; a plain `tstop run` needs neither os nor module.
      name: 'lazy-builtins',
      renderChunk(code) {
        const required =
          /^let (node_\w+) = require\("(node:[\w/]+)"\);\n(?:\1 = require_rolldown_runtime\.__toESM\(\1, 1\);\n)?/gm;
        if (!required.test(code)) return null;
        return (
          code.replace(required, 'let $1 = lazyBuiltin("$2");\n') +
          `
/** The builtin \`id\` as rolldown's import of it, loaded at first use (bin/build-launcher.mjs). */
function lazyBuiltin(id) {
	let loaded;
	const load = () => (loaded ??= require(id));
	return new Proxy({}, { get: (_, key) => (key === "default" ? load() : load()[key]) });
}
`
        );
      },
    },
    staticPathPlugin(runRoots, runPath),
  ],
});
await bundle.write({
  dir: outDir,
  format: 'cjs',
  entryFileNames: 'tstop-launch.cjs',
  chunkFileNames: '[name]-[hash].cjs',
  codeSplitting: {
    groups: [{ name: 'tstop-launch-run', test: (id) => runPath.has(id) || id.includes('rolldown/runtime') }],
  },
});
await bundle.close();
fs.writeFileSync(path.join(outDir, 'seccomp-default.json'), preparedDefaultSeccomp);
