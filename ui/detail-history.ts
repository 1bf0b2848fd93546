// The detail view's chart history from elsewhere (the fleet view's range
// queries): asked when the view opens and again at most every everyMs while
// it stays open; until it answers, the charts show what the dashboard saw.

import type { ContainerSnapshot, Snapshot } from '../src/model/types.js';
import type { ContainerHistory } from './view/history.js';

export type DetailHistoryProvider = (
  container: ContainerSnapshot,
  snapshot: Snapshot,
) => Promise<ContainerHistory | undefined>;

interface Fetched {
  id: string;
  history?: ContainerHistory;
  askedAt: number;
  pending: boolean;
}

export class DetailHistoryFetcher {
  private fetched: Fetched | null = null;

  /** onAnswer: the open view should redraw (err: the provider failed, to be shown). */
  constructor(
    private readonly ask: DetailHistoryProvider | undefined,
    private readonly everyMs: number,
    private readonly onAnswer: (err: Error | null) => void,
  ) {}

  /** The fetched history of that cgroup, if any. */
  history(id: string): ContainerHistory | undefined {
    return this.fetched?.id === id ? this.fetched.history : undefined;
  }

  /** Forgets what was fetched (the view closed or moved to another cgroup). */
  reset(): void {
    this.fetched = null;
  }

  /** Asks for c's history unless a request is pending or the last answer is recent. */
  fetch(c: ContainerSnapshot, snapshot: Snapshot): void {
    if (!this.ask) return;
    const now = performance.now();
    const f = this.fetched;
    if (f?.id === c.id && (f.pending || now - f.askedAt < this.everyMs)) return;
    const entry: Fetched = { id: c.id, history: f?.id === c.id ? f.history : undefined, askedAt: now, pending: true };
    this.fetched = entry;
    this.ask(c, snapshot).then(
      (history) => {
        entry.pending = false;
        entry.history = history ?? entry.history;
        if (this.fetched === entry) this.onAnswer(null);
      },
      (err: unknown) => {
        entry.pending = false;
        if (this.fetched === entry) this.onAnswer(err as Error);
      },
    );
  }
}
