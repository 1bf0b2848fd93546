// Device access rules: v1 devices.list; v2 has no file (rules are BPF
// programs attached to the cgroup), which tstop says plainly.

import { settingFile } from '../src/cgroupfs/files.js';
import { text } from '../src/cgroupfs/parse.js';
import type { CgroupSource } from '../src/cgroupfs/source.js';
import type { DeviceRule, DevicesStats } from '../src/model/types.js';
import type { CgroupCollector } from './api.js';

const V1 = { list: settingFile('devices', 'devices.list') };

const V2_NOTE = 'cgroup v2 device rules are BPF programs attached to the cgroup; tstop does not read them';

/** Pure: devices.list lines ("c 1:3 rwm", "a *:* rwm", "b 8:* m"); malformed lines are skipped. */
export function parseDevicesList(content: string): DeviceRule[] {
  const rules: DeviceRule[] = [];
  for (const line of content.split('\n')) {
    const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(line.trim());
    if (!m) continue;
    rules.push({
      type: m[1] as DeviceRule['type'],
      major: m[2] === '*' ? null : Number(m[2]),
      minor: m[3] === '*' ? null : Number(m[3]),
      access: m[4],
    });
  }
  return rules;
}

function parseDevicesStats(buf: Buffer, start: number, end: number): DevicesStats {
  return { rules: parseDevicesList(text(buf, start, end)), note: null };
}

export function collectDevices(src: CgroupSource): DevicesStats | null {
  if (src.has(V1.list) && !src.isV2('devices')) {
    // Parsed once per distinct devices.list, then the same object every tick.
    return src.setting(V1.list, parseDevicesStats);
  }
  if (src.tree.mounts.unified !== null && src.tree.mounts.mode === 'v2') return { rules: null, note: V2_NOTE };
  return null;
}

export const devicesCollector: CgroupCollector = {
  name: 'devices',
  fields: ['devices'],
  collect(src, _context, out) {
    out.devices = collectDevices(src);
  },
};
