// `tstop run`: its flags to checked RunOptions, then the launcher
// (src/launcher/run.ts). Loaded lazily by src/cli/commands/run.ts.

import path from 'node:path';
import {
  bad,
  parseEnvFlags,
  parseOomScoreAdj,
  parseUlimits,
  parseSecurityOpts,
  parseUserns,
  parseVolume,
  randomName,
  type RunOptions,
} from '../launcher/options.js';
import { parseDeviceFlag, parseDeviceRule } from '../launcher/devices.js';
import { parseLogOpts } from '../launcher/logs.js';
import { parseRestart } from '../launcher/restart.js';

import { parseNetworkFlags } from '../launcher/network/flags.js';
import { reportFailure } from '../launcher/report.js';
import { runContainer, trace } from '../launcher/run.js';
import { resolveCapabilities, SpecError } from '../launcher/spec.js';
import { NAME_RE } from '../launcher/state.js';
import { UsageError } from '../util/errors.js';
import { listFlag, stringFlag, type ParsedFlags } from './command.js';
import { limitRequestFromFlags } from './limit-request.js';

export async function runCli(flags: ParsedFlags, argv: string[]): Promise<number> {
  trace('run-start');
  const opts = parseRunFlags(flags, argv); // UsageError: exit 2 (main prints it)
  trace('options');
  try {
    return await runContainer(opts);
  } catch (err) {
    return reportFailure('run', err);
  }
}

export function parseRunFlags(flags: ParsedFlags, argv: string[], uid = process.getuid?.() ?? 0): RunOptions {
  const image = stringFlag(flags, 'image') ?? null;
  if (argv.length === 0 && image === null) {
    throw new UsageError('give the command to run (tstop run [OPTIONS] [--] COMMAND [ARG...])');
  }
  if (argv.length > 0 && argv[0] === '') throw new UsageError('the command is empty');
  const given = stringFlag(flags, 'name');
  if (given !== undefined && !NAME_RE.test(given)) {
    throw bad('name', given, 'a name is 1-128 of a-z A-Z 0-9 _ . - and starts with a letter or digit');
  }
  const name = given ?? randomName();
  const hostname = stringFlag(flags, 'hostname') ?? name.slice(0, 63);
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(hostname) || hostname.endsWith('-')) {
    throw bad('hostname', hostname, 'a hostname is 1-63 of a-z A-Z 0-9 . - and starts with a letter or digit');
  }
  const userns = parseUserns(stringFlag(flags, 'userns') ?? 'host', uid);
  const rootfsFlag = stringFlag(flags, 'rootfs');
  // A relative rootfs is taken from the current directory.
  const rootfs = rootfsFlag === undefined ? null : path.resolve(rootfsFlag);
  if (image !== null && rootfs !== null) throw new UsageError('--image and --rootfs are mutually exclusive: give one');
  if (image !== null && userns !== null) {
    throw new UsageError(
      "--image with --userns is not supported yet: the layers keep the image's own uids, unmapped inside",
    );
  }
  const entrypoint = stringFlag(flags, 'entrypoint');
  if (entrypoint !== undefined && image === null) throw new UsageError('--entrypoint needs --image');

  const net = parseNetworkFlags(
    {
      network: stringFlag(flags, 'network'),
      publish: listFlag(flags, 'publish'),
      dns: listFlag(flags, 'dns'),
      addHost: listFlag(flags, 'add-host'),
    },
    rootfs !== null || image !== null,
    userns !== null,
  );
  const network = net.mode;
  const readOnly = flags['read-only'] === true;
  if (readOnly && rootfs === null && image === null) {
    throw new UsageError("--read-only needs --rootfs (without it the container sees the host's /)");
  }
  const volumes = listFlag(flags, 'volume').map(parseVolume);
  if (volumes.length > 0 && rootfs === null && image === null) {
    throw new UsageError("--volume needs --rootfs (without it the container already sees the host's files)");
  }
  const workdir = stringFlag(flags, 'workdir');
  if (workdir !== undefined && !path.isAbsolute(workdir)) throw bad('workdir', workdir, 'must be an absolute path');
  let capabilities: number[];
  try {
    capabilities = resolveCapabilities({ add: listFlag(flags, 'cap-add'), drop: listFlag(flags, 'cap-drop') });
  } catch (err) {
    if (err instanceof SpecError) throw new UsageError(`--cap-add/--cap-drop: ${err.message}`);
    throw err;
  }
  const detach = flags.detach === true;
  const interactive = flags.interactive === true;
  const tty = flags.tty === true;
  if (detach && (interactive || tty)) {
    throw new UsageError('-d cannot be combined with -i or -t: tstop does not attach later; use tstop exec -it');
  }
  const restart = parseRestart(stringFlag(flags, 'restart'));
  if (restart.name !== 'no' && !detach) {
    throw new UsageError(
      `--restart ${restart.name} needs -d: the detached helper is the container's supervisor (a foreground run ends with its workload)`,
    );
  }
  if (restart.name !== 'no' && network === 'bridge' && userns !== null) {
    // A restart runs in the first child's network namespace (native/src/network.c), which the
    // first child's user namespace owns: a restarted one could not mount its /sys.
    throw new UsageError(
      `--restart ${restart.name} with --network bridge and --userns is not supported yet: use two of the three`,
    );
  }
  if (restart.name !== 'no' && flags.rm === true) {
    throw new UsageError('--restart and --rm conflict: a container removed when it exits cannot be restarted');
  }
  const user = stringFlag(flags, 'user');
  if (user !== undefined && !/^[^:\s]+(:[^:\s]+)?$/.test(user)) throw bad('user', user, 'expected USER[:GROUP]');
  return {
    name,
    argv,
    limits: limitRequestFromFlags(flags),
    hostname,
    network,
    net,
    userns,
    rootfs,
    readOnly,
    volumes,
    workdir,
    env: parseEnvFlags(listFlag(flags, 'env')),
    user,
    capabilities,
    ...parseSecurityOpts(listFlag(flags, 'security-opt')),
    oomScoreAdj: parseOomScoreAdj(stringFlag(flags, 'oom-score-adj')),
    rlimits: parseUlimits(listFlag(flags, 'ulimit')),
    devices: listFlag(flags, 'device').map(parseDeviceFlag),
    deviceRules: listFlag(flags, 'device-cgroup-rule').map(parseDeviceRule),
    log: parseLogOpts(listFlag(flags, 'log-opt')),
    restart,
    interactive,
    tty,
    detach,
    rm: flags.rm === true,
    init: flags.init === true,
    ...(image !== null ? { image, imageStore: stringFlag(flags, 'image-store'), entrypoint } : {}),
  };
}
