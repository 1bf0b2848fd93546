// The main table: a title line and the rows in view. Only the rows inside
// the window are formatted and drawn, so 1,000 cgroups cost the same frame
// as 40. Mouse: a click selects a row or sorts by a title, the wheel scrolls.

import blessed from 'blessed';
import { columnAt, fitColumns, type FittedColumn } from './view/columns.js';
import { headerSpans, rowSpans, type Row, type RowContext } from './view/rows.js';
import type { ViewState } from './view/view-state.js';
import { spansToTags, tagged } from './view/text.js';

export interface TableEvents {
  /** A row was clicked (index into the rows). */
  select(index: number): void;
  /** A column title was clicked. */
  sortColumn(column: FittedColumn): void;
  /** The wheel turned (rows; negative = up). */
  scroll(delta: number): void;
}

export class TableWidget {
  readonly box: blessed.Widgets.BoxElement;
  private columns: FittedColumn[] = [];
  private columnsWidth = -1;
  private columnsInstance = false;
  private columnsImage = false;

  constructor(parent: blessed.Widgets.Node, events: TableEvents) {
    this.box = blessed.box({
      parent,
      top: 3,
      left: 0,
      width: '100%',
      bottom: 1,
      tags: true,
      wrap: false,
      clickable: true,
    } as blessed.Widgets.BoxOptions);
    this.box.on('click', (data: blessed.Widgets.Events.IMouseEventArg) => {
      const y = data.y - (this.box.atop as number);
      const x = data.x - (this.box.aleft as number);
      if (y === 0) {
        const col = columnAt(this.columns, x);
        if (col) events.sortColumn(col);
      } else if (y > 0) events.select(this.firstRow + y - 1);
    });
    this.box.on('wheelup', () => events.scroll(-3));
    this.box.on('wheeldown', () => events.scroll(3));
  }

  private firstRow = 0;

  /** Rows that fit under the title line. */
  get pageHeight(): number {
    return Math.max(1, (this.box.height as number) - 1);
  }

  get width(): number {
    return this.box.width as number;
  }

  /** The columns at the current width (refitted when the width changes). */
  fitted(instance = this.columnsInstance, image = this.columnsImage): FittedColumn[] {
    if (this.columnsWidth !== this.width || this.columnsInstance !== instance || this.columnsImage !== image) {
      this.columns = fitColumns(this.width, { instance, image });
      this.columnsWidth = this.width;
      this.columnsInstance = instance;
      this.columnsImage = image;
    }
    return this.columns;
  }

  render(rows: Row[], state: ViewState, ctx: RowContext, emptyText: string): void {
    const columns = this.fitted(
      ctx.instances === true,
      rows.some((r) => r.image !== ''),
    );
    const lines: string[] = [spansToTags(headerSpans(columns, state.sort, state.reverse, ctx.glyphs))];
    lines[0] = `{bold}${lines[0]}{/bold}`;
    this.firstRow = state.top;
    const end = Math.min(rows.length, state.top + this.pageHeight);
    for (let i = state.top; i < end; i++) {
      const line = spansToTags(rowSpans(rows[i], columns, ctx));
      lines.push(i === state.selectedIndex ? `{inverse}${line}{/inverse}` : line);
    }
    if (rows.length === 0) lines.push(tagged(emptyText, 'dim'));
    this.box.setContent(lines.join('\n'));
  }
}
