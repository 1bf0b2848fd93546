// `l`: the limit form. Each field is a `tstop limit` flag with the value in
// force as a hint; Tab/Up/Down move, Space toggles a checkbox, Enter asks the
// limiter for the plan, Esc cancels. The app shows the plan for
// confirmation and then applies it through the limiter.

import type blessed from 'blessed';
import { keyName, popupBox, type Overlay } from './overlay.js';
import type { KeyEvent } from './view/edit.js';
import { formKey, type LimitForm } from './view/form.js';
import { escapeTags, safeText } from './view/text.js';

export interface LimitFormEvents {
  submit(form: LimitForm): void;
  cancel(): void;
}

export class LimitFormOverlay implements Overlay {
  readonly name = 'limit-form';
  closed = false;
  private readonly box: blessed.Widgets.BoxElement;
  /** A line under the fields (e.g. "nothing to change"). */
  private note = '';

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    readonly form: LimitForm,
    private readonly events: LimitFormEvents,
    private readonly unicode: boolean,
  ) {
    this.box = popupBox(screen, `Limits of ${safeText(form.containerName, unicode)}`, 96, form.fields.length + 8);
    this.draw();
  }

  setNote(note: string): void {
    this.note = note;
    this.draw();
  }

  private draw(): void {
    const inner = (this.box.width as number) - 2;
    const lines: string[] = [
      `{cyan-fg}${escapeTags(fitText(`cgroup ${safeText(this.form.containerId, this.unicode)}`, inner))}{/cyan-fg}`,
      '',
    ];
    this.form.fields.forEach((f, i) => {
      const focused = i === this.form.focus;
      const label = f.label.padEnd(14);
      if (f.kind === 'toggle') {
        const box = `[${f.on ? 'x' : ' '}] ${f.label} (${f.flag})`;
        lines.push(focused ? `{inverse}${escapeTags(box)}{/inverse}` : escapeTags(box));
        return;
      }
      const valueWidth = 22;
      const text = safeText(f.edit.text, this.unicode);
      let value: string;
      if (focused) {
        const start = Math.max(0, f.edit.cursor - valueWidth + 1);
        const shown = text.slice(start, start + valueWidth);
        const c = f.edit.cursor - start;
        value =
          escapeTags(shown.slice(0, c)) +
          `{inverse}${escapeTags(shown.slice(c, c + 1) || ' ')}{/inverse}` +
          escapeTags(shown.slice(c + 1).padEnd(Math.max(0, valueWidth - c - 1), '_'));
      } else value = escapeTags(text.slice(0, valueWidth).padEnd(valueWidth, '_'));
      const hint = ` now ${f.current}; e.g. ${f.example}`;
      lines.push(
        `${focused ? '{bold}' : ''}${escapeTags(label)}${focused ? '{/bold}' : ''} ${value}{cyan-fg}${escapeTags(fitText(hint, Math.max(0, inner - 38)))}{/cyan-fg}`,
      );
    });
    lines.push('');
    lines.push(this.note ? `{yellow-fg}${escapeTags(this.note)}{/yellow-fg}` : '');
    lines.push('{cyan-fg}Tab/Up/Down: field  Space: toggle  Enter: show the plan  Esc: cancel{/cyan-fg}');
    this.box.setContent(lines.join('\n'));
  }

  layout(): void {
    this.box.width = Math.min(96, (this.screen.width as number) - 2);
    this.draw();
  }

  key(ch: string | undefined, key: KeyEvent): void {
    const action = formKey(this.form, ch, { ...key, full: keyName(ch, key) });
    if (action === 'cancel') {
      this.closed = true;
      this.destroy();
      this.events.cancel();
      return;
    }
    if (action === 'submit') {
      this.events.submit(this.form);
      return;
    }
    this.note = '';
    this.draw();
  }

  /** Closes the form (after the plan was shown). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.destroy();
  }

  destroy(): void {
    this.box.destroy();
  }
}

function fitText(s: string, width: number): string {
  return s.length <= width ? s : s.slice(0, Math.max(0, width - 1)) + '~';
}
