// What the dashboard shows of docker's own view, found on a real engine: the
// header counted the /docker and /tstop parents as containers; with
// --sort name the header's arrow contradicted the column's; a tstop limit
// docker restart undoes was not marked.

import { describe, expect, it } from 'vitest';
import { fitColumns } from '../../ui/view/columns.js';
import { detailLines } from '../../ui/view/detail.js';
import { headerLines } from '../../ui/view/header.js';
import { cell, headerSpans, rowFromContainer, type RowContext } from '../../ui/view/rows.js';
import { ASCII_GLYPHS, UNICODE_GLYPHS } from '../../ui/view/text.js';
import { initialState } from '../../ui/view/view-state.js';
import { countContainers } from '../../src/model/select.js';
import { MiB, sampleContainer, sampleSnapshot, v2Container } from '../../src/model/samples.js';

const ID = 'f'.repeat(64);
const parent = { ...sampleContainer({ id: '/docker', runtime: 'docker' }), containerId: null };
const web = { ...sampleContainer({ id: `/docker/${ID}`, name: 'web' }), containerId: ID };
const nested = { ...sampleContainer({ id: `/docker/${ID}/init.scope`, name: 'init.scope' }), containerId: ID };
const unit = { ...sampleContainer({ id: '/system.slice/cron.service', runtime: 'systemd' }), containerId: null };

describe('the header counts containers as docker ps does', () => {
  it('leaves out runtime parents, nested cgroups and systemd units', () => {
    expect(countContainers([parent, web, nested, unit])).toBe(1);
    const line = headerLines({
      snapshot: sampleSnapshot([parent, web, nested, unit]),
      state: initialState(),
      shown: 4,
      width: 160,
      now: new Date(2026, 0, 1),
      glyphs: ASCII_GLYPHS,
    })[0]
      .map((s) => s.text)
      .join('');
    expect(line).toContain('1 containers  4/4 shown');
  });
});

describe('sort arrows', () => {
  for (const [sort, reverse] of [
    ['name', false],
    ['name', true],
    ['cpu', false],
    ['cpu', true],
  ] as const) {
    it(`the header line and the column title agree for --sort ${sort}${reverse ? ' reversed' : ''}`, () => {
      const columns = fitColumns(160);
      const title = headerSpans(columns, sort, reverse, UNICODE_GLYPHS)
        .map((s) => s.text)
        .join('');
      const columnArrow = title.includes('▲') ? '▲' : '▼';
      const header = headerLines({
        snapshot: sampleSnapshot([web]),
        state: initialState({ sort, reverse }),
        shown: 1,
        width: 160,
        now: new Date(2026, 0, 1),
        glyphs: UNICODE_GLYPHS,
      })
        .flat()
        .map((s) => s.text)
        .join('');
      expect(header).toContain(`sort ${sort === 'name' ? 'name' : 'CPU'}`);
      expect(header).toContain(columnArrow);
      expect(header).not.toContain(columnArrow === '▲' ? '▼' : '▲');
      expect(columnArrow).toBe(sort === 'name' ? (reverse ? '▼' : '▲') : reverse ? '▲' : '▼');
    });
  }
});

describe('a limit docker does not know is marked', () => {
  const ctx: RowContext = { glyphs: ASCII_GLYPHS, hostCpus: 2 };
  const docker = { memoryLimitBytes: 256 * MiB, cpus: 0.5, pidsLimit: null, paused: false };
  const base = v2Container({ runtimeConfig: docker, freezer: 'thawed' });
  const agreeing = { ...base, pids: { ...base.pids!, limit: null } };
  const limited = { ...agreeing, memory: { ...agreeing.memory!, limitBytes: 128 * MiB } };
  const nameColumn = fitColumns(160).find((c) => c.id === 'name')!;

  it('in the table, next to the name', () => {
    expect(cell(rowFromContainer(agreeing, ctx), nameColumn, ctx).text).toBe('web');
    expect(cell(rowFromContainer(limited, ctx), nameColumn, ctx)).toEqual({ text: 'web [!=docker]', level: 'warn' });
  });

  it('in the detail view, with what docker restart would put back', () => {
    const text = detailLines({ container: limited, glyphs: ASCII_GLYPHS, nowSeconds: 0 } as never, 100)
      .map((line) => line.map((s) => s.text).join(''))
      .join('\n');
    expect(text).toMatch(/not in docker.*memory limit 128/);
  });
});
