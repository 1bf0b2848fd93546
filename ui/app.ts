// The dashboard: one screen of widgets over snapshots from a Collector in
// this process, refreshed on a timer, with htop/ctop keys. It never opens a
// cgroup file: numbers come from the model, changes go through the Limiter
// interface (injected, so the CLI decides which limiter, and tests use a fake),
// process detail from collectors/proc-detail.ts.

import type { Readable, Writable } from 'node:stream';
import { ProcessSampler, type ProcessSample } from '../collectors/proc-detail.js';
import { LimitError, type Invocation, type LimitPlan, type Limiter } from '../src/limiter/api.js';
import type { ContainerSnapshot, Snapshot } from '../src/model/types.js';
import { formatDurationMs } from '../src/util/duration.js';
import { DetailWidget } from './detail.js';
import { Dialog } from './dialog.js';
import { HeaderWidget } from './header.js';
import { HelpOverlay } from './help.js';
import { LimitFormOverlay } from './limit-form.js';
import type { Overlay } from './overlay.js';
import { createScreen, type Screen } from './screen.js';
import { signalMenu } from './signal-menu.js';
import { sortMenu } from './sort-menu.js';
import { StatusWidget } from './status.js';
import { TableWidget } from './table.js';
import { TooSmallWidget, tooSmall } from './too-small.js';
import { treeKey } from './tree.js';
import { editKey, lineEdit, type KeyEvent, type LineEdit } from './view/edit.js';
import { createLimitForm, formCommandLine, formRequest, type LimitForm } from './view/form.js';
import { History } from './view/history.js';
import type { Row, RowContext } from './view/rows.js';
import {
  buildRows,
  initialState,
  moveSelection,
  reconcile,
  scrollBy,
  scrollIntoView,
  selectIndex,
  sortBy,
  stepInterval,
  type ViewState,
} from './view/state.js';
import {
  ASCII_GLYPHS,
  UNICODE_GLYPHS,
  escapeTags,
  safeText,
  tagged,
  terminalIsUnicode,
  type Glyphs,
} from './view/text.js';
import { displayName } from './view/values.js';

/** Where snapshots come from: a Collector (or anything that makes Snapshots). */
export interface SnapshotSource {
  collect(): Snapshot;
  close(): void;
}

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
}

const INVOCATION: Invocation = { via: 'dashboard' };

export class Dashboard {
  readonly screen: Screen;
  readonly state: ViewState;
  readonly history = new History();
  readonly glyphs: Glyphs;
  private readonly header: HeaderWidget;
  private readonly table: TableWidget;
  private readonly detail: DetailWidget;
  private readonly status: StatusWidget;
  private readonly small: TooSmallWidget;
  private readonly limiter: Limiter;
  private readonly isRoot: boolean;
  private readonly readProcesses: (pids: readonly number[]) => ProcessSample;
  private readonly now: () => Date;
  private readonly source: SnapshotSource | null;
  private snapshot: Snapshot | null = null;
  private rows: Row[] = [];
  private rowsDirty = true;
  private mode: 'table' | 'detail' = 'table';
  private detailId: string | null = null;
  private processes: ProcessSample | null = null;
  private overlay: Overlay | null = null;
  private filterEdit: LineEdit | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private resolveDone: () => void = () => undefined;
  readonly done: Promise<void>;
  private readonly signalHandlers: [NodeJS.Signals, () => void][] = [];
  /** Frames drawn (the benchmark counts them). */
  frames = 0;

  constructor(private readonly options: DashboardOptions) {
    this.limiter = options.limiter;
    this.isRoot = options.isRoot ?? process.getuid?.() === 0;
    this.source = options.source ?? null;
    this.now = options.now ?? (() => new Date());
    const sampler = new ProcessSampler(options.root ?? '/');
    this.readProcesses = options.processes ?? ((pids) => sampler.sample(pids));
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
    if (this.source) {
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
      this.tick();
      this.schedule();
    }, ms);
  }

  private tick(): void {
    if (!this.source || this.stopped) return;
    if (this.state.paused) return this.render();
    let s: Snapshot;
    try {
      s = this.source.collect();
    } catch (err) {
      this.status.show(`collection failed: ${(err as Error).message}`, 'crit');
      return this.render();
    }
    this.update(s);
  }

  /** Takes a new snapshot: history, rows and (in the detail view) processes; then draws. */
  update(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.history.record(snapshot);
    this.rowsDirty = true;
    if (this.mode === 'detail' && this.detailId !== null) {
      const c = this.detailContainer();
      if (c) this.processes = this.readProcesses(c.processes);
      else {
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

  get currentOverlay(): Overlay | null {
    return this.overlay;
  }

  private rowContext(): RowContext {
    return { glyphs: this.glyphs, hostCpus: this.snapshot?.host.cpus ?? 1, oomRecent: this.history.oomRecent() };
  }

  private refreshRows(): void {
    if (!this.rowsDirty) return;
    this.rows = this.snapshot ? buildRows(this.snapshot, this.state, this.rowContext()) : [];
    this.rowsDirty = false;
    reconcile(this.state, this.rows, this.table.pageHeight);
  }

  private detailContainer(): ContainerSnapshot | null {
    return this.snapshot?.containers.find((c) => c.id === this.detailId) ?? null;
  }

  /** Draws a frame. */
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
    });
    if (this.mode === 'detail') {
      this.table.box.hide();
      this.detail.box.show();
      const c = this.detailContainer();
      if (c && this.snapshot) {
        this.detail.update({
          container: c,
          history: this.history.get(c.id),
          secondsSinceOom: this.history.secondsSinceOom(c.id),
          processes: this.processes,
          hostMemoryBytes: this.snapshot.host.memoryBytes,
          wallNow: Date.parse(this.snapshot.timestamp) / 1000,
          monoNow: this.snapshot.monotonicSeconds,
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
    this.status.render(this.mode, this.filterEdit, this.glyphs.unicode);
    this.screen.render();
    this.frames++;
  }

  private selectedRow(): Row | null {
    return this.rows[this.state.selectedIndex] ?? null;
  }

  /** The container actions work on: the detail view's, or the selected row's. */
  private target(): ContainerSnapshot | null {
    if (this.mode === 'detail') return this.detailContainer();
    return this.selectedRow()?.container ?? null;
  }

  private openDetail(): void {
    const row = this.selectedRow();
    if (!row?.container) {
      if (row) this.status.show('no data for this cgroup (it is not in the snapshot)', 'warn');
      return;
    }
    this.mode = 'detail';
    this.detailId = row.id;
    this.processes = this.readProcesses(row.container.processes);
    this.detail.open();
  }

  private closeDetail(): void {
    this.mode = 'table';
    this.detailId = null;
    this.processes = null;
    this.detail.close();
  }

  private setOverlay(o: Overlay | null): void {
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
    if (this.filterEdit) return this.filterKey(ch, key, name);
    if (this.mode === 'detail') return this.detailKey(ch, key, name);
    this.tableKey(ch, key, name);
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

  /** Keys both views share; returns whether the key was one of them. */
  private commonKey(name: string, ch: string | undefined): boolean {
    switch (name) {
      case 'q':
        this.quit();
        return true;
      case '?':
      case 'f1':
        this.setOverlay(new HelpOverlay(this.screen, () => this.setOverlay(null)));
        return true;
      case 'space':
        this.state.paused = !this.state.paused;
        this.status.show(this.state.paused ? 'paused (Space resumes)' : 'resumed');
        return true;
      case 'l':
        this.limitAction();
        return true;
      case 'f':
        this.freezeAction();
        return true;
      case 'S-k':
      case 'K':
      case 'f9':
        this.signalAction();
        return true;
    }
    if (ch === '+' || ch === '=' || ch === '-' || ch === '_') {
      const next = stepInterval(this.state.intervalMs, ch === '+' || ch === '=' ? 1 : -1);
      if (next !== this.state.intervalMs) {
        this.state.intervalMs = next;
        if (this.source) this.schedule();
      }
      this.status.show(`refresh every ${formatDurationMs(next)}`);
      return true;
    }
    return false;
  }

  private detailKey(ch: string | undefined, key: KeyEvent, name: string): void {
    switch (name) {
      case 'escape':
      case 'backspace':
      case 'left':
        this.closeDetail();
        break;
      case 'up':
      case 'k':
        this.detail.scroll(-1);
        break;
      case 'down':
      case 'j':
        this.detail.scroll(1);
        break;
      case 'pageup':
        this.detail.scroll(-this.detail.pageHeight);
        break;
      case 'pagedown':
        this.detail.scroll(this.detail.pageHeight);
        break;
      case 'home':
      case 'g':
        this.detail.scrollTo('top');
        break;
      case 'end':
      case 'S-g':
        this.detail.scrollTo('bottom');
        break;
      case 'tab':
        this.detail.nextCharts();
        break;
      default:
        if (!this.commonKey(name, ch)) return;
    }
    this.render();
  }

  private tableKey(ch: string | undefined, key: KeyEvent, name: string): void {
    const page = this.table.pageHeight;
    switch (name) {
      case 'up':
      case 'k':
        moveSelection(this.state, this.rows, -1, page);
        break;
      case 'down':
      case 'j':
        moveSelection(this.state, this.rows, 1, page);
        break;
      case 'pageup':
        moveSelection(this.state, this.rows, -page, page);
        break;
      case 'pagedown':
        moveSelection(this.state, this.rows, page, page);
        break;
      case 'home':
      case 'g':
        selectIndex(this.state, this.rows, 0, page);
        break;
      case 'end':
      case 'S-g':
        selectIndex(this.state, this.rows, this.rows.length - 1, page);
        break;
      case 'enter':
        this.openDetail();
        break;
      case '/':
        this.filterEdit = lineEdit(this.state.filter);
        break;
      case 'escape':
        if (this.state.filter) {
          this.state.filter = '';
          this.rowsDirty = true;
        }
        break;
      case 's':
        this.setOverlay(
          sortMenu(this.screen, this.state.sort, (k) => {
            sortBy(this.state, k, false);
            this.rowsDirty = true;
            this.setOverlay(null);
          }),
        );
        break;
      case 'r':
        this.state.reverse = !this.state.reverse;
        this.rowsDirty = true;
        break;
      case 'c':
        sortBy(this.state, 'cpu');
        this.rowsDirty = true;
        break;
      case 'm':
        sortBy(this.state, 'mem');
        this.rowsDirty = true;
        break;
      case 'i':
        sortBy(this.state, 'io');
        this.rowsDirty = true;
        break;
      case 'p':
        sortBy(this.state, 'path');
        this.rowsDirty = true;
        break;
      case 't':
        this.state.tree = !this.state.tree;
        this.rowsDirty = true;
        break;
      case 'a':
        this.state.all = !this.state.all;
        this.rowsDirty = true;
        this.status.show(this.state.all ? 'showing every cgroup' : 'showing containers and cgroups with processes');
        break;
      case 'left':
      case 'right':
      case 'x':
        if (this.state.tree) {
          const r = treeKey(this.state, this.rows, name, page);
          if (r === 'rebuild') this.rowsDirty = true;
        }
        break;
      default:
        if (!this.commonKey(name, ch)) return;
    }
    this.render();
  }

  // ---- actions (through the Limiter) ----

  private needsRoot(what: string): boolean {
    if (this.isRoot) return false;
    this.status.show(`${what} needs root: run tstop as root (sudo tstop)`, 'crit');
    return true;
  }

  private actionTarget(): ContainerSnapshot | null {
    const c = this.target();
    if (!c) this.status.show('select a container first', 'warn');
    return c;
  }

  private limitAction(): void {
    if (this.needsRoot('changing limits')) return;
    const c = this.actionTarget();
    if (!c) return;
    const form = createLimitForm(c, displayName(c));
    const overlay = new LimitFormOverlay(
      this.screen,
      form,
      { submit: (f) => this.submitLimits(f, overlay), cancel: () => this.setOverlay(null) },
      this.glyphs.unicode,
    );
    this.setOverlay(overlay);
  }

  private submitLimits(form: LimitForm, overlay: LimitFormOverlay): void {
    const r = formRequest(form);
    if ('error' in r) return overlay.setNote(r.error);
    overlay.setNote('asking the limiter for the plan...');
    this.render();
    this.limiter.plan(form.containerId, r.request, r.options).then(
      (plan) => {
        if (overlay.closed || this.stopped) return;
        overlay.close();
        this.confirmPlan(plan, formCommandLine(form));
        this.render();
      },
      (err: unknown) => {
        if (overlay.closed || this.stopped) return;
        overlay.setNote(errorText(err));
        this.render();
      },
    );
  }

  private confirmPlan(plan: LimitPlan, commandLine: string): void {
    const u = this.glyphs.unicode;
    const lines: string[] = [
      tagged(`${safeText(plan.container.name, u)} (${safeText(plan.container.id, u)})`, 'accent'),
      tagged(safeText(commandLine, u), 'dim'),
      '',
    ];
    if (plan.writes.length === 0) lines.push('nothing to write: the values are already in force');
    for (const w of plan.writes) {
      lines.push(escapeTags(safeText(w.path, u)));
      lines.push(
        `    ${escapeTags(safeText(w.oldValue || '(empty)', u))} {bold}->{/bold} ${tagged(safeText(w.newValue, u), 'warn')}`,
      );
    }
    for (const n of plan.notes) lines.push(tagged(`note: ${safeText(n, u)}`, 'dim'));
    this.setOverlay(
      new Dialog(this.screen, {
        title: 'Apply these writes?',
        kind: 'confirm',
        lines,
        onClose: (ok) => {
          this.setOverlay(null);
          if (!ok) return this.status.show('limits unchanged');
          this.status.show('applying...');
          this.render();
          this.limiter.apply(plan, INVOCATION).then(
            (res) => {
              const done = res.writes.map(
                (w) => `${escapeTags(safeText(w.path, u))}: ${tagged(safeText(w.newValue, u), 'good')}`,
              );
              this.message('Limits applied', [
                `change ${escapeTags(res.changeId)} (undo: tstop limit undo ${escapeTags(res.changeId)})`,
                '',
                ...done,
              ]);
            },
            (err: unknown) => this.message('Limits not applied', [tagged(errorText(err), 'crit')]),
          );
        },
      }),
    );
  }

  private freezeAction(): void {
    if (this.needsRoot('freezing')) return;
    const c = this.actionTarget();
    if (!c) return;
    const name = safeText(displayName(c), this.glyphs.unicode);
    const run = (frozen: boolean): void => {
      this.status.show(frozen ? `freezing ${name}...` : `thawing ${name}...`);
      this.render();
      this.limiter.setFrozen(c.id, frozen, INVOCATION).then(
        () => {
          this.status.show(frozen ? `${name} frozen (f thaws)` : `${name} thawed`, 'good');
          this.render();
        },
        (err: unknown) => this.message(frozen ? 'Not frozen' : 'Not thawed', [tagged(errorText(err), 'crit')]),
      );
    };
    if (c.freezer === 'frozen' || c.freezer === 'freezing') return run(false);
    this.setOverlay(
      new Dialog(this.screen, {
        title: 'Freeze?',
        kind: 'confirm',
        lines: [
          `Freeze ${tagged(name, 'accent')}?`,
          `Its ${c.processes.length} processes stop until thawed (f again).`,
        ],
        onClose: (ok) => {
          this.setOverlay(null);
          if (ok) run(true);
        },
      }),
    );
  }

  private signalAction(): void {
    if (this.needsRoot('sending signals')) return;
    const c = this.actionTarget();
    if (!c) return;
    const name = safeText(displayName(c), this.glyphs.unicode);
    this.setOverlay(
      signalMenu(this.screen, name, (signal) => {
        this.setOverlay(
          new Dialog(this.screen, {
            title: `Send ${signal}?`,
            kind: 'confirm',
            lines: [
              `Send ${tagged(signal, 'warn')} to the ${c.processes.length} processes of ${tagged(name, 'accent')}?`,
            ],
            onClose: (ok) => {
              this.setOverlay(null);
              if (!ok) return;
              this.limiter.kill(c.id, signal, INVOCATION).then(
                () => {
                  this.status.show(`sent ${signal} to ${name}`, 'good');
                  this.render();
                },
                (err: unknown) => this.message(`${signal} not sent`, [tagged(errorText(err), 'crit')]),
              );
            },
          }),
        );
      }),
    );
  }

  private message(title: string, lines: string[]): void {
    if (this.stopped) return;
    this.overlay?.destroy();
    this.setOverlay(new Dialog(this.screen, { title, kind: 'message', lines, onClose: () => this.setOverlay(null) }));
    this.render();
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
      this.source?.close();
      this.resolveDone();
    }
  }
}

/** The limiter's message as is (it names the flag, the value and why); others with their kind. */
export function errorText(err: unknown): string {
  if (err instanceof LimitError) return err.message;
  if (err instanceof Error) return `${err.name === 'Error' ? 'error' : err.name}: ${err.message}`;
  return String(err);
}
