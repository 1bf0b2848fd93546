// The floor of a Node launcher built as `tstop run` is: create the container's
// cgroup in every hierarchy (v1 cpuset initialised), write a state file, spawn
// native/build/tstop-helper (child_process, the spec in an unlinked file, the
// report on a pipe) with the same sandbox (namespaces, masked paths, dropped
// capabilities, no_new_privs, the default seccomp profile from the helper's
// cache), record the pid when the workload starts, wait, remove the cgroup and
// the state. No flags, no checks, no profile reading: what any Node launcher
// of this design pays above `node -e 0`.
//
//   node bench/launch-floor.cjs --spec DIR     once: writes DIR/spec (needs the build)
//   node bench/launch-floor.cjs DIR            one launch (the command to time)
//
// As root. Cgroups under /sys/fs/cgroup/<hierarchy>/tstop-bench-floor/<name>; the
// parent stays for the next launch (`--cleanup DIR` removes it and DIR's files).
// Used with bench/cpu-compare.mjs, docs/benchmarks.md "Performance (issue 14)".
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const PARENT = 'tstop-bench-floor';
const ROOT = '/sys/fs/cgroup';
// The hierarchies tstop run creates its cgroup in on this kind of host (hybrid v1 + unified).
const HIERARCHIES = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd', 'unified'];
const hierarchies = () => HIERARCHIES.filter((h) => fs.existsSync(path.join(ROOT, h, 'cgroup.procs')));

async function makeSpec(dir) {
  const dist = path.join(__dirname, '../dist/src/launcher');
  const { serializeSpec, DEFAULT_CAPABILITIES, CAPABILITIES } = await import(path.join(dist, 'spec.js'));
  const { loadSeccomp } = await import(path.join(dist, 'seccomp.js'));
  const caps = DEFAULT_CAPABILITIES.map((c) => CAPABILITIES.indexOf(c));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const spec = {
    mode: 'run',
    argv: ['/bin/true'],
    env: { PATH: '/usr/bin:/bin' },
    capabilities: caps,
    noNewPrivs: true,
    seccomp: loadSeccomp(undefined, caps),
    seccompCache: `${dir}/seccomp.cache`,
    namespaces: ['mnt', 'uts', 'ipc', 'pid', 'cgroup', 'net'],
    hostname: 'floor',
    init: false,
    cgroupProcs: hierarchies().map((h) => `${ROOT}/${h}/${PARENT}/NAME/cgroup.procs`),
    reportFd: 4,
  };
  fs.writeFileSync(path.join(dir, 'spec'), serializeSpec(spec));
}

function cleanup(dir) {
  for (const h of hierarchies()) {
    const p = path.join(ROOT, h, PARENT);
    if (!fs.existsSync(p)) continue;
    for (const e of fs.readdirSync(p, { withFileTypes: true })) if (e.isDirectory()) fs.rmdirSync(path.join(p, e.name));
    fs.rmdirSync(p);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

function launch(dir) {
  const { spawn } = require('node:child_process');
  const name = `f${process.pid}`;
  const dirs = hierarchies().map((h) => path.join(ROOT, h, PARENT, name));
  for (const d of dirs) {
    const parent = path.dirname(d);
    const fresh = !fs.existsSync(parent);
    fs.mkdirSync(d, { recursive: true });
    if (path.basename(path.dirname(parent)) === 'cpuset') {
      for (const c of fresh ? [parent, d] : [d])
        for (const f of ['cpuset.cpus', 'cpuset.mems'])
          fs.writeFileSync(`${c}/${f}`, fs.readFileSync(`${ROOT}/cpuset/${f}`));
    }
  }
  const state = path.join(dir, `${name}.json`);
  fs.writeFileSync(state, JSON.stringify({ name, status: 'created' }));
  const specFile = path.join(dir, `${name}.spec`);
  const fd = fs.openSync(specFile, 'wx+', 0o600);
  fs.unlinkSync(specFile);
  fs.writeSync(fd, fs.readFileSync(path.join(dir, 'spec'), 'latin1').replaceAll('/NAME/', `/${name}/`), 0, 'latin1');
  const child = spawn(path.join(__dirname, '../native/build/tstop-helper'), [], {
    stdio: ['ignore', 'inherit', 'inherit', fd, 'pipe'],
    env: {},
  });
  fs.closeSync(fd);
  child.stdio[4].on('data', (d) => {
    if (String(d).includes('pid=')) fs.writeFileSync(state, JSON.stringify({ name, status: 'running' }));
  });
  child.on('close', (code) => {
    for (const d of dirs) fs.rmdirSync(d);
    fs.unlinkSync(state);
    process.exitCode = code;
  });
}

const [a, b] = process.argv.slice(2);
if (a === '--spec') makeSpec(b);
else if (a === '--cleanup') cleanup(b);
else launch(a);
