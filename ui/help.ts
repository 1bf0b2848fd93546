// `?` / F1: every key on one screen (from view/keys.ts), then the columns
// and colour thresholds; Up/Down scroll, any other key closes.

import type blessed from 'blessed';
import { keyName, popupBox, type Overlay } from './overlay.js';
import type { KeyEvent } from './view/edit.js';
import { helpLines } from './view/keys.js';
import { escapeTags } from './view/text.js';

export class HelpOverlay implements Overlay {
  readonly name = 'help';
  closed = false;
  private readonly box: blessed.Widgets.BoxElement;

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly onClose: () => void,
    private readonly mode: 'live' | 'replay' = 'live',
  ) {
    const lines = helpLines(mode);
    this.box = popupBox(screen, 'tstop help: Up/Down scroll, any other key closes', 80, lines.length + 2);
    this.box.setContent(
      lines.map((l) => (/^[A-Z]/.test(l) ? `{bold}${escapeTags(l)}{/bold}` : escapeTags(l))).join('\n'),
    );
    this.layout();
  }

  layout(): void {
    this.box.width = Math.min(80, this.screen.width as number);
    this.box.height = Math.min(helpLines(this.mode).length + 2, this.screen.height as number);
  }

  key(ch: string | undefined, key: KeyEvent): void {
    const k = keyName(ch, key);
    if (k === 'up' || k === 'k') return void this.box.scroll(-1);
    if (k === 'down' || k === 'j') return void this.box.scroll(1);
    if (k === 'pageup') return void this.box.scroll(-((this.box.height as number) - 2));
    if (k === 'pagedown') return void this.box.scroll((this.box.height as number) - 2);
    this.closed = true;
    this.destroy();
    this.onClose();
  }

  destroy(): void {
    this.box.destroy();
  }
}
