// A popup list to choose one item from (the sort chooser, the signal menu):
// Up/Down or j/k move, Enter chooses, Esc cancels.

import type blessed from 'blessed';
import { keyName, popupBox, type Overlay } from './overlay.js';
import type { KeyEvent } from './view/edit.js';
import { escapeTags } from './view/text.js';

export interface MenuItem<T> {
  value: T;
  label: string;
}

export interface MenuOptions<T> {
  name: string;
  title: string;
  items: MenuItem<T>[];
  selected?: number;
  /** Tagged line shown above the items. */
  intro?: string;
  onChoose(value: T): void;
  onCancel?(): void;
}

export class Menu<T> implements Overlay {
  readonly name: string;
  closed = false;
  private index: number;
  private readonly box: blessed.Widgets.BoxElement;

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly options: MenuOptions<T>,
  ) {
    this.name = options.name;
    this.index = Math.max(0, Math.min(options.items.length - 1, options.selected ?? 0));
    const width = Math.max(
      options.title.length + 6,
      (options.intro?.length ?? 0) + 4,
      ...options.items.map((i) => i.label.length + 6),
    );
    this.box = popupBox(screen, options.title, width, options.items.length + 2 + (options.intro ? 2 : 0));
    this.draw();
  }

  get selectedIndex(): number {
    return this.index;
  }

  private draw(): void {
    const lines: string[] = [];
    if (this.options.intro) lines.push(this.options.intro, '');
    this.options.items.forEach((item, i) => {
      const text = ` ${escapeTags(item.label)} `;
      lines.push(i === this.index ? `{inverse}${text}{/inverse}` : text);
    });
    this.box.setContent(lines.join('\n'));
  }

  layout(): void {
    this.box.width = Math.min(this.box.width as number, (this.screen.width as number) - 2);
  }

  key(ch: string | undefined, key: KeyEvent): void {
    const k = keyName(ch, key);
    const n = this.options.items.length;
    if (k === 'up' || k === 'k') this.index = (this.index + n - 1) % n;
    else if (k === 'down' || k === 'j') this.index = (this.index + 1) % n;
    else if (k === 'home') this.index = 0;
    else if (k === 'end') this.index = n - 1;
    else if (k === 'enter') return this.finish(this.options.items[this.index].value);
    else if (k === 'escape' || k === 'q') {
      this.closed = true;
      this.destroy();
      this.options.onCancel?.();
      return;
    }
    this.draw();
  }

  private finish(value: T): void {
    this.closed = true;
    this.destroy();
    this.options.onChoose(value);
  }

  destroy(): void {
    this.box.destroy();
  }
}
