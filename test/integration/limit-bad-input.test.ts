// Malformed and dangerous invocations through the real CLI: each gets its
// own message on stderr and exit code 2, and no cgroup file changes (every
// limit file of the test's cgroups is hashed before and after). The
// container here is named like a docker container (docker-<id>.scope) so the
// refusals come from the input, not from the container rule, except where
// that rule is what the row tests.

import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCgroups } from '../helpers/cgroups.js';
import { hashLimitFiles, limitEnv, pool, runTstop, type RunResult } from '../helpers/limit.js';

const isRoot = process.getuid?.() === 0;

describe.runIf(isRoot)('bad input to tstop limit, freeze, thaw and kill', () => {
  let cg: TestCgroups;
  let env: NodeJS.ProcessEnv;
  let C: string;
  let before: Map<string, string>;
  let results: RunResult[];
  const online = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();

  // [args, expected stderr after "tstop: ", or a pattern]
  const escape = (x: string): string => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const rows = (): [string[], string | RegExp][] => {
    const P = cg.id();
    return [
      [
        ['limit', C, '--memory', '12x'],
        "limit: --memory '12x': unknown unit (units: k, m, g, t, p; examples: 512m, 2g, 1.5GiB, 1073741824)",
      ],
      [
        ['limit', C, '--memory', '-5m'],
        "limit: --memory '-5m': a size cannot be negative (to lift the limit use 'unlimited' or -1)",
      ],
      [
        ['limit', C, '--memory', '99999999999999999999'],
        "limit: --memory '99999999999999999999': too large (the most tstop accepts is 8PiB; use 'unlimited' to lift the limit)",
      ],
      [
        ['limit', C, '--memory', '1m'],
        "limit: --memory '1m': below the minimum of 6.00MiB (docker's too: less leaves the container no room to run)",
      ],
      [['limit', C, '--memory', ''], "limit: --memory '': not a size (examples: 512m, 2g, 1.5GiB, 1073741824)"],
      [
        ['limit', C, '--memory', '1.5.5g'],
        "limit: --memory '1.5.5g': not a size (examples: 512m, 2g, 1.5GiB, 1073741824)",
      ],
      [
        ['limit', C, '--memory', '512m', '--memory', '1g'],
        "limit: --memory given more than once ('512m' and '1g'); give it once",
      ],
      [
        ['limit', C, '--memory', '10m'],
        new RegExp(
          `^limit: --memory 10\\.0MiB is \\d+\\.\\dMiB below the current memory usage of \\d+\\.\\dMiB of bbbbbbbbbbbb \\(${escape(C)}\\): the kernel would have to reclaim that much at once or OOM-kill processes; pass --force to set it anyway$`,
        ),
      ],
      [
        ['limit', C, '--memory-swap', '0'],
        "limit: --memory-swap '0': is memory plus swap, so it cannot be 0 (equal to --memory means no swap; -1 unlimited)",
      ],
      [
        ['limit', C, '--memory', '1g', '--memory-swap', '512m'],
        "limit: --memory-swap '512m' is below --memory '1g': it is memory plus swap, so it must be at least the memory limit (-1 for unlimited swap)",
      ],
      [
        ['limit', C, '--memory', '1g', '--memory-reservation', '2g'],
        "limit: --memory-reservation '2g' is above --memory '1g': a reservation must not exceed the limit",
      ],
      [
        ['limit', C, '--memory', '1g', '--memory-high', '2g'],
        "limit: --memory-high '2g' is above --memory '1g': it would never apply",
      ],
      [
        ['limit', C, '--memory', 'unlimited', '--memory-swap', '1g'],
        "limit: --memory-swap '1g' with --memory unlimited: memory plus swap cannot be limited when memory is not",
      ],
      [
        ['limit', C, '--cpus', '0'],
        "limit: --cpus '0': 0 CPUs would stop the container; use 'unlimited' to lift the limit",
      ],
      [['limit', C, '--cpus', '-1'], "limit: --cpus '-1': CPUs cannot be negative (to lift the limit use 'unlimited')"],
      [
        ['limit', C, '--cpus', '0.001'],
        "limit: --cpus '0.001': below the minimum of 0.01 (the kernel refuses a quota under 1 ms per 100 ms period)",
      ],
      [['limit', C, '--cpus', '4096'], /^limit: --cpus '4096': this host has \d+ online CPUs?$/],
      [['limit', C, '--cpus', 'two'], "limit: --cpus 'two': not a number of CPUs (examples: 0.5, 1.5, 2)"],
      [['limit', C, '--cpu-shares', '1'], "limit: --cpu-shares '1': must be between 2 and 262144"],
      [
        ['limit', C, '--cpu-shares', '512', '--cpu-weight', '50'],
        "limit: --cpu-shares '512' and --cpu-weight '50' set the same thing (v1 shares, v2 weight); give one",
      ],
      [['limit', C, '--cpu-weight', '10001'], "limit: --cpu-weight '10001': must be between 1 and 10000"],
      [['limit', C, '--cpuset-cpus', '3-1'], "limit: --cpuset-cpus '3-1': range '3-1' runs backwards"],
      [
        ['limit', C, '--cpuset-cpus', '0-200'],
        new RegExp(`^limit: --cpuset-cpus '0-200': CPUs \\d+-200 are not online \\(online: ${online}\\)$`),
      ],
      [
        ['limit', C, '--cpuset-mems', '7'],
        /^limit: --cpuset-mems '7': memory node 7 is not online \(online: 0(-\d+)?\)$/,
      ],
      [
        ['limit', C, '--cpuset-cpus', '0,,1'],
        "limit: --cpuset-cpus '0,,1': '' is not a CPU number or range (examples: 0-3, 0,2, 1)",
      ],
      [
        ['limit', C, '--pids-limit', '0'],
        "limit: --pids-limit '0': must be above 0 (to lift the limit use -1, 'unlimited' or 'max')",
      ],
      [
        ['limit', C, '--pids-limit', '-5'],
        "limit: --pids-limit '-5': must be above 0 (to lift the limit use -1, 'unlimited' or 'max')",
      ],
      [
        ['limit', C, '--pids-limit', '99999999'],
        "limit: --pids-limit '99999999': must be between 1 and 4194304 (the kernel's PID_MAX_LIMIT)",
      ],
      [['limit', C, '--pids-limit', 'ten'], "limit: --pids-limit 'ten': not a whole number"],
      [['limit', C, '--blkio-weight', '5'], "limit: --blkio-weight '5': must be between 10 and 1000"],
      [
        ['limit', C, '--device-read-bps', '/dev/null:1mb'],
        "limit: --device-read-bps '/dev/null:1mb': '/dev/null' is not a block device",
      ],
      [
        ['limit', C, '--device-read-bps', '/dev/tstop-no-such-disk:1mb'],
        "limit: --device-read-bps '/dev/tstop-no-such-disk:1mb': no such device '/dev/tstop-no-such-disk'",
      ],
      [
        ['limit', C, '--device-read-bps', '250:99:1mb'],
        "limit: --device-read-bps '250:99:1048576': no block device 250:99 on this host",
      ],
      [
        ['limit', C, '--device-write-bps', '/dev/vda'],
        "limit: --device-write-bps '/dev/vda': expected DEVICE:RATE, e.g. /dev/sda:10mb or 8:0:10mb",
      ],
      [
        ['limit', C, '--device-write-iops', '7:0:1.5'],
        "limit: --device-write-iops '7:0:1.5': rate '1.5' is not a whole number of IO operations per second",
      ],
      [
        ['limit', C, '--device-read-bps', '7:0:1mb', '--device-read-bps', '7:0:2mb'],
        "limit: --device-read-bps names device 7:0 twice ('7:0:1mb' and '7:0:2mb')",
      ],
      [
        ['limit', C, '--device-allow', 'c 1:3 rwx'],
        "limit: --device-allow 'c 1:3 rwx': expected a device rule 'TYPE MAJOR:MINOR ACCESS' such as 'c 1:3 rwm', 'b 8:* r' or 'a'",
      ],
      [
        ['limit', C, '--device-allow', 'c 1:3 rwm', '--device-deny', 'c 1:3 rwm'],
        "limit: --device-allow and --device-deny both name 'c 1:3 rwm'",
      ],
      [['limit', C, '--bogus', '1'], "limit: Unknown option '--bogus'"],
      [['limit', C, '--memory', '1g', 'trailing'], "limit: unexpected argument 'trailing' (one container at a time)"],
      [['limit', C, '--memory'], "limit: Option '-m, --memory <value>' argument missing"],
      [['limit'], 'limit: give a container (name, id or /cgroup/path), or history, undo or recover'],
      [
        ['limit', C],
        'limit: nothing to change: give at least one limit (for example --memory 512m or --cpus 1.5; see tstop limit --help)',
      ],
      [['limit', C, '--memory', '1g', '--last', '5'], "limit: --last applies to 'limit history' only"],
      [
        ['limit', '/', '--memory', '1g'],
        "limit: refusing the root cgroup '/': its limits would apply to the whole machine",
      ],
      [
        ['limit', '//', '--memory', '1g'],
        "limit: refusing the root cgroup '/': its limits would apply to the whole machine",
      ],
      [['limit', '/../etc', '--memory', '1g'], "limit: cgroup path '/../etc' must not contain '.' or '..'"],
      [['limit', `${C}/../..`, '--memory', '1g'], `limit: cgroup path '${C}/../..' must not contain '.' or '..'`],
      [
        ['limit', 'web/../../x', '--memory', '1g'],
        "limit: container reference 'web/../../x': a name or id cannot contain '/' (a cgroup path starts with '/')",
      ],
      [['limit', '..', '--memory', '1g'], "limit: container reference '..': a name or id cannot contain '..'"],
      [
        ['limit', 'we\u0001b', '--memory', '1g'],
        "limit: container reference 'we\\x01b' contains a control character or NUL",
      ],
      [['limit', `${C}/nope`, '--memory', '1g'], `limit: no cgroup ${C}/nope on this host`],
      [
        ['limit', `${P}/sys.slice/x.service`, '--memory', '1g'],
        `limit: refusing 'x.service' (${P}/sys.slice/x.service): it is a systemd unit or slice, not a container; pass --allow-system to change it anyway`,
      ],
      [
        ['limit', `${P}/plain`, '--memory', '1g'],
        `limit: refusing ${P}/plain: it is a cgroup no container runtime created, not a container; pass --allow-system to change it anyway`,
      ],
      [
        ['limit', 'tstop-no-such-container', '--memory', '1g'],
        "limit: no container named 'tstop-no-such-container' or with an id starting so (tstop snapshot lists them; a cgroup path starts with '/')",
      ],
      [['limit', 'history', 'a', 'b'], "limit: unexpected argument 'b'"],
      [['limit', 'history', '--memory', '1g'], "limit: --memory does not apply to 'limit history'"],
      [['limit', 'undo', 'xyz'], "limit: change id 'xyz' is not an id (12 hex digits, or a unique prefix)"],
      [['limit', 'undo', '0123456789ab'], /^limit: no change '0123456789ab' in \S+audit.jsonl$/],
      [['limit', 'undo'], 'limit: undo needs a change id (see tstop limit history)'],
      [['freeze', '/'], "freeze: refusing the root cgroup '/': its limits would apply to the whole machine"],
      [
        ['freeze', `${P}/plain`],
        `freeze: refusing ${P}/plain: it is a cgroup no container runtime created, not a container; pass --allow-system to change it anyway`,
      ],
      [['freeze', C, '--timeout', '0'], 'freeze: --timeout: must be above 0 and at most 1h'],
      [['thaw', C, 'extra'], "thaw: unexpected argument 'extra' (one container at a time)"],
      [['kill', C, '--signal', 'NOPE'], "kill: --signal 'NOPE': not a signal name (examples: KILL, TERM, SIGHUP, 9)"],
      [['kill', C, '--signal', '99'], "kill: --signal '99': not a signal number on this system"],
      [['kill', '/'], "kill: refusing the root cgroup '/': its limits would apply to the whole machine"],
    ];
  };

  beforeAll(async () => {
    cg = new TestCgroups('badinput');
    C = cg.mkdir(`docker-${'b'.repeat(64)}.scope`);
    cg.mkdir('sys.slice/x.service');
    cg.mkdir('plain');
    // 32 MiB in use, so a 10 MiB limit is below usage.
    await cg.spawn(`docker-${'b'.repeat(64)}.scope`, ['alloc', '32']).ready;
    env = limitEnv(cg, cg.tmp('audit.jsonl'));
    before = hashLimitFiles(cg);
    results = await pool(rows(), 6, ([args]) => runTstop(args, env));
  }, 900_000); // 67 node starts: seconds on the host, minutes in the emulated v2 lane

  afterAll(async () => {
    await cg?.cleanup();
  });

  it('has at least 40 rows', () => {
    expect(rows().length).toBeGreaterThanOrEqual(40);
  });

  it('gives each its specific message and exit code 2', () => {
    const table = rows();
    const failures: string[] = [];
    table.forEach(([args, expected], i) => {
      const r = results[i];
      const line = r.stderr.replace(/\n$/, '');
      const ok =
        r.code === 2 &&
        r.stdout === '' &&
        !line.includes('\n') &&
        line.startsWith('tstop: ') &&
        (typeof expected === 'string' ? line === `tstop: ${expected}` : expected.test(line.slice('tstop: '.length)));
      if (!ok)
        failures.push(
          `${JSON.stringify(args)}\n  exit ${r.code}\n  got:      ${JSON.stringify(r.stderr)}\n  expected: ${String(expected)}`,
        );
    });
    expect(failures.join('\n')).toBe('');
  });

  it('changed no cgroup file', () => {
    expect(hashLimitFiles(cg)).toEqual(before);
    expect(before.size).toBeGreaterThan(20);
  });

  it('wrote nothing to the audit log', () => {
    expect(fs.existsSync(env.TSTOP_AUDIT_LOG!)).toBe(false);
  });
});
