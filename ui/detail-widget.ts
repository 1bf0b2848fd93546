// The detail view (`Enter`): line charts of CPU, memory (with the limit),
// io and network since tstop started (blessed-contrib line charts; plain
// text charts on terminals without braille glyphs), a memory gauge against
// the limit, and the container's sections (view/detail.ts) in a scrollable
// box under them. On terminals under 44 rows two charts show at a time and
// Tab switches the pair.

import blessed from 'blessed';
import contribGauge, { type Gauge } from 'blessed-contrib/lib/widget/gauge.js';
import contribLine, { type LineChart } from 'blessed-contrib/lib/widget/charts/line.js';
import type { ProcessSample } from '../collectors/proc-detail.js';
import type { ContainerSnapshot } from '../src/model/types.js';
import { formatBytes } from '../src/util/format.js';
import { asciiChart, chartData, type ChartData, type ChartKind } from './view/chart.js';
import { detailLines, type LimitChangeNote } from './view/detail.js';
import type { ContainerHistory } from './view/history.js';
import { bar, spansToTags, tagged, type Glyphs } from './view/text.js';
import { memPercent, rowValues } from './view/values.js';

const KINDS: ChartKind[] = ['cpu', 'memory', 'io', 'network'];

export interface DetailData {
  container: ContainerSnapshot;
  history: ContainerHistory | undefined;
  secondsSinceOom: number | null;
  processes: ProcessSample | null;
  hostMemoryBytes: number;
  /** Wall clock and monotonic seconds of the last snapshot (chart time labels). */
  wallNow: number;
  monoNow: number;
  /** Replay: the cgroup's limit changes from the audit log. */
  limitChanges?: LimitChangeNote[];
}

interface ChartSlot {
  kind: ChartKind;
  widget: LineChart | blessed.Widgets.BoxElement;
  contrib: boolean;
}

export interface DetailLayout {
  /** Charts per row and rows of charts. */
  columns: number;
  rows: number;
  chartHeight: number;
  gaugeHeight: number;
  infoTop: number;
}

/** Where things go in a detail area of width x height cells. */
export function detailLayout(width: number, height: number): DetailLayout {
  // Four charts only when each still gets 10 rows; otherwise two at a time, taller.
  const grid = height >= 40;
  const rows = grid ? 2 : 1;
  const chartHeight = grid
    ? Math.max(10, Math.min(12, Math.floor(height * 0.25)))
    : Math.max(7, Math.min(10, Math.floor(height * 0.4)));
  // blessed-contrib's gauge draws its bar on the 4th row: 5 rows with the border; a text bar needs 3.
  const gaugeHeight = grid ? 5 : 3;
  return { columns: 2, rows, chartHeight, gaugeHeight, infoTop: rows * chartHeight + gaugeHeight };
}

export class DetailWidget {
  readonly box: blessed.Widgets.BoxElement;
  private charts: ChartSlot[] = [];
  private gauge: Gauge | null = null;
  private gaugeText: blessed.Widgets.BoxElement | null = null;
  private readonly info: blessed.Widgets.BoxElement;
  private pair = 0;
  private builtFor = '';
  private lastData: DetailData | null = null;

  constructor(
    parent: blessed.Widgets.Node,
    private readonly glyphs: Glyphs,
  ) {
    this.box = blessed.box({ parent, top: 3, left: 0, width: '100%', bottom: 1, hidden: true });
    this.info = blessed.box({
      parent: this.box,
      left: 0,
      width: '100%',
      top: 0,
      bottom: 0,
      tags: true,
      wrap: false,
      scrollable: true,
      alwaysScroll: true,
      clickable: true,
    } as blessed.Widgets.BoxOptions);
    this.info.on('wheelup', () => {
      this.info.scroll(-3);
      this.screen.render();
    });
    this.info.on('wheeldown', () => {
      this.info.scroll(3);
      this.screen.render();
    });
  }

  private get screen(): blessed.Widgets.Screen {
    return this.box.screen;
  }

  get width(): number {
    return this.box.width as number;
  }

  get height(): number {
    return this.box.height as number;
  }

  /** Starts showing a container (scroll at the top, first chart pair). */
  open(): void {
    this.pair = 0;
    this.info.scrollTo(0);
    this.builtFor = '';
    this.box.show();
  }

  close(): void {
    this.box.hide();
    this.lastData = null;
  }

  /** Tab on small terminals: the other pair of charts. */
  nextCharts(): void {
    const layout = detailLayout(this.width, this.height);
    if (layout.rows * layout.columns >= KINDS.length) return;
    this.pair = (this.pair + 1) % Math.ceil(KINDS.length / (layout.rows * layout.columns));
    this.builtFor = '';
    if (this.lastData) this.update(this.lastData);
  }

  scroll(lines: number): void {
    this.info.scroll(lines);
  }

  scrollTo(where: 'top' | 'bottom'): void {
    if (where === 'top') this.info.scrollTo(0);
    else this.info.setScrollPerc(100);
  }

  get pageHeight(): number {
    return Math.max(1, (this.info.height as number) - 1);
  }

  /** (Re)creates charts and gauge for the current size; blessed-contrib sizes its canvas when attached. */
  private build(): void {
    for (const c of this.charts) c.widget.destroy();
    this.gauge?.destroy();
    this.gaugeText?.destroy();
    this.charts = [];
    const layout = detailLayout(this.width, this.height);
    const perPage = layout.rows * layout.columns;
    const kinds = KINDS.slice(this.pair * perPage, this.pair * perPage + perPage);
    const w = Math.floor(this.width / layout.columns);
    kinds.forEach((kind, i) => {
      const col = i % layout.columns;
      const row = Math.floor(i / layout.columns);
      const geometry = {
        top: row * layout.chartHeight,
        left: col * w,
        width: col === layout.columns - 1 ? this.width - col * w : w,
        height: layout.chartHeight,
        border: { type: 'line' as const },
      };
      if (this.glyphs.unicode) {
        // blessed-contrib creates its canvas on 'attach': append after construction.
        const widget = contribLine({
          ...geometry,
          label: kind,
          // The legend box covers the lines on short charts: then the label names the series.
          showLegend: kind !== 'cpu' && layout.chartHeight >= 10,
          legend: { width: 14 },
          xLabelPadding: 3,
          xPadding: 5,
          numYLabels: 4,
          style: { line: 'green', text: 'white', baseline: 'white', border: { fg: 'cyan' } },
        });
        this.box.append(widget);
        this.charts.push({ kind, widget, contrib: true });
      } else {
        const widget = blessed.box({
          parent: this.box,
          ...geometry,
          label: kind,
          tags: true,
          wrap: false,
          style: { border: { fg: 'cyan' } },
        });
        this.charts.push({ kind, widget, contrib: false });
      }
    });
    const gaugeTop = layout.rows * layout.chartHeight;
    if (this.glyphs.unicode && layout.gaugeHeight >= 5) {
      this.gauge = contribGauge({
        top: gaugeTop,
        left: 0,
        width: '100%',
        height: layout.gaugeHeight,
        label: 'memory',
        stroke: 'green',
        fill: 'white',
        showLabel: false,
        border: { type: 'line' },
        style: { border: { fg: 'cyan' } },
      });
      this.box.append(this.gauge);
      this.gaugeText = null;
    } else {
      this.gauge = null;
      this.gaugeText = blessed.box({
        parent: this.box,
        top: gaugeTop,
        left: 0,
        width: '100%',
        height: layout.gaugeHeight,
        border: { type: 'line' },
        tags: true,
        label: 'memory',
        style: { border: { fg: 'cyan' } },
      });
    }
    this.info.top = layout.infoTop;
    this.builtFor = `${this.width}x${this.height}/${this.pair}`;
  }

  update(d: DetailData): void {
    this.lastData = d;
    if (this.builtFor !== `${this.width}x${this.height}/${this.pair}`) this.build();
    for (const slot of this.charts) this.drawChart(slot, chartData(slot.kind, d.history, d.wallNow, d.monoNow));
    this.drawGauge(d);
    const lines = detailLines(
      {
        container: d.container,
        glyphs: this.glyphs,
        secondsSinceOom: d.secondsSinceOom,
        processes: d.processes,
        nowSeconds: d.wallNow,
        limitChanges: d.limitChanges,
      },
      Math.max(20, this.width - 1),
    );
    this.info.setContent(lines.map(spansToTags).join('\n'));
  }

  private drawChart(slot: ChartSlot, data: ChartData): void {
    const legend = slot.contrib && !(slot.widget as LineChart).options.showLegend && data.lines.length > 1;
    const names = legend ? `: ${data.lines.map((l) => `${l.title} ${l.color}`).join(', ')}` : '';
    slot.widget.setLabel(` ${data.label}${names} `);
    if (data.x.length === 0) {
      slot.widget.setContent('collecting...');
      return;
    }
    if (slot.contrib) {
      const chart = slot.widget as LineChart;
      chart.options.maxY = data.maxY;
      chart.setData(data.lines.map((l) => ({ title: l.title, x: data.x, y: l.y, style: { line: l.color } })));
    } else {
      const w = (slot.widget.width as number) - 2;
      const h = (slot.widget.height as number) - 2;
      slot.widget.setContent(asciiChart(data, w, h).map(spansToTags).join('\n'));
    }
  }

  private drawGauge(d: DetailData): void {
    const v = rowValues(d.container);
    const pct = memPercent(v);
    const against = pct === null ? (v.memBytes === null ? null : (v.memBytes / d.hostMemoryBytes) * 100) : pct;
    const label =
      pct === null
        ? ` memory ${formatBytes(v.memBytes)}: no limit (${against === null ? '-' : against.toFixed(1)}% of host memory) `
        : ` memory ${formatBytes(v.memBytes)} of ${formatBytes(v.memLimitBytes)} limit (${pct.toFixed(1)}%) `;
    const color = against !== null && against >= 90 ? 'red' : against !== null && against >= 75 ? 'yellow' : 'green';
    if (this.gauge) {
      this.gauge.setLabel(label);
      (this.gauge as unknown as { options: { stroke: string } }).options.stroke = color;
      // blessed-contrib reads values below 1.001 as fractions (0.5 → 50 %): keep small values honest.
      const value = Math.max(0, Math.min(100, against ?? 0));
      this.gauge.setPercent(value < 1.01 ? (value >= 0.5 ? 1.01 : 0) : value);
    } else if (this.gaugeText) {
      this.gaugeText.setLabel(label);
      const w = Math.max(1, (this.gaugeText.width as number) - 4);
      const level = color === 'red' ? 'crit' : color === 'yellow' ? 'warn' : 'good';
      this.gaugeText.setContent(`[${tagged(bar(against === null ? 0 : against / 100, w, this.glyphs.bar), level)}]`);
    }
  }
}
