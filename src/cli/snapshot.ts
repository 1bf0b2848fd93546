// `tstop snapshot`: the non-interactive face. Prints each tick as a table,
// JSON (JSON Lines when more than one tick) or CSV.

import { byCpuThenMemory, filterRegex, selectContainers } from '../model/select.js';
import { instanceOf, isFleetSnapshot, type ContainerSnapshot, type Snapshot } from '../model/types.js';
import { formatBytes, formatCount, formatPercent, formatRate, printable, renderTable } from '../util/format.js';
import { sanitizeJson, sanitizeText } from '../util/sanitize.js';
import { collectorOptions } from './collection-flags.js';
import { durationFlag, stringFlag, type ParsedFlags } from './command.js';
import { UsageError } from '../util/errors.js';
import { FLEET_FLAGS, FLEET_WRITE_FLAGS } from './fleet-flags.js';
import type { FleetSource } from '../fleet/source.js';

type Format = 'table' | 'json' | 'csv';

export interface SnapshotArgs {
  format: Format;
  count: number;
  intervalMs: number;
  filter: RegExp | null;
  all: boolean;
}

export function parseSnapshotArgs(flags: ParsedFlags): SnapshotArgs {
  if (flags.json && flags.csv) throw new UsageError('--json and --csv cannot be used together');
  const countText = stringFlag(flags, 'count') ?? '1';
  if (!/^\d+$/.test(countText) || Number(countText) < 1) {
    throw new UsageError(`--count: '${countText}' is not a positive whole number`);
  }
  const intervalMs = durationFlag(flags, 'interval', '1s');
  const filterText = stringFlag(flags, 'filter');
  let filter: RegExp | null = null;
  if (filterText !== undefined) {
    try {
      filter = filterRegex(filterText);
    } catch (err) {
      throw new UsageError(`--filter: '${filterText}' is not a regular expression (${(err as Error).message})`);
    }
  }
  return {
    format: flags.json ? 'json' : flags.csv ? 'csv' : 'table',
    count: Number(countText),
    intervalMs,
    filter,
    all: flags.all === true,
  };
}

function memoryCell(c: ContainerSnapshot): string {
  const used = c.memory?.workingSetBytes ?? c.memory?.usageBytes ?? null;
  const limit = c.memory?.limitBytes ?? null;
  return limit === null ? formatBytes(used) : `${formatBytes(used)} / ${formatBytes(limit)}`;
}

export function snapshotTable(snapshot: Snapshot, containers: ContainerSnapshot[]): string {
  const fleet = isFleetSnapshot(snapshot);
  const header = [
    'NAME',
    ...(fleet ? ['INSTANCE'] : []),
    'RUNTIME',
    'CPU%',
    'MEM / LIMIT',
    'IO READ/s',
    'IO WRITE/s',
    'PIDS',
    'THROTTLED',
  ];
  const rows = containers.map((c) => [
    printable(c.name),
    ...(fleet ? [printable(instanceOf(c) ?? '')] : []),
    c.runtime,
    formatPercent(c.cpu?.percent),
    memoryCell(c),
    formatRate(c.io?.readBytesPerSecond),
    formatRate(c.io?.writeBytesPerSecond),
    c.pids?.current == null
      ? String(c.processes.length)
      : c.pids.limit === null
        ? formatCount(c.pids.current)
        : `${c.pids.current}/${c.pids.limit}`,
    formatPercent(c.cpu?.throttledPercent),
  ]);
  const h = snapshot.host;
  if (fleet)
    return (
      fleetTitle(snapshot, containers) +
      renderTable(header, rows, [false, false, false, true, true, true, true, true, true])
    );
  const title =
    `${printable(h.hostname)}  ${h.kernel}  cgroup ${h.cgroupMode}  ${h.cpus} CPUs  ` +
    `mem ${formatBytes(h.memoryBytes - (h.memoryAvailableBytes ?? 0))} / ${formatBytes(h.memoryBytes)}  ` +
    `${containers.length} shown of ${snapshot.containers.length} cgroups  ${snapshot.timestamp}\n`;
  return title + renderTable(header, rows, [false, false, true, true, true, true, true, true]);
}

function fleetTitle(snapshot: Snapshot, containers: ContainerSnapshot[]): string {
  const instances = isFleetSnapshot(snapshot) ? snapshot.instances : [];
  const down = instances.filter((i) => i.up === false).map((i) => printable(i.instance));
  const up = instances.filter((i) => i.up !== false).length;
  return (
    `${printable(snapshot.host.hostname)}  ${up}/${instances.length} instances up` +
    (down.length ? ` (down: ${down.join(', ')})` : '') +
    `  ${containers.length} shown of ${snapshot.containers.length} cgroups  ${snapshot.timestamp}\n`
  );
}

const CSV_COLUMNS: [string, (c: ContainerSnapshot) => string | number | null | undefined][] = [
  ['id', (c) => c.id],
  ['name', (c) => c.name],
  ['runtime', (c) => c.runtime],
  ['image', (c) => c.image],
  ['cpu_percent', (c) => c.cpu?.percent],
  ['cpu_usage_seconds', (c) => c.cpu?.usageSeconds],
  ['cpu_quota_cores', (c) => c.cpu?.quotaCores],
  ['cpu_throttled_percent', (c) => c.cpu?.throttledPercent],
  ['memory_usage_bytes', (c) => c.memory?.usageBytes],
  ['memory_working_set_bytes', (c) => c.memory?.workingSetBytes],
  ['memory_limit_bytes', (c) => c.memory?.limitBytes],
  ['io_read_bytes_per_second', (c) => c.io?.readBytesPerSecond],
  ['io_write_bytes_per_second', (c) => c.io?.writeBytesPerSecond],
  ['pids_current', (c) => c.pids?.current],
  ['pids_limit', (c) => c.pids?.limit],
  ['processes', (c) => c.processes.length],
];

function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  // Names and images come from containers: no escape sequence or bidi control reaches the file.
  const s = sanitizeText(String(v));
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The fleet view's CSV has the instance after the id. */
function csvColumns(fleet: boolean): typeof CSV_COLUMNS {
  return fleet ? [CSV_COLUMNS[0], ['instance', (c) => instanceOf(c)], ...CSV_COLUMNS.slice(1)] : CSV_COLUMNS;
}

export function csvHeader(fleet = false): string {
  return ['timestamp', ...csvColumns(fleet).map(([name]) => name)].join(',') + '\n';
}

export function snapshotCsv(snapshot: Snapshot, containers: ContainerSnapshot[]): string {
  return containers
    .map(
      (c) =>
        [snapshot.timestamp, ...csvColumns(isFleetSnapshot(snapshot)).map(([, get]) => get(c))].map(csvCell).join(',') +
        '\n',
    )
    .join('');
}

/** The JSON document for one tick: the snapshot with only the selected containers. */
export function snapshotJson(snapshot: Snapshot, containers: ContainerSnapshot[]): string {
  return printedJson(JSON.stringify({ ...snapshot, containers }));
}

/** A JSON document as printed: sanitized, one line. */
function printedJson(json: string): string {
  return sanitizeJson(json) + '\n';
}

function write(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', () => resolve());
  });
}

/** Waits ms (or one turn of the event loop for 0), returning early once stopped() is true. */
async function pause(ms: number, stopped: () => boolean): Promise<void> {
  if (ms <= 0) return new Promise((r) => setImmediate(r));
  const deadline = Date.now() + ms;
  while (!stopped() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, Math.min(50, deadline - Date.now())));
  }
}

/** The fleet's flags but --at (a store's too): only with one of them can the command be the fleet's. */
const FLEET_FLAG_NAMES = [...FLEET_FLAGS, ...FLEET_WRITE_FLAGS].map((f) => f.name).filter((name) => name !== 'at');

export async function runSnapshot(flags: ParsedFlags): Promise<number> {
  const args = parseSnapshotArgs(flags);
  // The fleet's code (and the collector's, below) is loaded only when used: `snapshot --at` reads a store and starts fast.
  if (FLEET_FLAG_NAMES.some((name) => flags[name] !== undefined)) {
    const fleet = await import('./fleet.js');
    if (fleet.wantsFleet(flags)) return runFleetSnapshot(args, fleet.fleetSourceFromFlags(flags));
  }
  if (flags.store !== undefined || flags.at !== undefined || flags.from !== undefined || flags.to !== undefined) {
    const replay = await import('./snapshot-replay.js');
    if (!replay.wantsReplay(flags))
      throw new UsageError('--store reads recorded samples: give --at TIME or --from TIME');
    return replay.runSnapshotReplay(flags, {
      selection: args,
      header: args.format === 'csv' ? csvHeader() : '',
      render: (s, shown, first) =>
        args.format === 'json'
          ? snapshotJson(s, shown)
          : args.format === 'csv'
            ? snapshotCsv(s, shown)
            : (first ? '' : '\n') + snapshotTable(s, shown),
      renderJson: args.format === 'json' ? printedJson : undefined,
      write,
    });
  }
  const { Collector } = await import('../collect/collector.js');
  const collector = new Collector({ ...collectorOptions(flags), watch: args.count > 1 });
  let stop = false;
  const onSignal = (): void => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (args.format === 'csv') await write(csvHeader());
    // Rates need two samples (as docker stats --no-stream): a baseline one
    // interval before the first printed tick. --interval 0 prints the first
    // sample itself, with null rates.
    if (args.intervalMs > 0) collector.collect();
    for (let i = 0; i < args.count && !stop; i++) {
      // Even back-to-back ticks yield once, so inotify events reach the tree.
      if (i > 0 || args.intervalMs > 0) await pause(args.intervalMs, () => stop);
      if (stop) break;
      const snapshot = collector.collect();
      const shown = selectContainers(snapshot.containers, args).sort(byCpuThenMemory);
      if (args.format === 'json') await write(snapshotJson(snapshot, shown));
      else if (args.format === 'csv') await write(snapshotCsv(snapshot, shown));
      else await write((i > 0 ? '\n' : '') + snapshotTable(snapshot, shown));
      for (const note of snapshot.notes)
        if (i === 0 && args.format === 'table') process.stderr.write(`note: ${printable(note)}\n`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    collector.close();
  }
  return 0;
}

/** `tstop snapshot --prometheus URL`: the fleet, printed like the local snapshot; a Prometheus failure is exit 1. */
async function runFleetSnapshot(args: SnapshotArgs, source: FleetSource): Promise<number> {
  if (args.format === 'csv') await write(csvHeader(true));
  for (let i = 0; i < args.count; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, args.intervalMs));
    const snapshot = await source.refresh();
    const shown = selectContainers(snapshot.containers, args).sort(byCpuThenMemory);
    if (args.format === 'json') await write(snapshotJson(snapshot, shown));
    else if (args.format === 'csv') await write(snapshotCsv(snapshot, shown));
    else await write((i > 0 ? '\n' : '') + snapshotTable(snapshot, shown));
    if (i === 0 && args.format === 'table') for (const note of snapshot.notes) process.stderr.write(`note: ${note}\n`);
  }
  return 0;
}
