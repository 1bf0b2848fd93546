// Below 80x24 the layout would break: say so plainly instead.

import blessed from 'blessed';

export const MIN_WIDTH = 80;
export const MIN_HEIGHT = 24;

export function tooSmall(width: number, height: number): boolean {
  return width < MIN_WIDTH || height < MIN_HEIGHT;
}

export class TooSmallWidget {
  readonly box: blessed.Widgets.BoxElement;

  constructor(parent: blessed.Widgets.Screen) {
    this.box = blessed.box({ parent, top: 0, left: 0, width: '100%', height: '100%', tags: false, hidden: true });
  }

  show(width: number, height: number): void {
    const lines = [
      'terminal too small',
      `${width}x${height}: tstop needs at least ${MIN_WIDTH}x${MIN_HEIGHT}`,
      'enlarge the window, or press q to quit',
    ];
    const top = Math.max(0, Math.floor((height - lines.length) / 2));
    const out: string[] = new Array<string>(top).fill('');
    for (const l of lines) out.push(' '.repeat(Math.max(0, Math.floor((width - l.length) / 2))) + l);
    this.box.setContent(out.join('\n'));
    this.box.show();
    this.box.setFront();
  }

  hide(): void {
    this.box.hide();
  }
}
