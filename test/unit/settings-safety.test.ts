// The safety net under inotify-fresh settings (src/collect/settings-safety.ts):
// every cgroup's settings are re-read once per period, each at its own
// moment, so no tick re-reads them all.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SettingsSafety } from '../../src/collect/settings-safety.js';
import type { CgroupTree } from '../../src/cgroupfs/tree.js';

describe('SettingsSafety', () => {
  it('marks each cgroup once per period, spread over the period, none at the first pass', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-safety-')); // no sysfs: hotplug never changes
    try {
      const nodes = new Map<string, { id: string; settingsStale: boolean }>(
        Array.from({ length: 200 }, (_, i) => [`/c${i}`, { id: `/c${i}`, settingsStale: false }]),
      );
      const tree = { nodes, settingTriggers: { hotplug: () => undefined } } as unknown as CgroupTree;
      const periodMs = 60_000;
      const safety = new SettingsSafety(root, tree, periodMs);
      const marks = new Map<string, number>();
      const mostInOneTick: number[] = [];
      const t0 = 1_767_000_000_000;
      for (let t = t0; t <= t0 + periodMs; t += 1000) {
        safety.pass(t);
        let now = 0;
        for (const node of nodes.values()) {
          if (!node.settingsStale) continue;
          marks.set(node.id, (marks.get(node.id) ?? 0) + 1);
          node.settingsStale = false;
          now++;
        }
        mostInOneTick.push(now);
        if (t === t0) expect(now).toBe(0);
      }
      expect(marks.size).toBe(200);
      expect([...marks.values()].every((n) => n === 1)).toBe(true);
      expect(Math.max(...mostInOneTick)).toBeLessThan(30);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
