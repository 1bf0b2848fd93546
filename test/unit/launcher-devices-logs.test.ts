// Parsers of issue 10's flags: --device, --device-cgroup-rule, --log-opt, and
// the dev_t split --device uses to build its rule.
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEVICE_RULES, parseDeviceFlag, parseDeviceRule, splitDevT } from '../../src/launcher/devices.js';
import {
  DEFAULT_LOG_MAX_BYTES,
  DEFAULT_LOG_MAX_FILES,
  parseLogOpts,
  rotatedLogNames,
} from '../../src/launcher/logs.js';

describe('--device-cgroup-rule', () => {
  it('accepts docker syntax and normalises spaces', () => {
    expect(parseDeviceRule('c 1:3 rwm')).toBe('c 1:3 rwm');
    expect(parseDeviceRule('  b   *:*  m ')).toBe('b *:* m');
    expect(parseDeviceRule('a *:* r')).toBe('a *:* r');
    expect(parseDeviceRule('c 136:* rw')).toBe('c 136:* rw');
  });
  it.each(['x 1:3 rwm', 'c 1:3', 'c 1 rwm', 'c 1:3 rwx', 'c 1:3 rr', 'c -1:3 r', 'c 99999999999:1 r', ''])(
    'refuses %j (exit 2)',
    (rule) => {
      expect(() => parseDeviceRule(rule)).toThrow(/expected TYPE MAJOR:MINOR ACCESS/);
      try {
        parseDeviceRule(rule);
      } catch (e) {
        expect((e as { exitCode: number }).exitCode).toBe(2);
      }
    },
  );
  it("the default list is runc's: mknod of anything, then the safe character devices and ptys", () => {
    expect(DEFAULT_DEVICE_RULES).toEqual([
      'c *:* m',
      'b *:* m',
      'c 1:3 rwm',
      'c 1:5 rwm',
      'c 1:7 rwm',
      'c 1:8 rwm',
      'c 1:9 rwm',
      'c 5:0 rwm',
      'c 5:1 rwm',
      'c 5:2 rwm',
      'c 136:* rwm',
    ]);
    for (const r of DEFAULT_DEVICE_RULES) expect(parseDeviceRule(r)).toBe(r);
  });
});

describe('--device', () => {
  it('HOST, HOST:CONTAINER, HOST:PERMS, HOST:CONTAINER:PERMS', () => {
    expect(parseDeviceFlag('/dev/loop3')).toEqual({
      hostPath: '/dev/loop3',
      containerPath: '/dev/loop3',
      access: 'rwm',
    });
    expect(parseDeviceFlag('/dev/loop3:/dev/xvdc')).toEqual({
      hostPath: '/dev/loop3',
      containerPath: '/dev/xvdc',
      access: 'rwm',
    });
    expect(parseDeviceFlag('/dev/loop3:r')).toEqual({
      hostPath: '/dev/loop3',
      containerPath: '/dev/loop3',
      access: 'r',
    });
    expect(parseDeviceFlag('/dev/loop3:/dev/disk/x:rw').containerPath).toBe('/dev/disk/x');
  });
  it.each([
    ['loop3', /host path must be absolute/],
    ['/dev/loop3:/etc/x', /under \/dev\//],
    ['/dev/loop3:/dev/../etc/x', /under \/dev\//],
    ['/dev/a:/dev/b:rw:x', /malformed/],
    ['/dev/a::rw', /malformed/],
    ['/dev/a:rr', /repeated permission/],
  ])('refuses %j', (v, why) => {
    expect(() => parseDeviceFlag(v)).toThrow(why);
  });
});

describe('dev_t', () => {
  it("splits as glibc's major()/minor()", () => {
    expect(splitDevT(0x0703)).toEqual({ major: 7, minor: 3 });
    expect(splitDevT(0x100300)).toEqual({ major: 3, minor: 256 }); // minor's high bits above the major's
    expect(splitDevT(259 * 256 + 5)).toEqual({ major: 259, minor: 5 });
    expect(splitDevT(0xfff00000 + 0xfff00 + 0xff)).toEqual({ major: 0xfff, minor: 0xfffff }); // the kernel's 12:20 bits
  });
});

describe('--log-opt', () => {
  it('defaults to 10 MiB x 3 files', () => {
    expect(parseLogOpts([])).toEqual({ maxBytes: DEFAULT_LOG_MAX_BYTES, maxFiles: DEFAULT_LOG_MAX_FILES });
    expect(DEFAULT_LOG_MAX_BYTES * DEFAULT_LOG_MAX_FILES).toBe(30 * 1024 * 1024);
  });
  it('binary units as docker, the last value wins', () => {
    expect(parseLogOpts(['max-size=4k', 'max-file=1'])).toEqual({ maxBytes: 4096, maxFiles: 1 });
    expect(parseLogOpts(['max-size=2M', 'max-size=1g']).maxBytes).toBe(1024 ** 3);
    expect(parseLogOpts(['max-size=100']).maxBytes).toBe(100);
  });
  it.each(['max-size=', 'max-size=1x', 'max-file=0', 'max-file=101', 'max-size=0', 'mode=non-blocking'])(
    'refuses %j',
    (v) => {
      expect(() => parseLogOpts([v])).toThrow(/--log-opt/);
    },
  );
  it('names the rotated files only', () => {
    expect(rotatedLogNames(['a.log', 'a.log.1', 'a.log.12', 'a.log.x', 'ab.log.1', 'a.log.1.tmp'], 'a.log')).toEqual([
      'a.log.1',
      'a.log.12',
    ]);
  });
});
