import { decodeExtras, encodeExtras, ANNOTATIONS } from '../../../src/core/lease/annotations.js';

describe('koncli lease annotations', () => {
  test('a Lease without koncli annotations reads as defaults', () => {
    expect(decodeExtras({ 'other.tool/x': 'y' })).toEqual({ renewals: 0, priority: 0, renewable: true, reason: undefined, queue: { next: 0, waiters: [] } });
  });

  test('round-trips and leaves foreign annotations alone', () => {
    const extras = { renewals: 4, priority: -2, renewable: false, reason: 'db', queue: { next: 3, waiters: [{ id: 'w', priority: 1, seq: 2, beat: 5 }] } };
    const encoded = encodeExtras(extras, { 'other.tool/x': 'y' });
    expect(encoded['other.tool/x']).toBe('y');
    expect(decodeExtras(encoded)).toEqual(extras);
  });

  test('a queue-only write touches only the waiters annotation', () => {
    const encoded = encodeExtras(
      { renewals: 9, priority: 9, renewable: true, queue: { next: 1, waiters: [{ id: 'w', priority: 0, seq: 0, beat: 0 }] } },
      {},
      'queue',
    );
    expect(Object.keys(encoded)).toEqual([ANNOTATIONS.waiters]);
  });

  test.each([
    [ANNOTATIONS.renewals, 'abc'],
    [ANNOTATIONS.priority, '1.5'],
    [ANNOTATIONS.renewable, 'yes'],
    [ANNOTATIONS.waiters, '{not json'],
    [ANNOTATIONS.waiters, '{"next":1,"waiters":[{"id":""}]}'],
  ])('corrupt %s=%s is reported, naming the annotation', (key, value) => {
    expect(() => decodeExtras({ [key]: value })).toThrow(expect.objectContaining({ kind: 'corrupt', message: expect.stringContaining(key) }));
  });
});
