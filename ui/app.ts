// The dashboard: one screen of widgets over snapshots from a Collector in
// this process, refreshed on a timer, with htop/ctop keys. It never opens a
// cgroup file: numbers come from the model, changes go through the Limiter
// interface (injected, so the CLI decides which limiter, and tests use a fake),
// process detail from collectors/proc-detail.ts.

import type { Readable, Writable } from 'node:stream';
import { ProcessSampler, type ProcessSample } from '../collectors/proc-detail.js';
import type { Limiter } from '../src/limiter/api.js';
import { isFleetSnapshot, type ContainerSnapshot, type Snapshot, type SnapshotSource } from '../src/model/types.js';
import { formatDurationMs } from '../src/util/duration.js';
import { ContainerActions, type ActionKind } from './actions.js';
import { DetailWidget } from './detail-widget.js';
import { HeaderWidget } from './header-widget.js';
import { HelpOverlay } from './help.js';
import { recordInto, REPLAY_ACTIONS_MESSAGE, ReplayView } from './replay.js';
import type { Overlay } from './overlay.js';
import { createScreen, type Screen } from './screen.js';
import { sortMenu } from './sort-menu.js';
import { StatusWidget } from './status.js';
import { TableWidget } from './table.js';
import { TooSmallWidget, tooSmall } from './too-small.js';
import { treeKey } from './tree-keys.js';
import { editKey, lineEdit, type KeyEvent, type LineEdit } from './view/edit.js';
import { ReplayControls } from './replay-controls.js';
import { DetailHistoryFetcher, type DetailHistoryProvider } from './detail-history.js';
import { History } from './view/history.js';
import type { Row, RowContext } from './view/rows.js';
import type { ReplayTimeline } from '../src/record/replay.js';
import {
  buildRows,
  initialState,
  moveSelection,
  reconcile,
  scrollBy,
  scrollIntoView,
  selectIndex,
  shownContainers,
  sortBy,
  stepInterval,
  type ViewState,
} from './view/view-state.js';
import { ASCII_GLYPHS, UNICODE_GLYPHS, safeText, terminalIsUnicode, type Glyphs } from './view/text.js';
import { bindingFor, type DashboardControls } from './view/keys.js';
import { collectFocus, staleColumns } from './view/freshness.js';
import type { SortKey } from './view/sort.js';

export interface DashboardOptions {
  /** Collected on a timer; without one, call update() with snapshots (tests, benchmark). */
  source?: SnapshotSource | null;
  limiter: Limiter;
  /** Whether actions may be tried (they need root); defaults to the process's uid. */
  isRoot?: boolean;
  /** Reads the detail view's processes; defaults to a ProcessSampler on `root`. */
  processes?: (pids: readonly number[]) => ProcessSample;
  /** Host filesystem root for the default process reader. */
  root?: string;
  /** Start options: sort, filter, tree, interval ... */
  state?: Partial<ViewState>;
  input?: Readable;
  output?: Writable;
  terminal?: string;
  /** UTF-8 glyphs and braille charts; defaults from TERM and the locale. */
  unicode?: boolean;
  now?: () => Date;
  /** Quit on SIGTERM / SIGHUP (the real terminal). */
  handleSignals?: boolean;
  /**
   * The detail view's chart history from elsewhere (the fleet view's range
   * queries); asked when the view opens and again every detailHistoryEveryMs.
   * Without it, or until it answers, the charts show what this dashboard saw.
   */
  detailHistory?: DetailHistoryProvider;
  detailHistoryEveryMs?: number;
  /** Why l, f and K cannot act here (the fleet view), for all or per action; null or absent: they can. */
  actionsUnavailable?: string | null | Partial<Record<ActionKind, string>>;
  /** Pending limit expiries (limit --for) for the header: container name and deadline (ms). */
  expiries?: () => readonly { name: string; deadlineMs: number }[];
  /** Replay (tstop --at): the recorded samples instead of a source; actions are off. */
  replay?: ReplayTimeline | null;
  /** Live: recorded samples (the store's last hour) the charts start with, oldest first. */
  recordedHistory?: readonly Snapshot[];
}

export class Dashboard implements DashboardControls {
  readonly screen: Screen;
  readonly state: ViewState;
  history = new History();
  readonly glyphs: Glyphs;
  private readonly header: HeaderWidget;
  private readonly table: TableWidget;
  private readonly detail: DetailWidget;
  readonly status: StatusWidget;
  private readonly small: TooSmallWidget;
  private readonly actions: ContainerActions;
  readonly limiter: Limiter;
  readonly isRoot: boolean;
  private readonly readProcesses: (pids: readonly number[]) => ProcessSample;
  private readonly now: () => Date;
  private readonly source: SnapshotSource | null;
  private snapshot: Snapshot | null = null;
  private rows: Row[] = [];
  /** The containers the rows are made of (before the tree adds ancestors). */
  private shown: ContainerSnapshot[] = [];
  private rowsDirty = true;
  private mode: 'table' | 'detail' = 'table';
  private detailId: string | null = null;
  private processes: ProcessSample | null = null;
  /** The detail view's history from options.detailHistory, for detailId. */
  private readonly fetched: DetailHistoryFetcher;
  private overlay: Overlay | null = null;
  private filterEdit: LineEdit | null = null;
  private readonly replayControls: ReplayControls;
  private readonly replay: ReplayView | null;
  private timer: NodeJS.Timeout | null = null;
  stopped = false;
  private resolveDone: () => void = () => undefined;
  readonly done: Promise<void>;
  private readonly signalHandlers: [NodeJS.Signals, () => void][] = [];
  /** Frames drawn (the benchmark counts them). */
  frames = 0;

  constructor(private readonly options: DashboardOptions) {
    this.limiter = options.limiter;
    this.isRoot = options.isRoot ?? process.getuid?.() === 0;
    this.source = options.source ?? null;
    this.replay = options.replay ? new ReplayView(options.replay) : null;
    this.replayControls = new ReplayControls(this.replay, {
      showStatus: (text, level) => this.status.show(text, level),
      showFrame: () => this.showReplayFrame(),
      render: () => this.render(),
    });
    this.fetched = new DetailHistoryFetcher(options.detailHistory, options.detailHistoryEveryMs ?? 30_000, (err) =>
      this.detailHistoryAnswered(err),
    );
    this.now = options.now ?? (() => new Date());
    const sampler = new ProcessSampler(options.root ?? '/');
    const replay = this.replay;
    this.readProcesses = replay
      ? (pids) => replay.processes(pids)
      : (options.processes ?? ((pids) => sampler.sample(pids)));
    if (options.recordedHistory)
      recordInto(this.history, options.recordedHistory, Date.now(), performance.now() / 1000);
    this.glyphs = (options.unicode ?? terminalIsUnicode()) ? UNICODE_GLYPHS : ASCII_GLYPHS;
    this.state = initialState(options.state);
    this.done = new Promise((r) => (this.resolveDone = r));
    this.screen = createScreen({ input: options.input, output: options.output, terminal: options.terminal });
    this.header = new HeaderWidget(this.screen);
    this.table = new TableWidget(this.screen, {
      select: (i) => {
        if (this.overlay || this.mode !== 'table') return;
        selectIndex(this.state, this.rows, i, this.table.pageHeight);
        this.render();
      },
      sortColumn: (col) => {
        if (this.overlay || this.mode !== 'table') return;
        sortBy(this.state, col.sort);
        this.rowsDirty = true;
        this.render();
      },
      scroll: (delta) => {
        if (this.overlay || this.mode !== 'table') return;
        scrollBy(this.state, this.rows, delta, this.table.pageHeight);
        this.render();
      },
    });
    this.detail = new DetailWidget(this.screen, this.glyphs);
    this.status = new StatusWidget(this.screen);
    this.small = new TooSmallWidget(this.screen);
    this.actions = new ContainerActions(this);
    this.screen.on('keypress', (ch: string | undefined, key: KeyEvent | undefined) => this.onKey(ch, key ?? {}));
    this.screen.on('resize', () => {
      this.overlay?.layout();
      this.render();
    });
    if (options.handleSignals) {
      for (const sig of ['SIGTERM', 'SIGHUP'] as NodeJS.Signals[]) {
        const h = (): void => this.quit();
        process.on(sig, h);
        this.signalHandlers.push([sig, h]);
      }
    }
  }

  /** Starts collecting (if there is a source) and drawing; resolves when the user quits. */
  start(): Promise<void> {
    if (this.replay) this.showReplayFrame();
    else if (this.source) {
      this.tick();
      // The first snapshot has no rates: take the second one soon.
      this.schedule(Math.min(this.state.intervalMs, 500));
    } else this.render();
    return this.done;
  }

  private schedule(ms = this.state.intervalMs): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      const startedMs = performance.now();
      this.tick();
      // Ticks start intervalMs apart, as the header's "every 1s" says, whatever one took;
      // one longer than that still leaves a quarter of the interval for keys.
      const interval = this.state.intervalMs;
      this.schedule(Math.max(interval - (performance.now() - startedMs), interval / 4));
    }, ms);
  }

  private tick(): void {
    if (!this.source || this.stopped) return;
    if (this.state.paused) return this.render();
    let s: Snapshot;
    try {
      // The rows on screen and the sort column every tick; the rest's dear files less often (hidden: once shown).
      this.source.focus?.(collectFocus(this.rowsOnScreen(), this.state, this.detailId, this.snapshot, this.shown));
      s = this.source.collect();
    } catch (err) {
      this.status.show(`collection failed: ${(err as Error).message}`, 'crit');
      return this.render();
    }
    this.update(s);
  }

  /** Takes a new snapshot: history, rows and (in the detail view) processes; then draws. */
  update(snapshot: Snapshot, addToHistory = true): void {
    this.snapshot = snapshot;
    if (addToHistory) this.history.record(snapshot);
    this.rowsDirty = true;
    if (this.mode === 'detail' && this.detailId !== null) {
      const c = this.detailContainer();
      if (c) {
        this.processes = this.readProcesses(c.processes);
        this.fetchDetailHistory(c);
      } else {
        this.status.show(`${safeText(this.detailId, this.glyphs.unicode)} is gone`, 'warn');
        this.closeDetail();
      }
    }
    this.render();
  }

  get currentSnapshot(): Snapshot | null {
    return this.snapshot;
  }

  get visibleRows(): readonly Row[] {
    return this.rows;
  }

  get currentMode(): 'table' | 'detail' {
    return this.mode;
  }

  actionUnavailable(action: ActionKind): string | null {
    if (this.replay) return REPLAY_ACTIONS_MESSAGE;
    const u = this.options.actionsUnavailable ?? null;
    return typeof u === 'string' || u === null ? u : (u[action] ?? null);
  }

  get currentOverlay(): Overlay | null {
    return this.overlay;
  }

  private rowContext(): RowContext {
    return {
      glyphs: this.glyphs,
      hostCpus: this.snapshot?.host.cpus ?? 1,
      oomRecent: this.history.oomRecent(),
      instances: isFleetSnapshot(this.snapshot),
    };
  }

  private refreshRows(): void {
    if (!this.rowsDirty) return;
    this.shown = this.snapshot ? shownContainers(this.snapshot, this.state) : [];
    this.rows = this.snapshot ? buildRows(this.snapshot, this.state, this.rowContext(), this.shown) : [];
    this.rowsDirty = false;
    reconcile(this.state, this.rows, this.table.pageHeight);
  }

  /** The rows in the table's window (as of the last frame). */
  private rowsOnScreen(): Row[] {
    return this.rows.slice(this.state.top, this.state.top + this.table.pageHeight);
  }

  private detailContainer(): ContainerSnapshot | null {
    return this.snapshot?.containers.find((c) => c.id === this.detailId) ?? null;
  }

  /** Draws a frame. */
  private expiriesLeft(): { name: string; leftMs: number }[] | undefined {
    const now = this.now().getTime();
    return this.options.expiries?.().map((e) => ({ name: e.name, leftMs: e.deadlineMs - now }));
  }

  render(): void {
    if (this.stopped) return;
    const width = this.screen.width as number;
    const height = this.screen.height as number;
    const small = tooSmall(width, height);
    if (small) {
      this.header.box.hide();
      this.table.box.hide();
      this.detail.box.hide();
      this.status.box.hide();
      this.small.show(width, height);
      this.screen.render();
      this.frames++;
      return;
    }
    this.small.hide();
    this.header.box.show();
    this.status.box.show();
    this.refreshRows();
    this.header.render({
      snapshot: this.snapshot,
      state: this.state,
      shown: this.rows.length,
      now: this.now(),
      glyphs: this.glyphs,
      expiries: this.expiriesLeft(),
      replay: this.replay?.header() ?? null,
      staleColumns: this.source?.staleFields
        ? staleColumns(
            this.mode === 'detail' ? this.rows.filter((r) => r.id === this.detailId) : this.rowsOnScreen(),
            (id) => this.source?.staleFields?.(id) ?? [],
          )
        : [],
    });
    if (this.mode === 'detail') {
      this.table.box.hide();
      this.detail.box.show();
      const c = this.detailContainer();
      if (c && this.snapshot) {
        this.detail.update({
          container: c,
          history: this.fetched.history(c.id) ?? this.history.get(c.id),
          secondsSinceOom: this.history.secondsSinceOom(c.id),
          processes: this.processes,
          hostMemoryBytes: this.snapshot.host.memoryBytes,
          wallNow: Date.parse(this.snapshot.timestamp) / 1000,
          monoNow: this.snapshot.monotonicSeconds,
          limitChanges: this.replay?.limitNotes(c.id),
        });
      }
    } else {
      this.detail.box.hide();
      this.table.box.show();
      scrollIntoView(this.state, this.rows.length, this.table.pageHeight);
      const empty = this.snapshot
        ? this.state.filter
          ? `no cgroup matches the filter '${safeText(this.state.filter, this.glyphs.unicode)}' (Esc clears it)`
          : 'no containers or busy cgroups (a: show all cgroups)'
        : 'collecting...';
      this.table.render(this.rows, this.state, this.rowContext(), empty);
    }
    const timeEdit = this.replayControls.timeEdit;
    this.status.render(this.mode, timeEdit ?? this.filterEdit, this.glyphs.unicode, {
      prompt: timeEdit ? 'replay at (03:12, 10m ago, ISO 8601, @epoch)' : undefined,
      replay: this.replay !== null,
    });
    this.screen.render();
    this.frames++;
  }

  private selectedRow(): Row | null {
    return this.rows[this.state.selectedIndex] ?? null;
  }

  /** The container actions work on: the detail view's, or the selected row's. */
  target(): ContainerSnapshot | null {
    if (this.mode === 'detail') return this.detailContainer();
    return this.selectedRow()?.container ?? null;
  }

  openDetail(): void {
    const row = this.selectedRow();
    if (!row?.container) {
      if (row) this.status.show('no data for this cgroup (it is not in the snapshot)', 'warn');
      return;
    }
    this.mode = 'detail';
    this.detailId = row.id;
    if (this.replay) this.history = this.replay.history(row.id);
    this.processes = this.readProcesses(row.container.processes);
    this.fetched.reset();
    this.fetchDetailHistory(row.container);
    this.detail.open();
  }

  /** Asks options.detailHistory for the open container's history (DetailHistoryFetcher). */
  private fetchDetailHistory(c: ContainerSnapshot): void {
    if (this.snapshot) this.fetched.fetch(c, this.snapshot);
  }

  /** The fetched history answered (or failed): redraw the open detail view. */
  private detailHistoryAnswered(err: Error | null): void {
    if (this.stopped || this.mode !== 'detail') return;
    if (err) this.status.show(`the detail charts' history: ${err.message}`, 'crit');
    this.render();
  }

  closeDetail(): void {
    this.mode = 'table';
    this.detailId = null;
    if (this.replay) this.history = this.replay.history(null); // the detail's held one cgroup; the table's OOM marks need all
    this.fetched.reset();
    this.processes = null;
    this.detail.close();
  }

  setOverlay(o: Overlay | null): void {
    this.overlay = o;
  }

  // ---- keys ----

  onKey(ch: string | undefined, rawKey: KeyEvent): void {
    // blessed sends "return" and then a synthetic "enter" for one key: take the latter.
    if (rawKey.name === 'return') return;
    const name = rawKey.name === 'linefeed' ? 'enter' : (rawKey.full ?? rawKey.name ?? ch ?? '');
    const key: KeyEvent = { ...rawKey, full: name };
    if (name === 'C-c') return this.quit();
    if (this.stopped) return;
    const width = this.screen.width as number;
    const height = this.screen.height as number;
    if (tooSmall(width, height)) {
      if (name === 'q') this.quit();
      return;
    }
    if (this.overlay) {
      this.overlay.key(ch, key);
      if (this.overlay?.closed) this.setOverlay(null);
      return this.render();
    }
    if (this.replayControls.timeEdit) return this.replayControls.timeKey(ch, key, name);
    if (this.filterEdit) return this.filterKey(ch, key, name);
    this.dispatchKey(this.mode, name, ch);
  }

  private filterKey(ch: string | undefined, key: KeyEvent, name: string): void {
    const edit = this.filterEdit!;
    if (name === 'escape') {
      this.filterEdit = null;
      this.state.filter = '';
    } else if (name === 'enter') {
      this.filterEdit = null;
    } else {
      editKey(edit, ch, key);
      this.state.filter = edit.text;
    }
    this.rowsDirty = true;
    this.render();
  }

  /** A key of the table or the detail view, from the binding table (ui/view/keys.ts). */
  private dispatchKey(view: 'table' | 'detail', name: string, ch: string | undefined): void {
    const found = bindingFor(view, name, ch);
    if (!found) return;
    found.binding.action!(this, found.key);
    this.render();
  }

  // ---- what keys do (DashboardControls) ----

  showHelp(): void {
    this.setOverlay(new HelpOverlay(this.screen, () => this.setOverlay(null), this.replay ? 'replay' : 'live'));
  }

  // ---- replay (tstop --at) ----

  /** Shows the replay's current sample, with the history read from the store around it. */
  private showReplayFrame(): void {
    if (!this.replay) return;
    this.history = this.replay.history(this.mode === 'detail' ? this.detailId : null);
    const change = this.replay.changeMessage();
    if (change) this.status.show(change, 'warn', 10);
    this.update(this.replay.snapshot, false);
  }

  replayStep(direction: 1 | -1): void {
    this.replayControls.step(direction);
  }

  replayShift(deltaMs: number): void {
    this.replayControls.shift(deltaMs);
  }

  replayJump(): void {
    this.replayControls.jump();
  }

  togglePause(): void {
    this.state.paused = !this.state.paused;
    this.status.show(this.state.paused ? 'paused (Space resumes)' : 'resumed');
  }

  stepRefresh(direction: 1 | -1): void {
    const next = stepInterval(this.state.intervalMs, direction);
    if (next !== this.state.intervalMs) {
      this.state.intervalMs = next;
      if (this.source) this.schedule();
    }
    this.status.show(`refresh every ${formatDurationMs(next)}`);
  }

  moveSelection(delta: number | 'page-up' | 'page-down' | 'first' | 'last'): void {
    const page = this.table.pageHeight;
    if (delta === 'first') return selectIndex(this.state, this.rows, 0, page);
    if (delta === 'last') return selectIndex(this.state, this.rows, this.rows.length - 1, page);
    const rows = delta === 'page-up' ? -page : delta === 'page-down' ? page : delta;
    moveSelection(this.state, this.rows, rows, page);
  }

  editFilter(): void {
    this.filterEdit = lineEdit(this.state.filter);
  }

  clearFilter(): void {
    if (!this.state.filter) return;
    this.state.filter = '';
    this.rowsDirty = true;
  }

  chooseSort(): void {
    this.setOverlay(
      sortMenu(this.screen, this.state.sort, (k) => {
        sortBy(this.state, k, false);
        this.rowsDirty = true;
        this.setOverlay(null);
      }),
    );
  }

  reverseSort(): void {
    this.state.reverse = !this.state.reverse;
    this.rowsDirty = true;
  }

  sortBy(key: SortKey): void {
    sortBy(this.state, key);
    this.rowsDirty = true;
  }

  toggleTree(): void {
    this.state.tree = !this.state.tree;
    this.rowsDirty = true;
  }

  toggleAll(): void {
    this.state.all = !this.state.all;
    this.rowsDirty = true;
    this.status.show(this.state.all ? 'showing every cgroup' : 'showing containers and cgroups with processes');
  }

  treeKey(key: 'left' | 'right' | 'x'): void {
    if (!this.state.tree) return;
    if (treeKey(this.state, this.rows, key, this.table.pageHeight) === 'rebuild') this.rowsDirty = true;
  }

  scrollDetail(delta: number | 'page-up' | 'page-down' | 'top' | 'bottom'): void {
    if (delta === 'top' || delta === 'bottom') return this.detail.scrollTo(delta);
    const page = this.detail.pageHeight;
    this.detail.scroll(delta === 'page-up' ? -page : delta === 'page-down' ? page : delta);
  }

  nextCharts(): void {
    this.detail.nextCharts();
  }

  // ---- actions on the selected container (ui/actions.ts) ----

  limitAction(): void {
    this.actions.limit();
  }

  freezeAction(): void {
    this.actions.freeze();
  }

  signalAction(): void {
    this.actions.signal();
  }

  /** Stops the timer and the source and restores the terminal. */
  quit(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const [sig, h] of this.signalHandlers) process.off(sig, h);
    try {
      this.screen.destroy();
    } finally {
      this.source?.close?.();
      this.resolveDone();
    }
  }
}
