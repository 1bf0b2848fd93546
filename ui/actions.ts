// What the dashboard's action keys do to the selected container: the limit
// form and its confirmation, freeze/thaw, signals. Every change goes through
// the Limiter interface; the dashboard only hosts the dialogs.

import { LimitError, type Invocation, type LimitPlan, type Limiter } from '../src/limiter/api.js';
import type { ContainerSnapshot } from '../src/model/types.js';
import { Dialog } from './dialog.js';
import { LimitFormOverlay } from './limit-form.js';
import type { Overlay } from './overlay.js';
import type { Screen } from './screen.js';
import { signalMenu } from './signal-menu.js';
import type { StatusWidget } from './status.js';
import { createLimitForm, formCommandLine, formRequest, type LimitForm } from './view/form.js';
import { escapeTags, safeText, tagged, type Glyphs } from './view/text.js';
import { displayName } from './view/values.js';

const INVOCATION: Invocation = { via: 'dashboard' };

/** The action keys: l, f, K. */
export type ActionKind = 'limit' | 'freeze' | 'signal';

/** What the actions need of the dashboard. */
export interface ActionHost {
  readonly screen: Screen;
  readonly glyphs: Glyphs;
  readonly status: StatusWidget;
  readonly limiter: Limiter;
  readonly isRoot: boolean;
  readonly stopped: boolean;
  /** Why an action cannot be taken here (the fleet view), or null. */
  actionUnavailable(action: ActionKind): string | null;
  readonly currentOverlay: Overlay | null;
  /** The container actions work on: the detail view's, or the selected row's. */
  target(): ContainerSnapshot | null;
  setOverlay(overlay: Overlay | null): void;
  render(): void;
}

export class ContainerActions {
  constructor(private readonly host: ActionHost) {}

  private needsRoot(action: ActionKind, what: string): boolean {
    const unavailable = this.host.actionUnavailable(action);
    if (unavailable) {
      this.host.status.show(`${what}: ${unavailable}`, 'warn');
      return true;
    }
    if (this.host.isRoot) return false;
    this.host.status.show(`${what} needs root: run tstop as root (sudo tstop)`, 'crit');
    return true;
  }

  private actionTarget(): ContainerSnapshot | null {
    const c = this.host.target();
    if (!c) this.host.status.show('select a container first', 'warn');
    return c;
  }

  limit(): void {
    if (this.needsRoot('limit', 'changing limits')) return;
    const c = this.actionTarget();
    if (!c) return;
    const form = createLimitForm(c, displayName(c));
    const overlay = new LimitFormOverlay(
      this.host.screen,
      form,
      { submit: (f) => this.submitLimits(f, overlay), cancel: () => this.host.setOverlay(null) },
      this.host.glyphs.unicode,
    );
    this.host.setOverlay(overlay);
  }

  private submitLimits(form: LimitForm, overlay: LimitFormOverlay): void {
    const r = formRequest(form);
    if ('error' in r) return overlay.setNote(r.error);
    overlay.setNote('asking the limiter for the plan...');
    this.host.render();
    this.host.limiter.plan(form.containerId, r.request, r.options).then(
      (plan) => {
        if (overlay.closed || this.host.stopped) return;
        overlay.close();
        this.confirmPlan(plan, formCommandLine(form));
        this.host.render();
      },
      (err: unknown) => {
        if (overlay.closed || this.host.stopped) return;
        overlay.setNote(errorText(err));
        this.host.render();
      },
    );
  }

  private confirmPlan(plan: LimitPlan, commandLine: string): void {
    const u = this.host.glyphs.unicode;
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
    this.host.setOverlay(
      new Dialog(this.host.screen, {
        title: 'Apply these writes?',
        kind: 'confirm',
        lines,
        onClose: (ok) => {
          this.host.setOverlay(null);
          if (!ok) return this.host.status.show('limits unchanged');
          this.host.status.show('applying...');
          this.host.render();
          this.host.limiter.apply(plan, INVOCATION).then(
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

  freeze(): void {
    if (this.needsRoot('freeze', 'freezing')) return;
    const c = this.actionTarget();
    if (!c) return;
    const name = safeText(displayName(c), this.host.glyphs.unicode);
    const run = (frozen: boolean): void => {
      this.host.status.show(frozen ? `freezing ${name}...` : `thawing ${name}...`);
      this.host.render();
      this.host.limiter.setFrozen(c.id, frozen, INVOCATION).then(
        () => {
          this.host.status.show(frozen ? `${name} frozen (f thaws)` : `${name} thawed`, 'good');
          this.host.render();
        },
        (err: unknown) => this.message(frozen ? 'Not frozen' : 'Not thawed', [tagged(errorText(err), 'crit')]),
      );
    };
    if (c.freezer === 'frozen' || c.freezer === 'freezing') return run(false);
    this.host.setOverlay(
      new Dialog(this.host.screen, {
        title: 'Freeze?',
        kind: 'confirm',
        lines: [
          `Freeze ${tagged(name, 'accent')}?`,
          `Its ${c.processes.length} processes stop until thawed (f again).`,
        ],
        onClose: (ok) => {
          this.host.setOverlay(null);
          if (ok) run(true);
        },
      }),
    );
  }

  signal(): void {
    if (this.needsRoot('signal', 'sending signals')) return;
    const c = this.actionTarget();
    if (!c) return;
    const name = safeText(displayName(c), this.host.glyphs.unicode);
    this.host.setOverlay(
      signalMenu(this.host.screen, name, (signal) => {
        this.host.setOverlay(
          new Dialog(this.host.screen, {
            title: `Send ${signal}?`,
            kind: 'confirm',
            lines: [
              `Send ${tagged(signal, 'warn')} to the ${c.processes.length} processes of ${tagged(name, 'accent')}?`,
            ],
            onClose: (ok) => {
              this.host.setOverlay(null);
              if (!ok) return;
              this.host.limiter.kill(c.id, signal, INVOCATION).then(
                () => {
                  this.host.status.show(`sent ${signal} to ${name}`, 'good');
                  this.host.render();
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
    if (this.host.stopped) return;
    this.host.currentOverlay?.destroy();
    this.host.setOverlay(
      new Dialog(this.host.screen, { title, kind: 'message', lines, onClose: () => this.host.setOverlay(null) }),
    );
    this.host.render();
  }
}

/** The limiter's message as is (it names the flag, the value and why); others with their kind. */
export function errorText(err: unknown): string {
  if (err instanceof LimitError) return err.message;
  if (err instanceof Error) return `${err.name === 'Error' ? 'error' : err.name}: ${err.message}`;
  return String(err);
}
