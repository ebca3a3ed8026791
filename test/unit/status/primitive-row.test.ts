// core/status/primitive-row.ts: any koncli primitive stored as a labelled ConfigMap becomes a LockRow,
// its claims found by their common shape (docs/formats.md) whatever the kind, judged on this
// machine's clock; what cannot be read is listed as corrupt.
import { KoncliError } from '../../../src/core/errors.js';
import { ExpiryTracker } from '../../../src/core/expiry.js';
import type { RecordObject } from '../../../src/core/claim/model.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { claimsIn, primitiveRow } from '../../../src/core/status/primitive-row.js';
import { FakeClock } from '../../support/fake-clock.js';

const clock = new FakeClock();
const serverClock = new ServerClock();
serverClock.sample(clock.now(), clock.now(), clock.now());
const ctx = () => ({ clock, tracker: new ExpiryTracker(clock, serverClock) });
const iso = (ms: number) => new Date(ms).toISOString();

const claim = (holder: string, ttlSeconds?: number) => ({
  holder,
  acquiredAt: iso(clock.wallNow() - 1000),
  ...(ttlSeconds !== undefined && { ttlSeconds, expiresAt: iso(clock.wallNow() + ttlSeconds * 1000) }),
});
const obj = (kind: string, record: unknown): RecordObject & { createdAt: string } => ({
  name: `${kind}-1`,
  namespace: 'ops',
  version: '1',
  uid: 'u1',
  labelledKind: kind,
  record: typeof record === 'string' ? record : JSON.stringify(record),
  createdAt: iso(clock.wallNow() - 60_000),
});

describe('primitiveRow', () => {
  test("a mutex's holder: held until its TTL runs out, then expired", async () => {
    const row = primitiveRow(obj('mutex', { ttlSeconds: 60, holder: claim('pod-a', 60), fencingToken: 3 }), ctx());
    expect(row).toMatchObject({
      kind: 'mutex',
      namespace: 'ops',
      name: 'mutex-1',
      state: 'held',
      ttlSeconds: 60,
      holders: [{ holder: 'pod-a', state: 'held' }],
    });
    expect(Date.parse(row.expiresAt!)).toBe(clock.wallNow() + 60_000);
    const c = ctx();
    const stored = obj('mutex', { holder: claim('pod-a', 60), fencingToken: 3 });
    primitiveRow(stored, c);
    const lapsesAt = clock.wallNow() + 60_000;
    await clock.advance(61_000);
    const expired = primitiveRow(stored, c);
    expect(expired).toMatchObject({ state: 'expired', holders: [{ holder: 'pod-a', state: 'expired' }] });
    expect(Date.parse(expired.expiresAt!)).toBe(lapsesAt); // when it lapsed (status shows "expired 1s ago")
  });

  test("an rwmutex's waiting writers are waiters, not holders: WAITERS counts the live ones", () => {
    const waiting = { holder: 'writer-1', waitingSince: iso(clock.wallNow()), ttlSeconds: 30, expiresAt: iso(clock.wallNow() + 30_000) };
    const row = primitiveRow(obj('rwmutex', { writer: null, readers: [claim('reader-1', 60)], waitingWriters: [waiting], fencingToken: '7' }), ctx());
    expect(row).toMatchObject({ state: 'held', waiters: 1, holders: [{ holder: 'reader-1', state: 'held' }] });
    expect(row.holders).toHaveLength(1);
  });

  test("a once's runner is a claim; its completed run (no acquiredAt) is not: done is free", () => {
    const run = { holder: 'pod-2', startedAt: iso(0), finishedAt: iso(1), exitCode: 0, expiresAt: iso(clock.wallNow() + 1e6) };
    expect(primitiveRow(obj('once', { runner: claim('pod-3', 30), done: null, attempts: 1 }), ctx())).toMatchObject({
      state: 'held',
      holders: [{ holder: 'pod-3' }],
    });
    expect(primitiveRow(obj('once', { runner: null, done: run, attempts: 1, lastFailure: run }), ctx())).toMatchObject({ state: 'free', holders: [] });
  });

  test('a kind koncli status has never heard of: claims in lists and maps, without TTL it lasts until released', () => {
    const record = { writer: null, readers: [claim('r1', 30), claim('r2')], extra: { nested: { gate: claim('g1', 30) } } };
    const row = primitiveRow(obj('rwmutex', record), ctx());
    expect(row.kind).toBe('rwmutex');
    expect(row.holders.map((h) => h.holder)).toEqual(['r1', 'r2', 'g1']);
    expect(row).toMatchObject({ state: 'held', expiresAt: null, ttlSeconds: null });
    expect(claimsIn('barrier', 'b', { arrived: ['a', 'b'], expected: 3 })).toEqual([]);
  });

  test('a record that is not JSON, a claim with a field of the wrong type, or no record: corrupt, listed', () => {
    expect(primitiveRow(obj('mutex', 'not json'), ctx())).toMatchObject({ state: 'held', problem: expect.stringMatching(/not JSON/) });
    expect(primitiveRow(obj('mutex', { holder: { holder: 'x', acquiredAt: 'now', ttlSeconds: 'long' } }), ctx()).problem).toMatch(/ttlSeconds/);
    expect(primitiveRow({ ...obj('gate', {}), record: undefined }, ctx()).problem).toMatch(/no koncli.dev\/gate annotation/);
  });

  test("an object its store could not read (a konductor.io/v1 object's field): corrupt, with the store's own message", () => {
    const unreadable = new KoncliError('corrupt', 'mutexes.konductor.io ops/mutex-1 has status.holder 7, not a string');
    expect(primitiveRow({ ...obj('mutex', {}), record: '', unreadable }, ctx())).toMatchObject({ kind: 'mutex', problem: unreadable.message });
  });
});
