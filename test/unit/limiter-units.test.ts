// The unit parsers against their formatters (property-based, fast-check) and
// against the exact values and messages an on-call person meets.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LimitError } from '../../src/limiter/api.js';
import {
  blkioWeightToIoWeight,
  formatBytesExact,
  formatCpus,
  formatDeviceRule,
  formatList,
  MAX_BYTES,
  parseBytes,
  parseCpus,
  parseDeviceRate,
  parseDeviceRule,
  parseList,
  sharesToWeight,
  UNLIMITED,
  weightToShares,
  type DeviceLookup,
} from '../../src/limiter/units.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('expected a LimitError');
}

const lookup: DeviceLookup = (p) =>
  p === '/dev/sda'
    ? { major: 8, minor: 0, isBlock: true }
    : p === '/dev/null'
      ? { major: 1, minor: 3, isBlock: false }
      : 'missing';

describe('sizes', () => {
  it.each([
    ['512m', 512 * MiB],
    ['2g', 2 * GiB],
    ['2G', 2 * GiB],
    ['1.5GiB', 1.5 * GiB],
    ['1.5gb', 1.5 * GiB],
    ['1.5 GiB', 1.5 * GiB],
    ['100kb', 100 * KiB],
    ['100KiB', 100 * KiB],
    ['4096', 4096],
    ['4096b', 4096],
    ['0.5k', 512],
    ['0.3k', 307], // 307.2 bytes: the fraction of a byte is dropped, as docker does
    ['1t', 1024 * GiB],
    ['7p', 7 * 1024 * 1024 * GiB],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseBytes('--memory', text)).toBe(bytes);
  });

  it('takes unlimited, max and (where docker does) -1', () => {
    expect(parseBytes('--memory', 'unlimited', { unlimited: true })).toBe(UNLIMITED);
    expect(parseBytes('--memory', 'max', { unlimited: true })).toBe(UNLIMITED);
    expect(parseBytes('--memory-swap', '-1', { unlimited: true, minusOne: true })).toBe(UNLIMITED);
    expect(message(() => parseBytes('--memory-reservation', '-1', { unlimited: true }))).toBe(
      "--memory-reservation '-1': a size cannot be negative (to lift the limit use 'unlimited')",
    );
  });

  it.each([
    ['12x', "--memory '12x': unknown unit (units: k, m, g, t, p; examples: 512m, 2g, 1.5GiB, 1073741824)"],
    ['', "--memory '': not a size (examples: 512m, 2g, 1.5GiB, 1073741824)"],
    ['1.2.3g', "--memory '1.2.3g': not a size (examples: 512m, 2g, 1.5GiB, 1073741824)"],
    ['1e9', "--memory '1e9': not a size (examples: 512m, 2g, 1.5GiB, 1073741824)"],
    [' 1g', "--memory ' 1g': unexpected spaces (examples: 512m, 2g, 1.5GiB, 1073741824)"],
    ['-5m', "--memory '-5m': a size cannot be negative"],
    ['9p', "--memory '9p': too large (the most tstop accepts is 8PiB)"],
    ['99999999999999999999', "--memory '99999999999999999999': too large (the most tstop accepts is 8PiB)"],
    ['0x10', "--memory '0x10': not a size (examples: 512m, 2g, 1.5GiB, 1073741824)"],
  ])('refuses %j', (text, msg) => {
    expect(message(() => parseBytes('--memory', text))).toBe(msg);
  });

  it('formatBytesExact is the inverse of parseBytes for every byte count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_BYTES }), (n) => parseBytes('--memory', formatBytesExact(n)) === n),
      { numRuns: 2000 },
    );
  });

  it('formatBytesExact picks the largest unit that divides exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 20 }), fc.constantFrom(0, 10, 20, 30), (k, shift) => {
        const n = k * 2 ** shift;
        const s = formatBytesExact(n);
        return parseBytes('--memory', s) === n && s.length <= String(n).length;
      }),
    );
    expect(formatBytesExact(512 * MiB)).toBe('512m');
    expect(formatBytesExact(1536 * KiB)).toBe('1536k');
    expect(formatBytesExact(4095)).toBe('4095');
  });

  it('parses every spelling of NUMBER[.FRACTION][ ]UNIT[i][b] to floor(value * unit)', () => {
    const unit = fc.constantFrom(['', 0n], ['k', 10n], ['m', 20n], ['g', 30n], ['t', 40n]);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999_999 }),
        fc.option(fc.stringMatching(/^\d{1,6}$/), { nil: undefined }),
        unit,
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (whole, fraction, [u, shift], upper, i, b, space) => {
          let suffix = u ? u + (i ? 'i' : '') + (b ? 'b' : '') : b ? 'b' : '';
          if (upper) suffix = suffix.toUpperCase();
          const text = `${whole}${fraction !== undefined ? '.' + fraction : ''}${space && suffix ? ' ' : ''}${suffix}`;
          const scale = 10n ** BigInt(fraction?.length ?? 0);
          const expected = (BigInt(`${whole}${fraction ?? ''}`) << shift) / scale;
          if (expected > BigInt(MAX_BYTES)) return /too large/.test(message(() => parseBytes('--memory', text)));
          return BigInt(parseBytes('--memory', text) as number) === expected;
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('CPUs', () => {
  it('reads decimals exactly as nano-CPUs and formats them back', () => {
    expect(parseCpus('--cpus', '0.5')).toBe(500_000_000);
    expect(parseCpus('--cpus', '1.25')).toBe(1_250_000_000);
    expect(parseCpus('--cpus', '2')).toBe(2_000_000_000);
    expect(parseCpus('--cpus', '0.000000001')).toBe(1);
    expect(formatCpus(500_000_000)).toBe('0.5');
    expect(formatCpus(2_000_000_000)).toBe('2');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1024 * 1e9 }), (n) => parseCpus('--cpus', formatCpus(n)) === n),
      {
        numRuns: 2000,
      },
    );
  });

  it.each([
    ['-1', "--cpus '-1': CPUs cannot be negative (to lift the limit use 'unlimited')"],
    ['half', "--cpus 'half': not a number of CPUs (examples: 0.5, 1.5, 2)"],
    ['0.5c', "--cpus '0.5c': not a number of CPUs (examples: 0.5, 1.5, 2)"],
    ['0.1234567891', "--cpus '0.1234567891': more than 9 decimals (the finest step is a billionth of a CPU)"],
  ])('refuses %j', (text, msg) => {
    expect(message(() => parseCpus('--cpus', text, { unlimited: true }))).toBe(msg);
  });
});

describe('CPU and memory node lists', () => {
  it('formats as the kernel prints and parses back', () => {
    expect(formatList([0, 1, 2, 3, 6])).toBe('0-3,6');
    expect(formatList([0, 1])).toBe('0-1');
    expect(formatList([3, 1, 1])).toBe('1,3');
    expect(parseList('--cpuset-cpus', '0-3,6')).toEqual([0, 1, 2, 3, 6]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 40 }), (cpus) => {
        const sorted = [...cpus].sort((a, b) => a - b);
        const text = formatList(cpus);
        return (
          JSON.stringify(parseList('--cpuset-cpus', text)) === JSON.stringify(sorted) &&
          formatList(parseList('--cpuset-cpus', text)) === text
        );
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['3-1', "--cpuset-cpus '3-1': range '3-1' runs backwards"],
    ['', "--cpuset-cpus '': empty: give the CPUs to use, e.g. 0-1 or 0,2"],
    ['1,,2', "--cpuset-cpus '1,,2': '' is not a CPU number or range (examples: 0-3, 0,2, 1)"],
    ['0-99999', "--cpuset-cpus '0-99999': CPU numbers above 8191 do not exist"],
    ['a', "--cpuset-cpus 'a': 'a' is not a CPU number or range (examples: 0-3, 0,2, 1)"],
  ])('refuses %j', (text, msg) => {
    expect(message(() => parseList('--cpuset-cpus', text))).toBe(msg);
  });
});

describe('devices', () => {
  it('reads DEVICE:RATE with a path or MAJOR:MINOR and the rate after the last colon', () => {
    expect(parseDeviceRate('--device-read-bps', '/dev/sda:10mb', 'bytes', lookup)).toEqual({
      device: { text: '/dev/sda', path: '/dev/sda', major: 8, minor: 0 },
      rate: 10 * MiB,
    });
    expect(parseDeviceRate('--device-read-iops', '8:16:1000', 'iops', lookup).rate).toBe(1000);
    expect(parseDeviceRate('--device-read-bps', '8:0:unlimited', 'bytes', lookup).rate).toBe(UNLIMITED);
  });

  it.each([
    ['/dev/null:1mb', "--device-read-bps '/dev/null:1mb': '/dev/null' is not a block device"],
    ['/dev/nope:1mb', "--device-read-bps '/dev/nope:1mb': no such device '/dev/nope'"],
    ['/dev/sda', "--device-read-bps '/dev/sda': expected DEVICE:RATE, e.g. /dev/sda:10mb or 8:0:10mb"],
    ['/dev/sda:', "--device-read-bps '/dev/sda:': expected DEVICE:RATE, e.g. /dev/sda:10mb or 8:0:10mb"],
    [
      '/dev/sda:0',
      "--device-read-bps '/dev/sda:0': a rate of 0 would not throttle anything; use 'unlimited' to lift the throttle",
    ],
    [
      '/dev/sda:fast',
      "--device-read-bps '/dev/sda:fast': rate 'fast' is not a size per second (examples: 10mb, 512k, 1048576)",
    ],
    ['sda:1mb', "--device-read-bps 'sda:1mb': 'sda' is neither a device path (/dev/...) nor MAJOR:MINOR"],
  ])('refuses %j', (text, msg) => {
    expect(message(() => parseDeviceRate('--device-read-bps', text, 'bytes', lookup))).toBe(msg);
  });

  it('reads v1 device rules and formats them as the kernel lists them', () => {
    expect(formatDeviceRule(parseDeviceRule('--device-allow', 'c 1:3 mwr'))).toBe('c 1:3 rwm');
    expect(formatDeviceRule(parseDeviceRule('--device-allow', 'b 8:* r'))).toBe('b 8:* r');
    expect(parseDeviceRule('--device-deny', 'a')).toEqual({ type: 'a', major: null, minor: null, access: 'rwm' });
    expect(message(() => parseDeviceRule('--device-allow', 'c 1:3 rwx'))).toBe(
      "--device-allow 'c 1:3 rwx': expected a device rule 'TYPE MAJOR:MINOR ACCESS' such as 'c 1:3 rwm', 'b 8:* r' or 'a'",
    );
    expect(message(() => parseDeviceRule('--device-allow', 'c 1:3 rr'))).toBe(
      "--device-allow 'c 1:3 rr': access 'rr' repeats a letter",
    );
  });
});

describe('shares and weights (runc >= 1.3.2 conversion)', () => {
  it('maps the ends and the defaults onto each other', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(100);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(weightToShares(100)).toBe(1024);
    expect(weightToShares(1)).toBe(2);
    expect(weightToShares(10000)).toBe(262144);
    expect(sharesToWeight(512)).toBe(59);
    expect(sharesToWeight(2048)).toBe(174);
  });

  it('weightToShares is a right inverse: every weight survives the round trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10000 }), (w) => sharesToWeight(weightToShares(w)) === w),
      {
        numRuns: 10000,
      },
    );
  });

  it('is monotonic', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 262143 }), (s) => sharesToWeight(s) <= sharesToWeight(s + 1)),
      { numRuns: 5000 },
    );
  });

  it("converts docker's blkio weight to io.weight as runc does", () => {
    expect(blkioWeightToIoWeight(10)).toBe(1);
    expect(blkioWeightToIoWeight(1000)).toBe(10000);
    expect(blkioWeightToIoWeight(500)).toBe(4950);
  });
});
