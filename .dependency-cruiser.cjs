// The layers of docs/architecture.md, as rules `npm run lint` enforces.
// Imports only point down this list:
//
//   src/cli           the only code that reads flags; one home per command
//   faces             ui/, src/exporter, src/limiter, src/launcher, src/record, src/fleet, src/guard
//   src/collect       the collection orchestrator
//   collectors/, src/discovery
//   src/cgroupfs
//   src/model, src/util   (model imports only util; util imports nothing of ours)
//
// bench/ may import anything of ours but test/; nothing imports bench/.
// Faces may use each other's contracts (the dashboard calls the limiter).

const FACES = '^(ui|src/(exporter|limiter|launcher|record|fleet|guard))/';
const BELOW_FACES = '^(src/collect|collectors|src/discovery|src/cgroupfs|src/model|src/util)/';
const BELOW_COLLECT = '^(collectors|src/discovery|src/cgroupfs|src/model|src/util)/';
const BELOW_COLLECTORS = '^(src/cgroupfs|src/model|src/util)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'An import cycle makes two modules one: break it by moving what both need downward.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'cli-is-the-top',
      severity: 'error',
      comment: 'Only src/cli reads flags and maps errors to exit codes; nothing below imports it.',
      from: { pathNot: '^(src/cli|bench)/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'faces-are-above-collection',
      severity: 'error',
      comment: 'The collection, collectors, discovery, cgroupfs, model and util know no face.',
      from: { path: BELOW_FACES },
      to: { path: FACES },
    },
    {
      name: 'collect-is-above-collectors',
      severity: 'error',
      comment: 'Collectors and discovery are called by the orchestrator, never the reverse.',
      from: { path: BELOW_COLLECT },
      to: { path: '^src/collect/' },
    },
    {
      name: 'collectors-and-discovery-are-above-cgroupfs',
      severity: 'error',
      from: { path: BELOW_COLLECTORS },
      to: { path: '^(collectors|src/discovery)/' },
    },
    {
      name: 'cgroupfs-is-above-model',
      severity: 'error',
      from: { path: '^(src/model|src/util)/' },
      to: { path: '^src/cgroupfs/' },
    },
    {
      name: 'model-imports-only-util',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { path: '^(src|collectors|ui|bench)/', pathNot: '^src/(model|util)/' },
    },
    {
      name: 'util-is-the-floor',
      severity: 'error',
      from: { path: '^src/util/' },
      to: { path: '^(src|collectors|ui|bench)/', pathNot: '^src/util/' },
    },
    {
      name: 'nothing-imports-bench',
      severity: 'error',
      from: { pathNot: '^bench/' },
      to: { path: '^bench/' },
    },
    {
      name: 'no-test-code-in-production',
      severity: 'error',
      from: { path: '^(src|collectors|ui|bench)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    // type-only imports count: a type cycle is still a design cycle
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
  },
};
