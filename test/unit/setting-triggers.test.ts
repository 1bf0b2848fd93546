// settings.ts's table as the watcher applies it: which settings a write
// marks for a re-read, in which cgroups; and the hotplug probe.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HotplugProbe } from '../../src/cgroupfs/hotplug.js';
import { CgroupNode } from '../../src/cgroupfs/node.js';
import { SettingTriggers } from '../../src/cgroupfs/setting-triggers.js';
import { settingFreshness } from '../../src/cgroupfs/settings.js';

const FILES = [
  'pids.max',
  'hugetlb.2MB.max',
  'hugetlb.1GB.max',
  'blkio.weight',
  'blkio.bfq.weight',
  'devices.list',
  'cpuset.effective_cpus',
  'cpuset.cpus.effective',
  'cpu.weight',
];

function setup(): { triggers: SettingTriggers; nodes: CgroupNode[]; marked: (n: CgroupNode) => string[] } {
  // Hierarchy 1 stands for the unified one (v2 cpuset), 0 for the v1 ones.
  const triggers = new SettingTriggers(2, FILES.length);
  FILES.forEach((name, slot) => triggers.add(name, slot, name === 'cpuset.cpus.effective' ? 1 : 0));
  const nodes = ['/', '/a', '/a/b', '/ab'].map((id) => new CgroupNode(id, 2, FILES.length));
  const marked = (n: CgroupNode): string[] => FILES.filter((_, slot) => n.changed[slot] === 1);
  return { triggers, nodes, marked };
}

describe('setting triggers', () => {
  it('a write marks the file itself in its cgroup only; a hugetlb size only its own', () => {
    const { triggers, nodes, marked } = setup();
    triggers.written(nodes, nodes[1], 0, 'pids.max');
    triggers.written(nodes, nodes[1], 0, 'hugetlb.2MB.max');
    expect(nodes.map(marked)).toEqual([[], ['pids.max', 'hugetlb.2MB.max'], [], []]);
  });

  it('aliases: blkio.weight and blkio.bfq.weight together, cpu.weight by cpu.weight.nice', () => {
    const { triggers, nodes, marked } = setup();
    triggers.written(nodes, nodes[1], 0, 'blkio.bfq.weight');
    triggers.written(nodes, nodes[2], 0, 'cpu.weight.nice');
    expect(marked(nodes[1])).toEqual(['blkio.weight', 'blkio.bfq.weight']);
    expect(marked(nodes[2])).toEqual(['cpu.weight']);
  });

  it('devices.deny and v1 cpuset.cpus mark the cgroup and those below it, not a sibling named alike', () => {
    const { triggers, nodes, marked } = setup();
    triggers.written(nodes, nodes[1], 0, 'devices.deny');
    triggers.written(nodes, nodes[1], 0, 'cpuset.cpus');
    expect(nodes.map(marked)).toEqual([
      [],
      ['devices.list', 'cpuset.effective_cpus'],
      ['devices.list', 'cpuset.effective_cpus'],
      [],
    ]);
  });

  it('a v2 partition change marks every cgroup; notifications and other files mark nothing', () => {
    const { triggers, nodes, marked } = setup();
    for (const name of ['cgroup.events', 'memory.events', 'cgroup.procs', 'cgroup.freeze'])
      triggers.written(nodes, nodes[2], 0, name);
    expect(nodes.map(marked)).toEqual([[], [], [], []]);
    triggers.written(nodes, nodes[2], 1, 'cpuset.cpus.partition');
    expect(nodes.map(marked)).toEqual(nodes.map(() => ['cpuset.cpus.effective']));
  });

  it('hotplug marks the cpusets of every cgroup; a file appearing marks itself', () => {
    const { triggers, nodes, marked } = setup();
    triggers.hotplug(nodes);
    triggers.fileChanged(nodes[3], 0, 'cpu.weight');
    expect(marked(nodes[0])).toEqual(['cpuset.effective_cpus', 'cpuset.cpus.effective']);
    expect(marked(nodes[3])).toEqual(['cpuset.effective_cpus', 'cpuset.cpus.effective', 'cpu.weight']);
  });

  it('every setting the collectors declare is in the table (none left on the timer by omission)', async () => {
    await import('../../collectors/registry.js');
    const { registeredFiles } = await import('../../src/cgroupfs/files.js');
    const missing = registeredFiles()
      .filter((f) => f.kind === 'setting' && settingFreshness(f.name) === null)
      .map((f) => f.name);
    expect(missing).toEqual([]);
  });
});

describe('hotplug probe', () => {
  it('says changed when the online CPUs or memory nodes change, not on the first read', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-test-hotplug-'));
    try {
      const cpu = path.join(root, 'sys/devices/system/cpu');
      fs.mkdirSync(cpu, { recursive: true });
      fs.writeFileSync(path.join(cpu, 'online'), '0-3\n');
      const probe = new HotplugProbe(root);
      expect(probe.changed()).toBe(false);
      expect(probe.changed()).toBe(false);
      fs.writeFileSync(path.join(cpu, 'online'), '0-2\n');
      expect(probe.changed()).toBe(true);
      expect(probe.changed()).toBe(false);
    } finally {
      fs.rmSync(root, { recursive: true });
    }
  });
});
