// Confirmations ("apply these writes?", "send SIGKILL?") and messages (a
// result, the limiter's exact error). y/Enter confirms, n/Esc cancels; a
// message closes on Enter, Esc, Space or q. Long text scrolls.

import type blessed from 'blessed';
import { keyName, popupBox, type Overlay } from './overlay.js';
import type { KeyEvent } from './view/edit.js';

export interface DialogOptions {
  title: string;
  /** Tagged lines (callers escape text with view/text tagged()). */
  lines: string[];
  kind: 'confirm' | 'message';
  /** Called once with true (confirmed) or false. */
  onClose(confirmed: boolean): void;
}

export class Dialog implements Overlay {
  readonly name: string;
  closed = false;
  private readonly box: blessed.Widgets.BoxElement;

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly options: DialogOptions,
  ) {
    this.name = options.kind;
    const footer =
      options.kind === 'confirm' ? '{bold}y{/bold}/Enter: confirm   {bold}n{/bold}/Esc: cancel' : 'Enter/Esc: close';
    const lines = [...options.lines, '', `{cyan-fg}${footer}{/cyan-fg}`];
    const plainWidth = Math.max(40, ...lines.map((l) => l.replace(/\{[^}]*\}/g, '').length));
    this.box = popupBox(screen, options.title, plainWidth + 4, lines.length + 2);
    this.box.setContent(lines.join('\n'));
  }

  layout(): void {
    this.box.width = Math.min(this.box.width as number, (this.screen.width as number) - 2);
    this.box.height = Math.min(this.box.height as number, (this.screen.height as number) - 2);
  }

  key(ch: string | undefined, key: KeyEvent): void {
    const k = keyName(ch, key);
    if (k === 'up' || k === 'k') return void this.box.scroll(-1);
    if (k === 'down' || k === 'j') return void this.box.scroll(1);
    if (k === 'pageup') return void this.box.scroll(-((this.box.height as number) - 2));
    if (k === 'pagedown') return void this.box.scroll((this.box.height as number) - 2);
    if (this.options.kind === 'confirm') {
      if (k === 'y' || k === 'enter') this.close(true);
      else if (k === 'n' || k === 'escape' || k === 'q') this.close(false);
    } else if (k === 'enter' || k === 'escape' || k === 'space' || k === 'q') this.close(false);
  }

  private close(confirmed: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.destroy();
    this.options.onClose(confirmed);
  }

  destroy(): void {
    this.box.destroy();
  }
}
