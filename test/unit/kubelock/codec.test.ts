import {
  DEFAULT_TTL_NS,
  decodeLock,
  encodeLock,
  formatCreatedAt,
  lockAnnotationKey,
  lockNameOf,
  parseCreatedAt,
  ttlToMs,
} from '../../../src/core/kubelock/codec.js';

const GIANTSWARM = '{"owner":"operator-v1.2.0","createdAt":"2020-03-25T10:00:00.123456789Z","ttl":300000000000}';
const key = lockAnnotationKey('ip-allocation');

describe('kubelock codec', () => {
  test("the annotation key is giantswarm/kubelock's", () => {
    expect(key).toBe('kubelock.giantswarm.io/ip-allocation');
    expect(lockNameOf(key)).toBe('ip-allocation');
    expect(lockNameOf('other.io/ip-allocation')).toBeUndefined();
  });

  test('decodes the giantswarm example exactly and re-encodes it byte for byte', () => {
    const data = decodeLock(key, GIANTSWARM);
    expect(data).toEqual({
      owner: 'operator-v1.2.0',
      createdAt: '2020-03-25T10:00:00.123456789Z',
      createdAtNs: 1585130400123456789n,
      ttlNs: 300_000_000_000n,
    });
    expect(encodeLock({ owner: data.owner, createdAtNs: data.createdAtNs!, ttlNs: data.ttlNs })).toBe(GIANTSWARM);
  });

  test('createdAt keeps nanoseconds through a round trip and is always written with nine digits, UTC', () => {
    for (const ns of [1585130400123456789n, 1585130400000000001n, 1585130400999999999n, 1585130400000000000n]) {
      const text = formatCreatedAt(ns);
      expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);
      expect(parseCreatedAt(text)).toBe(ns);
    }
    expect(formatCreatedAt(1585130400000000000n)).toBe('2020-03-25T10:00:00.000000000Z');
  });

  test('reads createdAt as Go writes it: trimmed fractions, no fraction, other offsets', () => {
    expect(parseCreatedAt('2020-03-25T10:00:00.1234Z')).toBe(1585130400123400000n);
    expect(parseCreatedAt('2020-03-25T10:00:00Z')).toBe(1585130400000000000n);
    expect(parseCreatedAt('2020-03-25T12:00:00.5+02:00')).toBe(1585130400500000000n);
    expect(parseCreatedAt('2020-02-30T10:00:00Z')).toBeUndefined();
    expect(parseCreatedAt('yesterday')).toBeUndefined();
  });

  test('ttl is nanoseconds, exact even beyond 2^53, and rounds up to milliseconds', () => {
    const big = '{"owner":"a","createdAt":"2020-03-25T10:00:00Z","ttl":9007199254740993123}';
    expect(decodeLock(key, big).ttlNs).toBe(9007199254740993123n);
    expect(decodeLock(key, '{"owner":"a","createdAt":"2020-03-25T10:00:00Z","ttl":3000000000}').ttlNs).toBe(3_000_000_000n);
    expect(ttlToMs(3_000_000_000n)).toBe(3000);
    expect(ttlToMs(1n)).toBe(1);
    expect(ttlToMs(0n)).toBe(0);
    expect(ttlToMs(-5n)).toBe(0);
  });

  test('the default TTL is five minutes, also for a record without ttl', () => {
    expect(DEFAULT_TTL_NS).toBe(300_000_000_000n);
    expect(decodeLock(key, '{"owner":"a","createdAt":"2020-03-25T10:00:00Z"}').ttlNs).toBe(DEFAULT_TTL_NS);
  });

  test('escapes owners as Go does', () => {
    const value = encodeLock({ owner: 'a<b>&"c"', createdAtNs: 0n, ttlNs: 1n });
    expect(value).toBe('{"owner":"a\\u003cb\\u003e\\u0026\\"c\\"","createdAt":"1970-01-01T00:00:00.000000000Z","ttl":1}');
    expect(decodeLock(key, value).owner).toBe('a<b>&"c"');
  });

  test.each([
    ['not JSON', 'nope'],
    ['not a JSON object', '[1]'],
    ['owner is not a string', '{"owner":1}'],
    ['createdAt is not an RFC 3339 time', '{"owner":"a","createdAt":"soon"}'],
    ['ttl is not a whole number of nanoseconds', '{"owner":"a","ttl":"5m"}'],
    ['ttl is not a whole number of nanoseconds', '{"owner":"a","ttl":1.5}'],
  ])('a record that is %s is corrupt', (why, value) => {
    expect(() => decodeLock(key, value)).toThrow(expect.objectContaining({ kind: 'corrupt', message: expect.stringContaining(why) }));
  });
});
