// CPU time of commands, interleaved: `perf stat -e task-clock` (every thread
// and child of the command) per run, medians over N rounds, with the wall
// time beside it. On a shared, loaded host CPU time is the steadier measure.
//
//   node bench/cpu-compare.mjs 15 'node=node -e 0' 'tstop=bin/tstop run --network none --rm -- /bin/true'
//
// Needs perf (linux-perf). Run it without NODE_EXTRA_CA_CERTS (`env -u NODE_EXTRA_CA_CERTS node bench/...`):
// bin/tstop drops that variable for the launcher's commands, and node -e 0 would otherwise pay ~40 ms for it. Used for the launcher figures of docs/benchmarks.md, "Performance (issue 14)".
import { spawnSync } from 'node:child_process';
const n = Number(process.argv[2]);
const cmds = process.argv.slice(3).map((s) => { const i = s.indexOf('='); return [s.slice(0, i), s.slice(i + 1).split(' ')]; });
const cpu = cmds.map(() => []), wall = cmds.map(() => []);
for (let r = -1; r < n; r++) {
  cmds.forEach(([label, argv], k) => {
    const t0 = process.hrtime.bigint();
    const res = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', '--', ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (res.status !== 0) throw new Error(`${label}: ${res.stderr}`);
    const line = res.stderr.toString().trim().split('\n').pop();
    if (r >= 0) { cpu[k].push(Number(line.split(',')[0])); wall[k].push(ms); }
  });
}
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
cmds.forEach(([label], k) => console.log(`${label.padEnd(10)} cpu median ${med(cpu[k]).toFixed(1)} ms (min ${Math.min(...cpu[k]).toFixed(1)}), wall median ${med(wall[k]).toFixed(1)} ms (min ${Math.min(...wall[k]).toFixed(1)})`));
