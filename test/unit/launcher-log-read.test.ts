// tstop logs' reading of CRI records, --restart and --tail parsing, the
// report's restart lines and ps's status words: pure parts, on temp files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CriDecoder, logFilesOldestFirst, printLog, type LogsOptions } from '../../src/launcher/log-read.js';
import { parseLogOpts } from '../../src/launcher/logs.js';
import { statusText } from '../../src/launcher/manage.js';
import { parseRestart, restartText } from '../../src/launcher/restart.js';
import { readReport, type ContainerState } from '../../src/launcher/state.js';
import { parseTail } from '../../src/cli/logs.js';

const T1 = '2026-12-06T03:12:00.000000001Z';
const T2 = '2026-12-06T03:12:01.500000000Z';
const T3 = '2026-12-06T03:12:02.000000000Z';

describe('CriDecoder', () => {
  it('joins P pieces up to the F of the same stream, across chunks cut anywhere', () => {
    const text = [
      `${T1} stdout P hel`,
      `${T1} stderr F oops`,
      `${T2} stdout F lo`,
      `${T3} stdout F `,
      'tstop-helper: not a record',
      '',
    ].join('\n');
    for (const cut of [1, 7, 33, 60, text.length - 1]) {
      const d = new CriDecoder();
      const pieces = [...d.push(Buffer.from(text.slice(0, cut))), ...d.push(Buffer.from(text.slice(cut)))];
      expect(
        pieces.map((p) => [p.stream, p.text.toString(), p.startsLine, p.endsLine, p.stamp !== null] as const),
      ).toEqual([
        ['stdout', 'hel', true, false, true],
        ['stderr', 'oops', true, true, true],
        ['stdout', 'lo', false, true, true],
        ['stdout', '', true, true, true],
        ['stdout', 'tstop-helper: not a record', true, true, false],
      ]);
      expect(pieces[2].timeMs).toBe(Date.parse(T2));
    }
  });

  it('keeps bytes that are not UTF-8 as they are', () => {
    const d = new CriDecoder();
    const raw = Buffer.concat([
      Buffer.from(`${T1} stdout F `),
      Buffer.from([0xff, 0xfe, 0x00, 0x41]),
      Buffer.from('\n'),
    ]);
    expect(d.push(raw)[0].text).toEqual(Buffer.from([0xff, 0xfe, 0x00, 0x41]));
  });
});

describe('printLog over rotated files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-logread-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (file: string, lines: string[]): void =>
    fs.writeFileSync(path.join(dir, file), lines.map((l) => `${l}\n`).join(''));
  /** What tstop logs prints: stdout's text, then '|', then stderr's. */
  const print = async (opts: Partial<LogsOptions>): Promise<string> => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const text = { stdout: '', stderr: '' };
    stdout.on('data', (d: Buffer) => (text.stdout += d.toString()));
    stderr.on('data', (d: Buffer) => (text.stderr += d.toString()));
    await printLog(
      dir,
      'c',
      { follow: false, tail: null, sinceMs: null, timestamps: false, ...opts },
      { stdout, stderr },
    );
    return `${text.stdout}|${text.stderr}`;
  };

  beforeEach(() => {
    // Oldest first: c.log.2, c.log.1, c.log; a line split across two files.
    write('c.log.2', [`${T1} stdout F a`, `${T1} stdout P b-`]);
    write('c.log.1', [`${T2} stdout F continued`, `${T2} stderr F err`]);
    write('c.log', [`${T3} stdout F last`]);
    write('c.log.x', ['not a rotated file']);
  });

  it("orders the files oldest first and prints the text only, the container's stderr on stderr", async () => {
    expect(logFilesOldestFirst(dir, 'c').map((f) => path.basename(f))).toEqual(['c.log.2', 'c.log.1', 'c.log']);
    expect(await print({})).toBe('a\nb-continued\nlast\n|err\n');
  });

  it("-t prints each line's first time; --tail counts lines; --since takes a line by its first piece's time", async () => {
    expect(await print({ timestamps: true })).toBe(`${T1} a\n${T1} b-continued\n${T3} last\n|${T2} err\n`);
    expect(await print({ tail: 2 })).toBe('last\n|err\n');
    expect(await print({ tail: 3 })).toBe('b-continued\nlast\n|err\n');
    expect(await print({ tail: 0 })).toBe('|');
    expect(await print({ sinceMs: Date.parse(T2) })).toBe('last\n|err\n');
    expect(await print({ sinceMs: Date.parse(T2), tail: 1 })).toBe('last\n|');
  });

  it('-f on a container that has ended (no report lock held) prints everything and returns', async () => {
    expect(await print({ follow: true, pollMs: 10 })).toBe('a\nb-continued\nlast\n|err\n');
  });
});

describe('--restart, --tail, --log-opt', () => {
  it.each([
    [undefined, 'no', 0],
    ['no', 'no', 0],
    ['always', 'always', 0],
    ['unless-stopped', 'unless-stopped', 0],
    ['on-failure', 'on-failure', 0],
    ['on-failure:3', 'on-failure', 3],
  ])('--restart %s', (value, name, max) => {
    const p = parseRestart(value);
    expect(p).toEqual({ name, maxRetries: max });
    if (value !== undefined) expect(restartText(p)).toBe(value);
  });

  it.each([
    ['bogus', /expected no, on-failure\[:MAX-RETRIES\], always or unless-stopped/],
    ['always:2', /only on-failure takes a maximum retry count/],
    ['on-failure:-1', /expected no/],
    ['on-failure:', /expected no/],
    ['', /expected no/],
  ])('refuses --restart %j', (value, message) => {
    expect(() => parseRestart(value)).toThrow(message);
  });

  it('--tail: a count or all', () => {
    expect(parseTail(undefined)).toBeNull();
    expect(parseTail('all')).toBeNull();
    expect(parseTail('0')).toBe(0);
    expect(parseTail('25')).toBe(25);
    for (const bad of ['-1', '1.5', 'ten', '']) expect(() => parseTail(bad)).toThrow(/--tail/);
  });

  it('max-size leaves room for a record', () => {
    expect(parseLogOpts(['max-size=100']).maxBytes).toBe(100);
    expect(() => parseLogOpts(['max-size=99'])).toThrow(/from 100 bytes/);
  });
});

describe('the report and ps', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-report-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('counts restarts; the last line a restart= means restarting; a later start clears an error', () => {
    fs.writeFileSync(path.join(dir, 'c.report'), 'pid=10\nexit=1\nrestart=1\npid=11\nexit=2\nrestart=2\n');
    expect(readReport(dir, 'c')).toEqual({ pid: 11, exit: 2, error: null, restarts: 2, restarting: true });
    fs.appendFileSync(path.join(dir, 'c.report'), 'error=mount: gone\nexit=125\nrestart=3\npid=12\n');
    expect(readReport(dir, 'c')).toEqual({ pid: 12, exit: 125, error: null, restarts: 3, restarting: false });
  });

  it('ps words: Up, Restarting and Exited with the restart count', () => {
    const now = Date.parse('2026-12-06T03:13:00Z');
    const base = {
      status: 'running',
      started: '2026-12-06T03:12:30Z',
      finished: '2026-12-06T03:12:58Z',
      exitCode: 1,
      oomKills: 0,
    } as unknown as ContainerState;
    expect(statusText({ ...base, restartCount: 0 }, now)).toBe('Up 30 seconds');
    expect(statusText({ ...base, restartCount: 1 }, now)).toBe('Up 30 seconds, 1 restart');
    expect(statusText({ ...base, restartCount: 4, restarting: true }, now)).toBe(
      'Restarting (1) 2 seconds ago, 4 restarts',
    );
    expect(statusText({ ...base, status: 'exited', restartCount: 3 }, now)).toBe(
      'Exited (1) 2 seconds ago, 3 restarts',
    );
  });
});
