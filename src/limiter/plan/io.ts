// IO limits: --blkio-weight and the per-device throttles (v1 blkio.throttle.*, v2 io.max).

import type { CgroupFiles } from '../cgroup.js';
import type { HostFacts } from '../host.js';
import { refused } from '../safety.js';
import { blkioWeightToIoWeight, invalid, UNLIMITED } from '../units.js';
import { flagOf } from '../fields.js';
import { THROTTLE_FIELDS, type ParsedRequest, type ThrottleKind } from './request.js';
import type { Helpers } from './steps.js';

export function planBlkioWeight(weight: number, files: CgroupFiles, h: Pick<Helpers, 'need' | 'add' | 'notes'>): void {
  const kind = h.need('blkio', '--blkio-weight');
  if (kind === 'v1') {
    const file = files.has('blkio', 'blkio.weight')
      ? 'blkio.weight'
      : files.has('blkio', 'blkio.bfq.weight')
        ? 'blkio.bfq.weight'
        : null;
    if (!file)
      throw refused(
        '--blkio-weight: no blkio.weight or blkio.bfq.weight here (proportional IO weights need the BFQ or CFQ io scheduler)',
      );
    if (file === 'blkio.bfq.weight')
      h.notes.push('--blkio-weight sets blkio.bfq.weight: it applies on devices using the BFQ io scheduler');
    h.add('blkio', file, String(weight), '--blkio-weight');
    return;
  }
  // io.weight first, as the snapshot reads it (runc prefers io.bfq.weight; see docs/limiter.md).
  if (files.has('blkio', 'io.weight')) {
    const w = blkioWeightToIoWeight(weight);
    h.notes.push(`--blkio-weight ${weight} is io.weight ${w} on cgroup v2 (runc's conversion)`);
    h.add('blkio', 'io.weight', `default ${w}`, '--blkio-weight');
  } else if (files.has('blkio', 'io.bfq.weight')) {
    h.notes.push('--blkio-weight sets io.bfq.weight: it applies on devices using the BFQ io scheduler');
    h.add('blkio', 'io.bfq.weight', String(weight), '--blkio-weight');
  } else {
    throw refused(
      '--blkio-weight: no io.weight or io.bfq.weight here (the io controller is not enabled for this cgroup, or no weight-based io scheduler)',
    );
  }
}

const V1_THROTTLE_FILE: Record<ThrottleKind, string> = {
  readBps: 'blkio.throttle.read_bps_device',
  writeBps: 'blkio.throttle.write_bps_device',
  readIops: 'blkio.throttle.read_iops_device',
  writeIops: 'blkio.throttle.write_iops_device',
};
const V2_KEY: Record<ThrottleKind, string> = {
  readBps: 'rbps',
  writeBps: 'wbps',
  readIops: 'riops',
  writeIops: 'wiops',
};
const THROTTLE_FLAG = Object.fromEntries(THROTTLE_FIELDS.map(([key, kind]) => [kind, flagOf(key)])) as Record<
  ThrottleKind,
  string
>;

export function planThrottles(
  req: ParsedRequest,
  files: CgroupFiles,
  host: HostFacts,
  h: Pick<Helpers, 'need' | 'add'>,
): void {
  const kinds = (Object.keys(req.throttles) as ThrottleKind[]).filter((k) => req.throttles[k].length > 0);
  if (kinds.length === 0) return;
  for (const k of kinds) {
    for (const r of req.throttles[k]) {
      const d = host.blockDevice(r.device.major, r.device.minor);
      const shown = `${r.device.text}:${r.rate === UNLIMITED ? 'unlimited' : r.rate}`;
      if (!d)
        throw invalid(THROTTLE_FLAG[k], shown, `no block device ${r.device.major}:${r.device.minor} on this host`);
      if (d.kind === 'partition') {
        throw invalid(
          THROTTLE_FLAG[k],
          shown,
          `${d.name} is a partition; the kernel throttles whole disks (use /dev/${d.disk ?? 'the disk'})`,
        );
      }
    }
  }
  const kind = h.need('blkio', THROTTLE_FLAG[kinds[0]]);
  if (kind === 'v1') {
    for (const k of kinds) {
      for (const r of req.throttles[k]) {
        h.add(
          'blkio',
          V1_THROTTLE_FILE[k],
          `${r.device.major}:${r.device.minor} ${r.rate === UNLIMITED ? 0 : r.rate}`,
          THROTTLE_FLAG[k],
        );
      }
    }
    return;
  }
  // v2: one io.max line per device carrying every key asked for it.
  const byDevice = new Map<string, string[]>();
  for (const k of kinds) {
    for (const r of req.throttles[k]) {
      const dev = `${r.device.major}:${r.device.minor}`;
      const keys = byDevice.get(dev) ?? [];
      keys.push(`${V2_KEY[k]}=${r.rate === UNLIMITED ? 'max' : r.rate}`);
      byDevice.set(dev, keys);
    }
  }
  for (const [dev, keys] of byDevice) h.add('blkio', 'io.max', `${dev} ${keys.join(' ')}`, THROTTLE_FLAG[kinds[0]]);
}
