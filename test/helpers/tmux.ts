// tstop in a real terminal for tests: tmux runs a command in a detached pane
// of a fixed size on its own socket; send-keys types, capture-pane reads.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from './cgroups.js';

export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export class TmuxPane {
  readonly socket = `tstop-e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(command: string, width = 160, height = 48) {
    this.tmux('new-session', '-d', '-s', 'main', '-x', String(width), '-y', String(height), command);
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  lines(): string[] {
    return this.tmux('capture-pane', '-p', '-t', 'main').split('\n');
  }

  text(): string {
    return this.lines().join('\n');
  }

  /** Keys by tmux name (Enter, Escape, Down, C-c) or literal text with `literal`. */
  send(keys: string, literal = false): void {
    this.tmux('send-keys', '-t', 'main', ...(literal ? ['-l', keys] : [keys]));
  }

  /** Whether the application is on the alternate screen, and whether the cursor is shown. */
  state(): { alternate: boolean; cursorVisible: boolean } {
    const [alt, cursor] = this.tmux('display-message', '-p', '-t', 'main', '#{alternate_on} #{cursor_flag}')
      .trim()
      .split(' ');
    return { alternate: alt === '1', cursorVisible: cursor === '1' };
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
    // tmux leaves the socket file behind.
    fs.rmSync(path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, this.socket), {
      force: true,
    });
  }
}

export async function waitForScreen(
  pane: TmuxPane,
  what: string,
  test: (lines: string[]) => boolean,
  timeoutMs = 30_000,
): Promise<string[]> {
  try {
    return await waitFor(
      what,
      () => {
        const lines = pane.lines();
        return test(lines) ? lines : null;
      },
      timeoutMs,
      200,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; the screen was:\n${pane.text()}`);
  }
}
