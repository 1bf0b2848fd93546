// Device access rules: --device-allow / --device-deny (v1 devices controller).

import type { CgroupFiles } from '../cgroup.js';
import { refused } from '../safety.js';
import { formatDeviceRule, invalid, quote, type DeviceRuleSpec } from '../units.js';
import { expectedDeviceList, parseDevicesList } from '../values.js';
import type { ParsedRequest } from './request.js';
import type { Helpers } from './steps.js';

export function planDeviceRules(
  req: ParsedRequest,
  files: CgroupFiles,
  h: Pick<Helpers, 'need' | 'add' | 'notes'>,
): void {
  if (req.deviceAllow.length === 0 && req.deviceDeny.length === 0) return;
  const flag = req.deviceDeny.length > 0 ? '--device-deny' : '--device-allow';
  const d = files.controller('devices');
  if (!d || d.kind !== 'v1') {
    if (
      files.mounts.unified &&
      !files.mounts.hierarchies.some((x) => x.kind === 'v1' && x.controllers.includes('devices'))
    ) {
      throw refused(
        `${flag}: on cgroup v2 device rules are BPF programs attached to the cgroup, not files; tstop cannot change them yet (that needs the launcher's helper). Nothing was changed`,
      );
    }
    throw refused(`${flag}: ${files.missing('devices')}`);
  }
  const list = files.read('devices', 'devices.list') ?? '';
  // Denies first: "--device-deny a --device-allow 'c 1:3 rwm'" means "only 1:3".
  const ops: [string, DeviceRuleSpec][] = [
    ...req.deviceDeny.map((r): [string, DeviceRuleSpec] => ['devices.deny', r]),
    ...req.deviceAllow.map((r): [string, DeviceRuleSpec] => ['devices.allow', r]),
  ];
  let state = list;
  let hiddenDeny = false;
  for (const [file, r] of ops) {
    const value = r.type === 'a' ? 'a' : formatDeviceRule(r);
    const flag = file === 'devices.deny' ? '--device-deny' : '--device-allow';
    const allowAll = state.trim() === 'a *:* rwm';
    if (file === 'devices.deny' && r.type !== 'a') {
      if (allowAll) hiddenDeny = true;
      else {
        // The kernel removes only the entry with exactly this type and these numbers.
        const after = parseDevicesList(expectedDeviceList(state, [[file, value]]));
        const still = after.filter((e) => overlaps(e, r));
        if (still.length > 0) {
          throw invalid(
            flag,
            value,
            `the kernel only removes a rule with exactly the same type and numbers, so ${still.map((e) => quote(formatDeviceRule(e))).join(', ')} would still grant ${r.access
              .split('')
              .filter((c) => still.some((e) => e.access.includes(c)))
              .join('')}; deny ${still.length === 1 ? 'that rule' : 'those rules'} instead`,
          );
        }
      }
    }
    state = expectedDeviceList(state, [[file, value]]);
    h.add('devices', file, value, flag, true);
  }
  if (hiddenDeny) {
    h.notes.push(
      'device rules: the cgroup allows every device (allow-all mode); the kernel does not list deny exceptions there, so the deny cannot be read back, and undo lifts every deny exception',
    );
  }
}

/** Whether two device rules name some device in common with some access in common. */
function overlaps(e: DeviceRuleSpec, r: DeviceRuleSpec): boolean {
  const num = (a: number | null, b: number | null): boolean => a === null || b === null || a === b;
  return (
    (e.type === 'a' || r.type === 'a' || e.type === r.type) &&
    num(e.major, r.major) &&
    num(e.minor, r.minor) &&
    [...r.access].some((c) => e.access.includes(c))
  );
}
