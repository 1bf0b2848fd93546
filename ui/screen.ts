// The blessed screen: on the process's terminal, or on any pair of streams
// (tests and the benchmark draw into a headless screen of a fixed size).

import blessed from 'blessed';
import type { Readable, Writable } from 'node:stream';

export interface ScreenOptions {
  input?: Readable;
  output?: Writable;
  /** terminfo name; defaults to $TERM (xterm-256color, linux, screen, tmux-256color ...). */
  terminal?: string;
}

export type Screen = blessed.Widgets.Screen;

/** Colours the table uses, as blessed tag names; TERM=linux has 8 colours, all of these among them. */
export function createScreen(options: ScreenOptions = {}): Screen {
  // blessed prints terminfo entries it cannot compile (e.g. Setulc in newer
  // xterm-256color entries) with console.error, then falls back to its own
  // copy. Keep that noise off the user's terminal.
  const consoleError = console.error;
  console.error = () => undefined;
  try {
    const screen = blessed.screen({
      input: options.input,
      output: options.output,
      terminal: options.terminal ?? process.env.TERM ?? 'xterm',
      smartCSR: true,
      fullUnicode: false,
      autoPadding: false,
      warnings: false,
      title: 'tstop',
      ignoreLocked: ['C-c'],
      resizeTimeout: 30,
    } as blessed.Widgets.IScreenOptions);
    return screen;
  } finally {
    console.error = consoleError;
  }
}
