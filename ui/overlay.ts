// What every popup (help, menus, the limit form, confirmations) offers the
// app: it takes the keys while open and removes itself when done.

import blessed from 'blessed';
import type { KeyEvent } from './view/edit.js';

export interface Overlay {
  readonly name: string;
  /** Handles a key; the overlay may close itself. */
  key(ch: string | undefined, key: KeyEvent): void;
  readonly closed: boolean;
  /** Re-lays out after a resize. */
  layout(): void;
  destroy(): void;
}

/** A centered, bordered box sized to its content within the screen. */
export function popupBox(
  screen: blessed.Widgets.Screen,
  title: string,
  width: number,
  height: number,
): blessed.Widgets.BoxElement {
  return blessed.box({
    parent: screen,
    top: 'center',
    left: 'center',
    width: Math.min(width, (screen.width as number) - 2),
    height: Math.min(height, (screen.height as number) - 2),
    label: ` ${title} `,
    border: { type: 'line' },
    tags: true,
    wrap: false,
    scrollable: true,
    alwaysScroll: true,
    style: { border: { fg: 'cyan' }, label: { fg: 'cyan', bold: true } },
  } as blessed.Widgets.BoxOptions);
}

export function keyName(ch: string | undefined, key: KeyEvent): string {
  return key.full ?? key.name ?? ch ?? '';
}
