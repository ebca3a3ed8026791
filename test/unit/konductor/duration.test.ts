import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseDuration } from '../../../src/cli/duration.js';
import { formatGoDuration, GO_DURATION_PATTERN, parseGoDuration } from '../../../src/core/duration.js';

describe('Go durations (spec.ttl)', () => {
  test.each([
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['2h0m0s', 7_200_000], // Go's time.Duration.String()
    ['1.5h', 5_400_000],
    ['90s', 90_000],
    ['500ms', 500],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['1500μs', 1.5],
    ['2000000ns', 2],
    ['1m5s', 65_000],
    ['5ms', 5],
  ])('parses %s', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  test.each(['', 'abc', '15', '0', '-5m', '+5m', '1d', '5 m', ' 5m', '5m ', 'm', '1.m', '.5h', '5M', '1h-30m'])('rejects %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });

  test('formats whole seconds as a short Go duration', () => {
    expect(formatGoDuration(300)).toBe('5m');
    expect(formatGoDuration(7200)).toBe('2h');
    expect(formatGoDuration(5400)).toBe('1h30m');
    expect(formatGoDuration(90)).toBe('1m30s');
    expect(formatGoDuration(3661)).toBe('1h1m1s');
    expect(formatGoDuration(86_400 * 3)).toBe('72h'); // Go has no day unit
    expect(formatGoDuration(0)).toBe('0s');
  });

  test('format and parse round-trip', () => {
    for (const s of [1, 59, 60, 61, 899, 900, 3599, 3600, 3601, 86_399, 2_147_483_647]) {
      expect(parseGoDuration(formatGoDuration(s))).toBe(s * 1000);
    }
  });

  test('the schema pattern accepts exactly what the parser accepts', () => {
    const re = new RegExp(GO_DURATION_PATTERN, 'u');
    for (const text of ['15m', '2h0m0s', '1.5h', '500ms', '1500µs', '1500μs', '', 'abc', '0', '-5m', '1d', '.5h', '1h-30m']) {
      expect(re.test(text)).toBe(parseGoDuration(text) !== undefined);
    }
  });

  test('the committed CRD uses that pattern for spec.ttl', () => {
    const crd = parse(readFileSync(new URL('../../../config/crd/konductor.io_leases.yaml', import.meta.url), 'utf8'));
    const ttl = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.ttl;
    expect(ttl.pattern).toBe(GO_DURATION_PATTERN);
  });

  test('koncli flags still take their own durations (plain seconds and days) through the shared parser', () => {
    expect(parseDuration('90', 'ttl')).toBe(90_000);
    expect(parseDuration('1d2h', 'ttl')).toBe(93_600_000);
    expect(parseDuration('1h30m', 'ttl')).toBe(5_400_000);
    expect(parseDuration('5ms', 'ttl')).toBe(5);
    expect(() => parseDuration('5us', 'ttl')).toThrow(/not a duration/);
    expect(() => parseDuration('-5m', 'ttl')).toThrow(/negative/);
    expect(() => parseDuration('', 'ttl')).toThrow(/not a duration/);
  });
});
