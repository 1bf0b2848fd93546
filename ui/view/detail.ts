// The detail view's text: the selected container's identity, memory
// breakdown, CPU and throttling, pressure, namespaces, limits in force,
// capabilities, device rules, io and network per device, and its processes,
// laid out in as many columns as the width allows.

import { describeDrift, runtimeDrift } from '../../src/model/drift.js';
import type { ProcessSample } from '../../collectors/proc-detail.js';
import { NAMESPACE_TYPES, type ContainerSnapshot, type PressureResource } from '../../src/model/types.js';
import { formatBytes, formatCount } from '../../src/util/format.js';
import { fitSpans } from './header.js';
import { fit, safeText, type Glyphs, type Level, type Span } from './text.js';
import { displayName, memPercent, rowValues } from './values.js';

export interface Section {
  id: string;
  title: string;
  lines: Span[][];
}

export interface DetailInput {
  container: ContainerSnapshot;
  glyphs: Glyphs;
  /** Seconds since the last OOM kill seen, null if none since start. */
  secondsSinceOom: number | null;
  processes: ProcessSample | null;
  /** Monotonic-free wall clock, for the container's age. */
  nowSeconds: number;
  /** Replay: this cgroup's recent limit changes from the audit log, newest first. */
  limitChanges?: LimitChangeNote[];
}

export interface LimitChangeNote {
  /** Local time of the change. */
  at: string;
  /** What and who: "limit by root via cli". */
  what: string;
  /** The files written: name, old and new value. */
  writes: { file: string; oldValue: string; newValue: string }[];
  /** Made between the previous sample and this one. */
  sinceLastSample: boolean;
}

const n = (text: string, level: Level = 'normal'): Span => ({ text, level });

/** "label   value" with the label padded. */
function kv(label: string, value: string, level: Level = 'normal', pad = 14): Span[] {
  return [n(label.padEnd(pad), 'dim'), n(value, level)];
}

function bytesOrUnlimited(v: number | null | undefined): string {
  return v === null || v === undefined ? 'unlimited' : formatBytes(v);
}

function age(seconds: number): string {
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  if (seconds < 86400)
    return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86400)}d${String(Math.floor((seconds % 86400) / 3600)).padStart(2, '0')}h`;
}

function identity(d: DetailInput): Section {
  const c = d.container;
  const u = d.glyphs.unicode;
  const lines: Span[][] = [
    kv('name', safeText(displayName(c), u)),
    kv('cgroup', safeText(c.id, u)),
    kv('runtime', c.runtime),
  ];
  if (c.containerId) lines.push(kv('container id', safeText(c.containerId.slice(0, 12), u)));
  if (c.image) lines.push(kv('image', safeText(c.image, u)));
  if (c.kubernetes?.pod) lines.push(kv('pod', safeText(`${c.kubernetes.namespace ?? '?'}/${c.kubernetes.pod}`, u)));
  if (c.kubernetes?.container) lines.push(kv('k8s container', safeText(c.kubernetes.container, u)));
  const project = c.labels['com.docker.compose.project'];
  if (project !== undefined) {
    const service = c.labels['com.docker.compose.service'];
    lines.push(kv('compose', safeText(service === undefined ? project : `${project}/${service}`, u)));
  }
  lines.push(kv('init pid', c.initPid === null ? '-' : String(c.initPid)));
  if (c.startTimeSeconds !== null) lines.push(kv('up', age(Math.max(0, d.nowSeconds - c.startTimeSeconds))));
  const state = c.freezer ?? 'thawed';
  lines.push(kv('state', state, state === 'frozen' ? 'accent' : state === 'freezing' ? 'warn' : 'normal'));
  return { id: 'container', title: 'Container', lines };
}

function memory(d: DetailInput): Section {
  const m = d.container.memory;
  if (!m) return { id: 'memory', title: 'Memory', lines: [[n('no memory controller', 'dim')]] };
  const v = rowValues(d.container);
  const pct = memPercent(v);
  const lines: Span[][] = [
    kv(
      'working set',
      `${formatBytes(m.workingSetBytes)}${pct === null ? '' : ` (${pct.toFixed(1)}% of limit)`}`,
      pct !== null && pct >= 90 ? 'crit' : pct !== null && pct >= 75 ? 'warn' : 'normal',
    ),
    kv('usage', formatBytes(m.usageBytes)),
    kv('peak', formatBytes(m.maxUsageBytes)),
    kv('anon', formatBytes(m.anonBytes)),
    kv('file', `${formatBytes(m.fileBytes)} (inactive ${formatBytes(m.inactiveFileBytes)})`),
    kv('kernel', formatBytes(m.kernelBytes)),
    kv('swap', formatBytes(m.swapBytes)),
    kv('page faults', `${formatCount(m.pageFaults)} (major ${formatCount(m.majorPageFaults)})`),
  ];
  const kills = m.oomKills ?? m.events?.oomKill ?? null;
  const recent = d.secondsSinceOom === null ? '' : `, last ${age(d.secondsSinceOom)} ago`;
  lines.push(kv('OOM kills', `${kills ?? '-'}${recent}`, d.secondsSinceOom !== null ? 'crit' : 'normal'));
  if (m.failcnt !== null) lines.push(kv('failcnt', formatCount(m.failcnt)));
  if (m.events && (m.events.high ?? 0) > 0) lines.push(kv('high events', formatCount(m.events.high)));
  return { id: 'memory', title: 'Memory', lines };
}

function cpu(d: DetailInput): Section {
  const c = d.container.cpu;
  if (!c) return { id: 'cpu', title: 'CPU', lines: [[n('no cpu controller', 'dim')]] };
  const pct = (v: number | null): string => (v === null ? '-' : `${v.toFixed(1)}%`);
  const lines: Span[][] = [
    kv(
      'usage',
      `${pct(c.percent)} (user ${c.userSeconds?.toFixed(1) ?? '-'}s, system ${c.systemSeconds?.toFixed(1) ?? '-'}s)`,
    ),
    kv('quota', c.quotaCores === null ? 'unlimited' : `${c.quotaCores.toFixed(2)} CPUs (${pct(c.quotaPercent)} used)`),
    kv('periods', formatCount(c.periods)),
    kv(
      'throttled',
      `${formatCount(c.throttledPeriods)} periods, ${c.throttledSeconds?.toFixed(2) ?? '-'}s`,
      (c.throttledPercent ?? 0) >= 25 ? 'crit' : (c.throttledPercent ?? 0) >= 1 ? 'warn' : 'normal',
    ),
    kv('throttled now', pct(c.throttledPercent)),
  ];
  return { id: 'cpu', title: 'CPU and throttling', lines };
}

function pressure(d: DetailInput): Section {
  const p = d.container.pressure;
  if (!p)
    return { id: 'pressure', title: 'Pressure (PSI)', lines: [[n('not available (no PSI on this cgroup)', 'dim')]] };
  const lines: Span[][] = [[n('          avg10  avg60 avg300', 'dim')]];
  const row = (name: string, r: PressureResource | null): void => {
    for (const kind of ['some', 'full'] as const) {
      const l = r?.[kind];
      if (!l) continue;
      const lvl: Level = l.avg10 >= 40 ? 'crit' : l.avg10 >= 10 ? 'warn' : 'normal';
      lines.push([
        n(`${name} ${kind}`.padEnd(9), 'dim'),
        n(
          `${l.avg10.toFixed(2).padStart(6)} ${l.avg60.toFixed(2).padStart(6)} ${l.avg300.toFixed(2).padStart(6)}`,
          lvl,
        ),
      ]);
    }
  };
  row('cpu', p.cpu);
  row('mem', p.memory);
  row('io', p.io);
  return { id: 'pressure', title: 'Pressure (PSI)', lines };
}

function namespaces(d: DetailInput): Section {
  const ns = d.container.namespaces;
  if (!ns) {
    const why = d.container.initPid === null ? 'no process in this cgroup' : 'unreadable (needs root)';
    return { id: 'namespaces', title: 'Namespaces', lines: [[n(why, 'dim')]] };
  }
  const lines: Span[][] = [[n('type    state     inode', 'dim')]];
  for (const type of NAMESPACE_TYPES) {
    const info = ns[type];
    if (!info) {
      lines.push([n(type.padEnd(8)), n('unknown', 'dim')]);
      continue;
    }
    lines.push([
      n(type.padEnd(8)),
      n((info.isolated ? 'isolated' : 'host').padEnd(10), info.isolated ? 'good' : 'warn'),
      n(String(info.inode)),
    ]);
  }
  return { id: 'namespaces', title: 'Namespaces', lines };
}

function limits(d: DetailInput): Section {
  const c = d.container;
  const m = c.memory;
  const lines: Span[][] = [];
  if (m) {
    lines.push(kv('memory', bytesOrUnlimited(m.limitBytes)));
    if (m.highBytes !== null) lines.push(kv('memory high', formatBytes(m.highBytes)));
    if (m.softLimitBytes !== null) lines.push(kv('memory soft', formatBytes(m.softLimitBytes)));
    if (m.lowBytes) lines.push(kv('memory low', formatBytes(m.lowBytes)));
    if (m.minBytes) lines.push(kv('memory min', formatBytes(m.minBytes)));
    if (m.swapLimitBytes !== null) lines.push(kv('swap limit', formatBytes(m.swapLimitBytes)));
  }
  if (c.cpu) {
    lines.push(
      kv(
        'cpus',
        c.cpu.quotaCores === null
          ? 'unlimited'
          : `${c.cpu.quotaCores} (${c.cpu.quotaMicroseconds}/${c.cpu.periodMicroseconds} us)`,
      ),
    );
    if (c.cpu.shares !== null) lines.push(kv('cpu shares', String(c.cpu.shares)));
    if (c.cpu.weight !== null) lines.push(kv('cpu weight', String(c.cpu.weight)));
    if (c.cpu.cpus !== null) lines.push(kv('cpuset cpus', c.cpu.cpus || '-'));
    if (c.cpu.mems !== null) lines.push(kv('cpuset mems', c.cpu.mems || '-'));
  }
  if (c.pids)
    lines.push(
      kv(
        'pids',
        c.pids.limit === null ? 'unlimited' : String(c.pids.limit),
        (c.pids.limitHits ?? 0) > 0 ? 'warn' : 'normal',
      ),
    );
  if (c.io) {
    if (c.io.weight !== null) lines.push(kv('io weight', String(c.io.weight)));
    for (const l of c.io.limits) {
      const dev = l.device ?? `${l.major}:${l.minor}`;
      const parts: string[] = [];
      if (l.readBps !== null) parts.push(`r ${formatBytes(l.readBps)}/s`);
      if (l.writeBps !== null) parts.push(`w ${formatBytes(l.writeBps)}/s`);
      if (l.readIops !== null) parts.push(`r ${l.readIops} iops`);
      if (l.writeIops !== null) parts.push(`w ${l.writeIops} iops`);
      if (parts.length) lines.push(kv(`io ${safeText(dev, d.glyphs.unicode)}`, parts.join(', ')));
    }
  }
  for (const h of c.hugetlb ?? [])
    if (h.limitBytes !== null) lines.push(kv(`hugetlb ${h.pageSize}`, formatBytes(h.limitBytes)));
  if (lines.length === 0) lines.push([n('none readable', 'dim')]);
  // What docker restart would put back: docker keeps its own record of these.
  for (const drift of runtimeDrift(c)) lines.push(kv('not in docker', describeDrift(drift), 'warn'));
  // Replay: the audit log's changes, one file per line pair so they fit a column.
  for (const ch of d.limitChanges ?? []) {
    const u = d.glyphs.unicode;
    const level: Level = ch.sinceLastSample ? 'warn' : 'normal';
    lines.push([
      n(ch.sinceLastSample ? 'CHANGED ' : 'changed ', ch.sinceLastSample ? 'warn' : 'dim'),
      n(safeText(`${ch.at} ${ch.what}`, u), level),
    ]);
    for (const w of ch.writes) {
      lines.push([n(`  ${safeText(w.file, u)}`, 'dim')]);
      lines.push([n(`    ${safeText(`${w.oldValue || '(empty)'} -> ${w.newValue}`, u)}`, level)]);
    }
  }
  return { id: 'limits', title: 'Limits in force', lines };
}

function wrapWords(words: string[], width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}

function capabilities(d: DetailInput, width: number): Section {
  const caps = d.container.capabilities;
  if (!caps) {
    const why = d.container.initPid === null ? 'no process in this cgroup' : 'unreadable (needs root)';
    return { id: 'capabilities', title: 'Capabilities', lines: [[n(why, 'dim')]] };
  }
  const names = caps.effective.map((c) => c.replace(/^CAP_/, '').toLowerCase());
  const lines: Span[][] = [[n(`${names.length} effective (of ${caps.bounding.length} in the bounding set)`, 'dim')]];
  for (const l of wrapWords(names, Math.max(10, width)))
    lines.push([n(l, names.includes('sys_admin') ? 'warn' : 'normal')]);
  return { id: 'capabilities', title: 'Capabilities (effective)', lines };
}

function devices(d: DetailInput): Section {
  const dev = d.container.devices;
  if (!dev) return { id: 'devices', title: 'Device rules', lines: [[n('no devices controller', 'dim')]] };
  const lines: Span[][] = [];
  if (dev.rules) {
    for (const r of dev.rules.slice(0, 24)) {
      const num = (x: number | null): string => (x === null ? '*' : String(x));
      const all = r.type === 'a' && r.major === null && r.minor === null;
      lines.push([
        n(`${r.type} ${num(r.major)}:${num(r.minor)} ${r.access}`, all && r.access.includes('m') ? 'warn' : 'normal'),
      ]);
    }
    if (dev.rules.length > 24) lines.push([n(`... ${dev.rules.length - 24} more`, 'dim')]);
    if (dev.rules.length === 0) lines.push([n('no device allowed', 'dim')]);
  }
  if (dev.note) lines.push([n(dev.note, 'dim')]);
  return { id: 'devices', title: 'Device rules', lines };
}

function io(d: DetailInput): Section {
  const s = d.container.io;
  const lines: Span[][] = [];
  if (s) {
    for (const dev of s.devices.slice(0, 8)) {
      const name = safeText(dev.device ?? `${dev.major}:${dev.minor}`, d.glyphs.unicode);
      lines.push([
        n(name.padEnd(10), 'dim'),
        n(
          `r ${formatBytes(dev.readBytesPerSecond).padStart(7)}/s  w ${formatBytes(dev.writeBytesPerSecond).padStart(7)}/s`,
        ),
      ]);
    }
  }
  if (lines.length === 0) lines.push([n('no block io', 'dim')]);
  return { id: 'io', title: 'IO per device', lines };
}

function network(d: DetailInput): Section {
  const net = d.container.network;
  const lines: Span[][] = [];
  if (net) {
    for (const i of net.slice(0, 8)) {
      lines.push([
        n(safeText(i.interface, d.glyphs.unicode).padEnd(10), 'dim'),
        n(`rx ${formatBytes(i.rxBytesPerSecond).padStart(7)}/s  tx ${formatBytes(i.txBytesPerSecond).padStart(7)}/s`),
      ]);
    }
  } else {
    const shared = d.container.namespaces?.net && !d.container.namespaces.net.isolated;
    lines.push([n(shared ? "host's network namespace" : 'unknown (no process or not readable)', 'dim')]);
  }
  return { id: 'network', title: 'Network', lines };
}

/** The processes table (full width). */
export function processSection(d: DetailInput, width: number): Section {
  const sample = d.processes;
  const title = sample ? `Processes (${sample.total})` : 'Processes';
  if (!sample) return { id: 'processes', title, lines: [[n('reading...', 'dim')]] };
  const lines: Span[][] = [
    [
      n(
        fit('PID', 8, 'right') +
          ' ' +
          fit('USER', 10) +
          ' S ' +
          fit('CPU%', 6, 'right') +
          ' ' +
          fit('RSS', 7, 'right') +
          ' ' +
          'COMMAND',
        'dim',
      ),
    ],
  ];
  const procs = [...sample.processes].sort(
    (a, b) => (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1) || b.rssBytes - a.rssBytes || a.pid - b.pid,
  );
  const cmdWidth = Math.max(8, width - 37);
  for (const p of procs) {
    const cpuText = p.cpuPercent === null ? '-' : p.cpuPercent.toFixed(1);
    lines.push([
      n(
        fit(String(p.pid), 8, 'right') +
          ' ' +
          fit(safeText(p.user, d.glyphs.unicode), 10, 'left', d.glyphs.ellipsis) +
          ' ',
      ),
      n(p.state, p.state === 'D' || p.state === 'Z' ? 'warn' : p.state === 'R' ? 'good' : 'normal'),
      n(
        ' ' +
          fit(cpuText, 6, 'right') +
          ' ' +
          fit(formatBytes(p.rssBytes), 7, 'right') +
          ' ' +
          fit(safeText(p.command, d.glyphs.unicode), cmdWidth, 'left', d.glyphs.ellipsis),
      ),
    ]);
  }
  if (sample.total > sample.processes.length)
    lines.push([n(`... ${sample.total - sample.processes.length} more not read`, 'dim')]);
  if (sample.total === 0) lines.push([n('no processes', 'dim')]);
  return { id: 'processes', title, lines };
}

/** The sections, grouped into columns for the width (3 at >= 150 cells, 2 at >= 100, else 1). */
export function detailColumns(d: DetailInput, width: number): Section[][] {
  const cols = width >= 150 ? 3 : width >= 100 ? 2 : 1;
  const colWidth = Math.floor((width - (cols - 1) * 2) / cols);
  const s = {
    container: identity(d),
    memory: memory(d),
    cpu: cpu(d),
    pressure: pressure(d),
    namespaces: namespaces(d),
    limits: limits(d),
    capabilities: capabilities(d, colWidth),
    devices: devices(d),
    io: io(d),
    network: network(d),
  };
  if (cols === 3)
    return [
      [s.container, s.memory, s.cpu],
      [s.namespaces, s.pressure, s.limits],
      [s.capabilities, s.devices, s.io, s.network],
    ];
  if (cols === 2)
    return [
      [s.container, s.namespaces, s.memory, s.cpu],
      [s.limits, s.pressure, s.capabilities, s.devices, s.io, s.network],
    ];
  return [
    [s.container, s.namespaces, s.memory, s.cpu, s.pressure, s.limits, s.capabilities, s.devices, s.io, s.network],
  ];
}

function sectionLines(sec: Section, width: number): Span[][] {
  const title = `${sec.title} `;
  return [
    [n(title, 'accent'), n(''.padEnd(Math.max(0, width - title.length), '-'), 'dim')],
    ...sec.lines.map((l) => fitSpans(l, width)),
  ];
}

/** All of the detail text as lines of `width` cells: the section columns side by side, then the processes. */
export function detailLines(d: DetailInput, width: number): Span[][] {
  const columns = detailColumns(d, width);
  const gap = 2;
  const colWidth = Math.floor((width - (columns.length - 1) * gap) / columns.length);
  const rendered = columns.map((secs) => {
    const out: Span[][] = [];
    secs.forEach((sec, i) => {
      if (i > 0) out.push([]);
      out.push(...sectionLines(sec, colWidth));
    });
    return out;
  });
  const height = Math.max(...rendered.map((r) => r.length));
  const lines: Span[][] = [];
  for (let y = 0; y < height; y++) {
    const line: Span[] = [];
    rendered.forEach((col, i) => {
      if (i > 0) line.push(n(' '.repeat(gap)));
      line.push(...fitSpans(col[y] ?? [], colWidth));
    });
    lines.push(line);
  }
  lines.push([]);
  lines.push(...sectionLines(processSection(d, width), width));
  return lines;
}
