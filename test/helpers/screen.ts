// A headless terminal for rendering tests and the benchmark: fake input and
// output streams of a fixed size for a blessed screen, and the screen's
// text read back from its cell buffer.

import { PassThrough, Writable } from 'node:stream';

export interface HeadlessTerminal {
  input: PassThrough & { isTTY: boolean; setRawMode(mode: boolean): void; isRaw: boolean };
  output: Writable & { isTTY: boolean; columns: number; rows: number };
  /** Everything written to the terminal. */
  written(): string;
  /** Changes the size and tells blessed (like SIGWINCH). */
  resize(columns: number, rows: number): void;
}

export function headlessTerminal(columns: number, rows: number): HeadlessTerminal {
  let out = '';
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    isRaw: false,
    setRawMode(mode: boolean) {
      input.isRaw = mode;
    },
  });
  const output = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    }),
    { isTTY: true, columns, rows },
  );
  return {
    input,
    output,
    written: () => out,
    resize(c: number, r: number) {
      output.columns = c;
      output.rows = r;
      output.emit('resize');
    },
  };
}

type Cell = [number, string];

interface WithLines {
  lines: Cell[][];
}

/** The screen's text, one string per row (trailing spaces kept: every row is as wide as the screen). */
export function screenLines(screen: unknown): string[] {
  return (screen as WithLines).lines.map((row) => row.map((c) => c[1]).join(''));
}

/** The screen's text with trailing spaces removed, joined by newlines. */
export function screenText(screen: unknown): string {
  return screenLines(screen)
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n');
}

/** blessed's attribute of a cell: flags << 18 | fg << 9 | bg. */
export function cellAttr(screen: unknown, x: number, y: number): { fg: number; bg: number; flags: number } {
  const a = (screen as WithLines).lines[y][x][0];
  return { flags: a >> 18, fg: (a >> 9) & 0x1ff, bg: a & 0x1ff };
}

/** Blessed's colour numbers for the basic colours. */
export const COLORS = {
  black: 0,
  red: 1,
  green: 2,
  yellow: 3,
  blue: 4,
  magenta: 5,
  cyan: 6,
  white: 7,
  default: 0x1ff,
} as const;

/** Flag bits in a cell attribute. */
export const FLAGS = { bold: 1, underline: 2, blink: 4, inverse: 8, invisible: 16 } as const;
