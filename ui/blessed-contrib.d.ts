// Minimal types for the parts of blessed-contrib tstop uses (the package
// ships none): the line chart and the gauge, loaded one module each so the
// dashboard does not load the map, markdown and picture widgets.

declare module 'blessed-contrib/lib/widget/charts/line.js' {
  import type { Widgets } from 'blessed';

  export interface LineSeries {
    title: string;
    x: string[];
    y: number[];
    style?: { line?: string };
  }

  export interface LineOptions extends Omit<Widgets.BoxOptions, 'style'> {
    showLegend?: boolean;
    legend?: { width?: number };
    minY?: number;
    maxY?: number;
    numYLabels?: number;
    wholeNumbersOnly?: boolean;
    abbreviate?: boolean;
    xLabelPadding?: number;
    xPadding?: number;
    showNthLabel?: number;
    style?: { line?: string; text?: string; baseline?: string; border?: { fg?: string } };
  }

  export interface LineChart extends Widgets.BoxElement {
    options: LineOptions;
    setData(data: LineSeries[]): void;
  }

  const line: (options: LineOptions) => LineChart;
  export default line;
}

declare module 'blessed-contrib/lib/widget/gauge.js' {
  import type { Widgets } from 'blessed';

  export interface GaugeOptions extends Omit<Widgets.BoxOptions, 'style'> {
    percent?: number;
    stroke?: string;
    fill?: string;
    showLabel?: boolean;
    style?: { border?: { fg?: string } };
  }

  export interface Gauge extends Widgets.BoxElement {
    setPercent(percent: number): void;
    setData(percent: number): void;
  }

  const gauge: (options: GaugeOptions) => Gauge;
  export default gauge;
}
