// The limit form (`l`): the fields of `tstop limit` the dashboard offers,
// edited as text and turned into the limiter's LimitRequest. Empty fields
// change nothing; the limiter validates everything else.

import { LimitError, type LimitOptions, type LimitRequest } from '../../src/limiter/api.js';
import { parseForDuration } from '../../src/limiter/expiry.js';
import { flagOf } from '../../src/limiter/fields.js';
import type { ContainerSnapshot } from '../../src/model/types.js';
import { formatBytes } from '../../src/util/format.js';
import { editKey, lineEdit, type KeyEvent, type LineEdit } from './edit.js';

type TextKey =
  | 'memory'
  | 'memoryHigh'
  | 'cpus'
  | 'cpusetCpus'
  | 'pidsLimit'
  | 'deviceReadBps'
  | 'deviceWriteBps'
  /** --for: the old values come back after this long. */
  | 'for';
type ToggleKey = 'force' | 'allowSystem';

export interface TextField {
  kind: 'text';
  key: TextKey;
  label: string;
  /** The matching `tstop limit` flag. */
  flag: string;
  example: string;
  /** The value in force now, for the hint. */
  current: string;
  edit: LineEdit;
}

export interface ToggleField {
  kind: 'toggle';
  key: ToggleKey;
  label: string;
  flag: string;
  on: boolean;
}

export type FormField = TextField | ToggleField;

export interface LimitForm {
  containerId: string;
  containerName: string;
  fields: FormField[];
  focus: number;
}

function currentIo(c: ContainerSnapshot, key: 'readBps' | 'writeBps'): string {
  const parts = (c.io?.limits ?? [])
    .filter((l) => l[key] !== null)
    .map((l) => `${l.device ?? `${l.major}:${l.minor}`}:${formatBytes(l[key])}/s`);
  return parts.length ? parts.join(', ') : 'none';
}

export function createLimitForm(c: ContainerSnapshot, name: string): LimitForm {
  const text = (key: TextKey, label: string, example: string, current: string): TextField => ({
    kind: 'text',
    key,
    label,
    flag: key === 'for' ? '--for' : flagOf(key),
    example,
    current,
    edit: lineEdit(''),
  });
  const cpu = c.cpu;
  return {
    containerId: c.id,
    containerName: name,
    focus: 0,
    fields: [
      text(
        'memory',
        'memory limit',

        '512m, 2g, unlimited',
        c.memory ? formatBytes(c.memory.limitBytes) : '-',
      ),
      text(
        'memoryHigh',
        'memory high',

        '400m (cgroup v2)',
        c.memory?.highBytes != null ? formatBytes(c.memory.highBytes) : 'none',
      ),
      text(
        'cpus',
        'CPUs',

        '0.5, 2, unlimited',
        cpu?.quotaCores != null ? String(cpu.quotaCores) : 'unlimited',
      ),
      text('cpusetCpus', 'cpuset CPUs', '0-1, 0,2', cpu?.cpus ?? '-'),
      text(
        'pidsLimit',
        'pids limit',

        '100, unlimited',
        c.pids ? (c.pids.limit === null ? 'unlimited' : String(c.pids.limit)) : '-',
      ),
      text(
        'deviceReadBps',
        'io read bps',

        '/dev/vda:10m (comma-separated)',
        currentIo(c, 'readBps'),
      ),
      text(
        'deviceWriteBps',
        'io write bps',

        '8:0:5m (comma-separated)',
        currentIo(c, 'writeBps'),
      ),
      text('for', 'expires after', '30m, 2h (empty: keep)', 'no expiry'),
      { kind: 'toggle', key: 'force', label: 'allow memory below current use', flag: '--force', on: false },
      {
        kind: 'toggle',
        key: 'allowSystem',
        label: 'allow a cgroup that is not a container',
        flag: '--allow-system',
        on: c.runtime === 'cgroup',
      },
    ],
  };
}

export type FormAction = 'submit' | 'cancel' | null;

/** Applies a key to the form; returns what the form asks for. */
export function formKey(form: LimitForm, ch: string | undefined, key: KeyEvent): FormAction {
  const name = key.full ?? key.name;
  const field = form.fields[form.focus];
  switch (name) {
    case 'escape':
      return 'cancel';
    case 'enter':
    case 'return':
      return 'submit';
    case 'tab':
    case 'down':
      form.focus = (form.focus + 1) % form.fields.length;
      return null;
    case 'S-tab':
    case 'up':
      form.focus = (form.focus + form.fields.length - 1) % form.fields.length;
      return null;
  }
  if (field.kind === 'toggle') {
    if (name === 'space' || ch === ' ' || ch === 'x') field.on = !field.on;
    return null;
  }
  editKey(field.edit, ch, key);
  return null;
}

export type FormResult = { request: LimitRequest; options: LimitOptions } | { error: string };

/** The limiter request the form holds: only the filled-in fields. */
export function formRequest(form: LimitForm): FormResult {
  const request: LimitRequest = {};
  const options: LimitOptions = {};
  for (const f of form.fields) {
    if (f.kind === 'toggle') {
      if (f.on) options[f.key] = true;
      continue;
    }
    const v = f.edit.text.trim();
    if (v === '') continue;
    if (f.key === 'for') {
      try {
        options.forMs = parseForDuration(v);
      } catch (err) {
        if (err instanceof LimitError) return { error: err.message };
        throw err;
      }
    } else if (f.key === 'deviceReadBps' || f.key === 'deviceWriteBps') {
      const list = v.split(/[,\s]+/).filter(Boolean);
      if (list.length > 0) request[f.key] = list;
    } else request[f.key] = v;
  }
  if (Object.keys(request).length === 0)
    return { error: 'nothing to change: fill in at least one field (Esc cancels)' };
  return { request, options };
}

/** The request as the equivalent command line, shown with the plan. */
export function formCommandLine(form: LimitForm): string {
  const parts = ['tstop limit', form.containerId];
  for (const f of form.fields) {
    if (f.kind === 'toggle') {
      if (f.on) parts.push(f.flag);
    } else if (f.edit.text.trim()) {
      if (f.key === 'deviceReadBps' || f.key === 'deviceWriteBps') {
        for (const d of f.edit.text
          .trim()
          .split(/[,\s]+/)
          .filter(Boolean))
          parts.push(f.flag, d);
      } else parts.push(f.flag, f.edit.text.trim());
    }
  }
  return parts.join(' ');
}
