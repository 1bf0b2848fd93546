// The replay's keys (tstop --at): one sample, a minute or an hour back and
// forth, and a typed time after @. The dashboard shows the frame; this keeps
// the moves, the typed time and the messages when a move cannot be made.

import type { ReplayTimeline } from '../src/record/replay.js';
import { parseTimeSpec, TimeSpecError } from '../src/util/time.js';
import type { ReplayView } from './replay.js';
import { editKey, lineEdit, type KeyEvent, type LineEdit } from './view/edit.js';

export interface ReplayHost {
  showStatus(text: string, level: 'warn' | 'crit'): void;
  /** Draws the replay's current sample. */
  showFrame(): void;
  render(): void;
}

const NOT_REPLAYING = 'that key moves through a recording: start tstop --at TIME (see tstop record)';

export class ReplayControls {
  /** The time being typed after @, while it is. */
  timeEdit: LineEdit | null = null;

  constructor(
    private readonly view: ReplayView | null,
    private readonly host: ReplayHost,
  ) {}

  step(direction: 1 | -1): void {
    this.move((t) => t.step(direction));
  }

  shift(deltaMs: number): void {
    this.move((t) => t.shift(deltaMs));
  }

  jump(): void {
    if (this.view) this.timeEdit = lineEdit('');
    else this.move(() => null);
  }

  /** A key while a time is typed: Enter seeks, Escape gives up. */
  timeKey(ch: string | undefined, key: KeyEvent, name: string): void {
    const edit = this.timeEdit!;
    if (name === 'enter' || name === 'escape') this.timeEdit = null;
    if (name === 'enter') {
      try {
        const at = parseTimeSpec(edit.text);
        this.move((t) => t.seek(at));
      } catch (err) {
        if (!(err instanceof TimeSpecError)) throw err;
        this.host.showStatus(err.message, 'crit');
      }
    } else if (name !== 'escape') editKey(edit, ch, key);
    this.host.render();
  }

  /** Moves the replay (a message when it cannot: the start or end of the store); outside replay says how. */
  private move(move: (t: ReplayTimeline) => string | null): void {
    if (!this.view) return this.host.showStatus(NOT_REPLAYING, 'warn');
    const message = move(this.view.timeline);
    if (message) this.host.showStatus(message, 'warn');
    else this.host.showFrame();
  }
}
