import { describe, expect, it } from '@jest/globals';
import { decodeSemaphore, encodeSemaphore } from '../../../src/core/semaphore/codec.js';
import { KoncliError } from '../../../src/core/errors.js';

// kube-lock's README, byte for byte as its Go encoder writes it.
const KUBE_LOCK_EXAMPLE = '{"max":1,"holders":{"holder-1":{"date":"2018-08-19T19:14:24Z","reason":"db restart"}}}';

const corruptness = (value: string) => {
  try {
    decodeSemaphore('sem', value);
  } catch (err) {
    return err instanceof KoncliError ? err.kind : 'not a KoncliError';
  }
  return 'accepted';
};

describe('semaphore codec', () => {
  it("reads kube-lock's own example and writes it back byte for byte", () => {
    const state = decodeSemaphore('lock', KUBE_LOCK_EXAMPLE);
    expect(state.max).toBe(1);
    expect(state.holders['holder-1']).toEqual({ date: '2018-08-19T19:14:24Z', reason: 'db restart', unknown: {} });
    expect(encodeSemaphore(state)).toBe(KUBE_LOCK_EXAMPLE);
  });

  it("round-trips kube-lock's empty semaphore", () => {
    expect(encodeSemaphore(decodeSemaphore('lock', '{"max":1,"holders":{}}'))).toBe('{"max":1,"holders":{}}');
  });

  it('reads the indented form kubectl | jq shows', () => {
    const pretty = JSON.stringify(JSON.parse(KUBE_LOCK_EXAMPLE), null, 2);
    expect(encodeSemaphore(decodeSemaphore('lock', pretty))).toBe(KUBE_LOCK_EXAMPLE);
  });

  it("keeps koncli's holder fields inside the holder entry, after kube-lock's", () => {
    const state = decodeSemaphore('s', '{"max":2,"holders":{}}');
    state.holders['b'] = { date: '2024-01-01T00:00:00Z', reason: '', ttlSeconds: 30, expires: '2024-01-01T00:00:31.000Z', unknown: {} };
    state.holders['a'] = { date: '2024-01-01T00:00:00Z', reason: 'x', unknown: {} };
    const text = encodeSemaphore(state);
    expect(text).toBe(
      '{"max":2,"holders":{"a":{"date":"2024-01-01T00:00:00Z","reason":"x"},' +
        '"b":{"date":"2024-01-01T00:00:00Z","reason":"","ttlSeconds":30,"expires":"2024-01-01T00:00:31.000Z"}}}',
    );
    expect(decodeSemaphore('s', text)).toEqual(state);
  });

  it('preserves unknown fields at the top level and in holder entries', () => {
    const text = '{"max":3,"holders":{"h":{"date":"d","reason":"r","pid":42,"meta":{"a":[1,2]}}},"owner":"team-db","v":2}';
    const state = decodeSemaphore('s', text);
    expect(state.unknown).toEqual({ owner: 'team-db', v: 2 });
    expect(state.holders.h.unknown).toEqual({ pid: 42, meta: { a: [1, 2] } });
    expect(encodeSemaphore(state)).toBe(text);
  });

  it('treats missing or null holders as an empty semaphore, as kube-lock does', () => {
    expect(decodeSemaphore('s', '{"max":2}').holders).toEqual({});
    expect(decodeSemaphore('s', '{"max":2,"holders":null}').holders).toEqual({});
    expect(decodeSemaphore('s', '{"max":2,"holders":{"h":{}}}').holders.h).toEqual({ date: '', reason: '', unknown: {} });
  });

  it.each([
    ['not JSON', '{"max":1,'],
    ['empty', ''],
    ['an array', '[1]'],
    ['null', 'null'],
    ['missing max', '{"holders":{}}'],
    ['max 0', '{"max":0,"holders":{}}'],
    ['negative max', '{"max":-2,"holders":{}}'],
    ['fractional max', '{"max":1.5,"holders":{}}'],
    ['max as a string', '{"max":"2","holders":{}}'],
    ['holders as an array', '{"max":1,"holders":["a"]}'],
    ['holders as a string', '{"max":1,"holders":"a"}'],
    ['a holder that is a string', '{"max":1,"holders":{"a":"b"}}'],
    ['a null holder', '{"max":1,"holders":{"a":null}}'],
    ['a numeric date', '{"max":1,"holders":{"a":{"date":5}}}'],
    ['a zero ttlSeconds', '{"max":1,"holders":{"a":{"ttlSeconds":0}}}'],
    ['an unparseable expires', '{"max":1,"holders":{"a":{"ttlSeconds":5,"expires":"soon"}}}'],
  ])('refuses %s as corrupt', (_what, value) => {
    expect(corruptness(value)).toBe('corrupt');
  });

  it('names the annotation and how to fix it in the corrupt message', () => {
    expect(() => decodeSemaphore('db', '{"max":0}')).toThrow(/semaphore db: annotation kube-lock=.*"max".*kubectl annotate configmap db kube-lock-/);
  });
});
