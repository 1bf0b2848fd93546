// Opens the dashboard on a headless terminal of a fixed size with a fake
// limiter and fixed process list, for rendering tests.

import { Dashboard, type DashboardOptions } from '../../ui/app.js';
import type { ProcessSample } from '../../collectors/proc-detail.js';
import type { ViewState } from '../../ui/view/view-state.js';
import { FakeLimiter } from '../helpers/fake-limiter.js';
import { headlessTerminal, screenLines, screenText, type HeadlessTerminal } from '../helpers/screen.js';

export const KEYS = {
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  pageup: '\x1b[5~',
  pagedown: '\x1b[6~',
  home: '\x1b[1~',
  end: '\x1b[4~',
  enter: '\r',
  escape: '\x1b',
  tab: '\t',
  backspace: '\x7f',
  f1: '\x1bOP',
  f9: '\x1b[20~',
  ctrlC: '\x03',
} as const;

export const PROCESSES: ProcessSample = {
  total: 2,
  processes: [
    {
      pid: 100,
      user: 'root',
      state: 'S',
      cpuPercent: 1.5,
      rssBytes: 10 * 1024 * 1024,
      threads: 1,
      command: 'nginx: master process',
    },
    {
      pid: 101,
      user: 'www-data',
      state: 'R',
      cpuPercent: 98.5,
      rssBytes: 50 * 1024 * 1024,
      threads: 4,
      command: 'nginx: worker process',
    },
  ],
};

export interface Harness {
  app: Dashboard;
  term: HeadlessTerminal;
  limiter: FakeLimiter;
  /** Screen rows, trailing spaces removed. */
  lines(): string[];
  text(): string;
  /** Sends raw terminal input (key sequences or text) and lets blessed parse it. */
  press(...inputs: string[]): Promise<void>;
  close(): void;
}

export function openDashboard(
  columns: number,
  rows: number,
  options: Partial<DashboardOptions> & { state?: Partial<ViewState> } = {},
): Harness {
  const term = headlessTerminal(columns, rows);
  const limiter = new FakeLimiter();
  const app = new Dashboard({
    limiter,
    isRoot: true,
    processes: () => PROCESSES,
    input: term.input,
    output: term.output,
    terminal: 'xterm-256color',
    unicode: true,
    now: () => new Date(2026, 0, 2, 3, 4, 5),
    ...options,
  });
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  return {
    app,
    term,
    limiter,
    lines: () => screenLines(app.screen).map((l) => l.replace(/\s+$/, '')),
    text: () => screenText(app.screen),
    async press(...inputs: string[]) {
      for (const i of inputs) {
        term.input.write(i);
        await tick();
        await tick();
      }
    },
    close: () => app.quit(),
  };
}

/** Waits for promises (the fake limiter's) and the redraws they cause. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
