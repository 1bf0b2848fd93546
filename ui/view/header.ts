// The three header lines: who and what this host is, its CPU and memory as
// bars, its pressure, and the dashboard's own state (interval, pause, sort,
// filter, view, clock).

import { countContainers } from '../../src/model/select.js';
import { isFleetSnapshot, type Snapshot } from '../../src/model/types.js';
import { formatBytes } from '../../src/util/format.js';
import { formatDurationMs } from '../../src/util/duration.js';
import { SORT_LABELS, sortsDescending } from './sort.js';
import type { ViewState } from './view-state.js';
import { bar, safeText, type Glyphs, type Level, type Span } from './text.js';

export interface HeaderInput {
  snapshot: Snapshot | null;
  state: ViewState;
  /** Rows the table shows now. */
  shown: number;
  width: number;
  now: Date;
  glyphs: Glyphs;
  /** Replay (tstop --at): the sample's time, and how many limit changes happened since the previous sample. */
  replay?: { timeMs: number; limitChanges: number } | null;
}

/** A sample's local date and time to the tenth of a second (samples may be 100 ms apart), as the replay shows it. */
export function sampleTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${clock(d)}.${Math.floor(d.getMilliseconds() / 100)}`;
}

function clock(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function usageLevel(fraction: number | null): Level {
  if (fraction === null) return 'normal';
  return fraction >= 0.9 ? 'crit' : fraction >= 0.75 ? 'warn' : 'good';
}

/** Fits spans into width cells (cuts the last ones), padding the line. */
export function fitSpans(spans: Span[], width: number): Span[] {
  const out: Span[] = [];
  let left = width;
  for (const s of spans) {
    if (left <= 0) break;
    const text = s.text.length > left ? s.text.slice(0, left) : s.text;
    out.push({ text, level: s.level });
    left -= text.length;
  }
  if (left > 0) out.push({ text: ' '.repeat(left), level: 'normal' });
  return out;
}

function psiText(p: { some: { avg10: number } | null } | null | undefined): string {
  return p?.some ? p.some.avg10.toFixed(1) : '-';
}

export function headerLines(input: HeaderInput): Span[][] {
  const { snapshot: s, state, width, glyphs } = input;
  const n = (text: string, level: Level = 'normal'): Span => ({ text, level });
  const sep = n('  ');
  // Line 1: who this host is on the left; counts, interval, pause and clock on the right (kept first).
  const right: Span[] = [];
  if (s) {
    const containers = countContainers(s.containers);
    right.push(n(`${containers} containers`), sep, n(`${input.shown}/${s.containers.length} shown`), sep);
  }
  if (input.replay) {
    // Replay: no refresh interval or clock, the recorded sample's time instead.
    if (input.replay.limitChanges > 0)
      right.push(
        n(`LIMIT CHANGE${input.replay.limitChanges > 1 ? `S ${input.replay.limitChanges}` : ''}`, 'warn'),
        sep,
      );
    right.push(n('REPLAY', 'crit'), sep, n(sampleTime(input.replay.timeMs), 'accent'));
  } else {
    right.push(n(`every ${formatDurationMs(state.intervalMs)}`));
    if (state.paused) right.push(sep, n('PAUSED', 'warn'));
    right.push(sep, n(clock(input.now)));
  }
  const left: Span[][] = [[n('tstop', 'accent')]];
  if (isFleetSnapshot(s)) {
    // The fleet view: the source and how many of its hosts answer.
    const up = s.instances.filter((i) => i.up !== false).length;
    left.push(
      [sep, n(safeText(`fleet ${s.source.url}`, glyphs.unicode), 'accent')],
      [sep, n(`${up}/${s.instances.length} instances up`, up < s.instances.length ? 'crit' : 'normal')],
    );
  } else if (s) {
    left.push(
      [sep, n(safeText(s.host.hostname, glyphs.unicode))],
      [sep, n(`cgroup ${s.host.cgroupMode}`)],
      [sep, n(`${s.host.cpus} CPUs`)],
      [sep, n(`kernel ${safeText(s.host.kernel, glyphs.unicode)}`)],
    );
  } else left.push([sep, n('collecting...')]);
  const len = (spans: Span[]): number => spans.reduce((a, x) => a + x.text.length, 0);
  const rightLen = len(right);
  while (left.length > 1 && len(left.flat()) + 2 + rightLen > width) left.pop();
  const leftSpans = left.flat();
  const line1 = [...leftSpans, n(' '.repeat(Math.max(2, width - len(leftSpans) - rightLen))), ...right];

  // Line 2: CPU and memory bars side by side.
  const line2: Span[] = [];
  const half = Math.floor((width - 2) / 2);
  if (s) {
    const cpuFrac = s.host.cpuPercent === null ? null : s.host.cpuPercent / (s.host.cpus * 100);
    const cpuText = s.host.cpuPercent === null ? '-' : `${s.host.cpuPercent.toFixed(1)}%`;
    const cpuLabel = ` ${cpuText.padStart(7)}`;
    const cpuBarWidth = Math.max(5, half - 6 - cpuLabel.length);
    line2.push(n('CPU ['), n(bar(cpuFrac, cpuBarWidth, glyphs.bar), usageLevel(cpuFrac)), n(']'), n(cpuLabel));
    line2.push(n(' '.repeat(Math.max(2, half + 2 - (6 + cpuBarWidth + cpuLabel.length)))));
    const total = s.host.memoryBytes;
    const usedBytes = s.host.memoryAvailableBytes === null ? null : total - s.host.memoryAvailableBytes;
    const memFrac = usedBytes === null || total <= 0 ? null : usedBytes / total;
    const memLabel = ` ${formatBytes(usedBytes)}/${formatBytes(total)}`;
    const memBarWidth = Math.max(5, width - half - 2 - 6 - memLabel.length);
    line2.push(n('MEM ['), n(bar(memFrac, memBarWidth, glyphs.bar), usageLevel(memFrac)), n(']'), n(memLabel));
  }

  // Line 3: host pressure and the view's state.
  const line3: Span[] = [];
  if (s) {
    const p = s.host.pressure;
    if (p) {
      line3.push(
        n('PSI some avg10'),
        n('  cpu '),
        n(psiText(p.cpu)),
        n('  mem '),
        n(psiText(p.memory)),
        n('  io '),
        n(psiText(p.io)),
      );
    } else line3.push(n('PSI not available', 'dim'));
  }
  // The same arrow as the sorted column's title (text sorts A-Z, an ascending arrow).
  const arrow = sortsDescending(state.sort, state.reverse) ? glyphs.descending : glyphs.ascending;
  line3.push(sep, n(`sort ${SORT_LABELS[state.sort]} ${state.reverse ? 'reversed ' + arrow : arrow}`));
  if (state.filter) line3.push(sep, n('filter '), n(safeText(state.filter, glyphs.unicode), 'accent'));
  line3.push(sep, n(state.tree ? 'tree view' : 'table view'));
  if (state.all) line3.push(sep, n('all cgroups'));

  return [fitSpans(line1, width), fitSpans(line2, width), fitSpans(line3, width)];
}
