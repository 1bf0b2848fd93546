// The bottom line: the filter being typed, a message (a result, an error,
// "needs root"), or the most used keys.

import blessed from 'blessed';
import type { LineEdit } from './view/edit.js';
import { escapeTags, fit, safeText, tagged, type Level } from './view/text.js';

const HINTS_TABLE = '?:help /:filter s:sort t:tree Enter:detail l:limit f:freeze K:signal q:quit';
const HINTS_DETAIL = 'Esc:back Up/Down:scroll Tab:charts l:limit f:freeze K:signal q:quit';
const HINTS_REPLAY_TABLE = '?:help ,/.:sample </>:minute [/]:hour @:time /:filter t:tree Enter:detail q:quit';
const HINTS_REPLAY_DETAIL = 'Esc:back ,/.:sample </>:minute [/]:hour @:time Tab:charts q:quit';

export class StatusWidget {
  readonly box: blessed.Widgets.BoxElement;
  private message: { text: string; level: Level; until: number } | null = null;

  constructor(parent: blessed.Widgets.Node) {
    this.box = blessed.box({ parent, bottom: 0, left: 0, width: '100%', height: 1, tags: true, wrap: false });
  }

  /** Shows a message for some seconds (errors stay longer). */
  show(text: string, level: Level = 'normal', seconds = level === 'crit' ? 15 : 6): void {
    this.message = { text, level, until: Date.now() + seconds * 1000 };
  }

  clear(): void {
    this.message = null;
  }

  /** `prompt` names what is being typed (the filter, a replay time); `replay` picks the replay's hints. */
  render(
    mode: 'table' | 'detail',
    filterEdit: LineEdit | null,
    unicode: boolean,
    options: { prompt?: string; replay?: boolean } = {},
  ): void {
    const width = this.box.width as number;
    if (filterEdit) {
      const t = safeText(filterEdit.text, unicode);
      // The cursor is drawn as an inverse cell.
      const before = t.slice(0, filterEdit.cursor);
      const at = t.slice(filterEdit.cursor, filterEdit.cursor + 1) || ' ';
      const after = t.slice(filterEdit.cursor + 1);
      this.box.setContent(
        `{magenta-fg}${escapeTags(options.prompt ?? 'filter')}:{/magenta-fg} ${escapeTags(before)}{inverse}${escapeTags(at)}{/inverse}${escapeTags(after)}` +
          `   {cyan-fg}${options.prompt ? 'Enter: go  Esc: cancel' : 'Enter: keep  Esc: clear'}{/cyan-fg}`,
      );
      return;
    }
    if (this.message && Date.now() < this.message.until) {
      this.box.setContent(tagged(fit(this.message.text, width), this.message.level));
      return;
    }
    this.message = null;
    const hints = options.replay
      ? mode === 'table'
        ? HINTS_REPLAY_TABLE
        : HINTS_REPLAY_DETAIL
      : mode === 'table'
        ? HINTS_TABLE
        : HINTS_DETAIL;
    this.box.setContent(tagged(fit(hints, width), 'dim'));
  }
}
