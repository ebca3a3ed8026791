// The mutex descriptor and its planners on the claim engine, with the in-memory record store and a
// FakeClock: one holder at a time, lapse by the observed-time rule, unlock rules (issue 22), force
// with --if-holder, foreign and corrupt records left alone, waiting on the watch.
import { describe, expect, it } from '@jest/globals';
import { decide, deleteRecord, readRecord } from '../../../src/core/claim/engine.js';
import { claimContext, type ClaimContext } from '../../../src/core/claim/model.js';
import { isKind, KoncliError } from '../../../src/core/errors.js';
import { describeMutex, mutexKind, planMutexCreate, planMutexLock, planMutexUnlock, type MutexUnlockRequest } from '../../../src/core/primitives/mutex.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { advanceInSteps, FakeClock, flush } from '../../support/fake-clock.js';
import { MemoryRecordStore } from '../../support/memory-record-store.js';
import { rejection } from '../../support/rejection.js';

function setup() {
  const clock = new FakeClock();
  const store = new MemoryRecordStore('mutex');
  const serverClock = new ServerClock();
  serverClock.sample(clock.now(), clock.now(), clock.now());
  const ctx = (): ClaimContext => claimContext(store, clock, serverClock); // one per process
  return { clock, store, ctx };
}

const lock = (ctx: ClaimContext, clock: FakeClock, holder: string, opts: { ttlSeconds?: number; wait?: boolean; timeoutMs?: number } = {}) =>
  decide(ctx, mutexKind, 'm', planMutexLock({ name: 'm', holder, ttlSeconds: opts.ttlSeconds }, clock), {
    wait: opts.wait ?? false,
    timeoutMs: opts.timeoutMs,
  });
const unlock = (ctx: ClaimContext, req: Partial<MutexUnlockRequest> & { holder: string }) =>
  decide(ctx, mutexKind, 'm', planMutexUnlock({ name: 'm', namespace: 'ns', force: false, ...req }), { wait: false });
const record = async (store: MemoryRecordStore) => JSON.parse((await store.get('m'))!.record!) as Record<string, unknown>;

describe('mutex lock', () => {
  it('creates the mutex free, then takes it with the default TTL; the token is the version the grant was guarded on', async () => {
    const { store, ctx, clock } = setup();
    const first = await lock(ctx(), clock, 'a');
    // Revision 1: the mutex created holding nothing; revision 2: the grant, guarded on 1.
    expect(store.history.map((r) => JSON.parse(r).holder?.holder ?? null)).toEqual([null, 'a']);
    expect(first.result).toMatchObject({ outcome: 'acquired', fencingToken: '1' });
    expect(first.result.object.version).toBe('2');
    expect(await record(store)).toEqual({
      holder: { holder: 'a', acquiredAt: expect.any(String), ttlSeconds: 300, expiresAt: expect.any(String) },
      fencingToken: '1',
    });
    const again = await lock(ctx(), clock, 'a');
    expect(again.result).toMatchObject({ outcome: 'refreshed', fencingToken: '1' });
    await unlock(ctx(), { holder: 'a' });
    const unlockedAt = (await store.get('m'))!.version;
    expect((await lock(ctx(), clock, 'b')).result.fencingToken).toBe(unlockedAt);
  });

  it('gives a holder after a delete and re-create a greater token than one from before (tokens used to restart at 1)', async () => {
    const { store, ctx, clock } = setup();
    expect(await store.get('m')).toBeNull();
    const old = (await lock(ctx(), clock, 'a')).result.fencingToken;
    await deleteRecord(ctx(), mutexKind, 'm', () => {}); // delete --force: a keeps running with its token
    await decide(ctx(), mutexKind, 'm', planMutexCreate('m', undefined), { wait: false });
    const now = (await lock(ctx(), clock, 'b')).result.fencingToken;
    expect(BigInt(now)).toBeGreaterThan(BigInt(old));
    await deleteRecord(ctx(), mutexKind, 'm', () => {}); // and when lock itself creates it
    expect(BigInt((await lock(ctx(), clock, 'c')).result.fencingToken)).toBeGreaterThan(BigInt(now));
    expect(JSON.parse((await store.get('m'))!.record!)).toMatchObject({ holder: { holder: 'c' } });
  });

  it('never hands out a token at or below the recorded one: an old counter, a token written by hand', async () => {
    const { store, ctx, clock } = setup();
    store.put('m', '{"holder":null,"fencingToken":7}');
    expect((await lock(ctx(), clock, 'a')).result.fencingToken).toBe('8');
    await unlock(ctx(), { holder: 'a' });
    store.put('m', '{"holder":null,"fencingToken":"123456789012345678901234567890"}');
    expect((await lock(ctx(), clock, 'b')).result.fencingToken).toBe('123456789012345678901234567891');
  });

  it('refuses a second holder with busy naming the first, and writes nothing', async () => {
    const { store, ctx, clock } = setup();
    await lock(ctx(), clock, 'a', { ttlSeconds: 60 });
    const written = store.history.length;
    const err = await rejection(lock(ctx(), clock, 'b'));
    expect(isKind(err, 'busy')).toBe(true);
    expect(err.message).toMatch(/^mutex m is held by a until \S+ \(in 60s by this machine's clock\) unless renewed$/);
    expect(err.details).toEqual({ holder: 'a', rule: expect.stringMatching(/observed-time rule/) });
    expect(store.history).toHaveLength(written);
  });

  it("takes a crashed holder's mutex only after its TTL has run out on this machine's clock", async () => {
    const { ctx, clock } = setup();
    await lock(ctx(), clock, 'a', { ttlSeconds: 10 });
    const waiter = ctx();
    let got = false;
    const waiting = lock(waiter, clock, 'b', { wait: true }).then((r) => ((got = true), r));
    await flush();
    await clock.advance(9_000);
    expect(got).toBe(false);
    await clock.advance(2_000);
    const r = await waiting;
    expect(r.result).toMatchObject({ outcome: 'acquired', previousHolder: 'a', fencingToken: '2' });
    expect(r.waitedMs).toBeGreaterThanOrEqual(10_000);
  });

  it('a mutex deleted while held is not free: a waiter takes a new one only when the last claim seen would have lapsed', async () => {
    const { ctx, clock, store } = setup();
    await lock(ctx(), clock, 'a', { ttlSeconds: 10 });
    let got = false;
    const waiting = lock(ctx(), clock, 'b', { wait: true }).then((r) => ((got = true), r));
    await flush();
    await store.delete((await store.get('m'))!);
    await clock.advance(1_000);
    expect(got).toBe(false);
    expect(JSON.parse((await store.get('m'))?.record ?? '{"holder":null}')).toMatchObject({ holder: null }); // nobody holds it meanwhile
    await clock.advance(8_000);
    expect(got).toBe(false);
    await clock.advance(2_000);
    const r = await waiting;
    expect(r.result.outcome).toBe('acquired');
    expect(r.waitedMs).toBeGreaterThanOrEqual(10_000);
  });

  it('a lock answered later than its send-time budget is given back and refused (unreachable, late)', async () => {
    const { ctx, clock, store } = setup();
    const write = store.write.bind(store);
    store.write = async (obj, record) => {
      const written = await write(obj, record);
      await clock.advance(9_000); // the answer comes 9 s after the write was sent: past 2/3 of the 10 s TTL
      return written;
    };
    const err = await rejection(lock(ctx(), clock, 'a', { ttlSeconds: 10 }));
    expect(err).toMatchObject({ kind: 'unreachable', details: { late: true } });
    expect(err.message).toMatch(/^mutex m: the API server answered the claiming write 9s after it was sent.*; gave it back; try again$/);
    expect(JSON.parse((await store.get('m'))!.record!)).toMatchObject({ holder: null });
  });

  it('takes the mutex as soon as the watch shows it unlocked, and gives up with busy at --timeout', async () => {
    const { ctx, clock } = setup();
    await lock(ctx(), clock, 'a');
    const timedOut = rejection(lock(ctx(), clock, 'b', { wait: true, timeoutMs: 5_000 }));
    await flush();
    await clock.advance(5_000);
    expect((await timedOut).message).toMatch(/held by a .*\(waited 5s\)$/);
    const waiting = lock(ctx(), clock, 'b', { wait: true });
    await flush();
    await clock.advance(1_000);
    await unlock(ctx(), { holder: 'a' });
    expect((await waiting).result.outcome).toBe('acquired');
  });

  it('re-decides after losing a race: the winner holds, we are busy', async () => {
    const { store, ctx, clock } = setup();
    await decide(ctx(), mutexKind, 'm', planMutexCreate('m', undefined), { wait: false });
    store.beforeNextWrite = () => store.put('m', '{"holder":{"holder":"w","acquiredAt":"2026-01-01T00:00:00Z"},"fencingToken":1}');
    expect(isKind(await rejection(lock(ctx(), clock, 'b')), 'busy')).toBe(true);
    expect(store.conflicts).toBe(1);
  });

  it('never lets two hold at once: 10 waiters served one after another', async () => {
    const { ctx, clock } = setup();
    let inside = 0;
    let overlaps = 0;
    const served: string[] = [];
    let finished = 0;
    const workers = Array.from({ length: 10 }, (_, i) => `w${i}`).map(async (id) => {
      const c = ctx();
      await lock(c, clock, id, { wait: true, ttlSeconds: 60 });
      if (++inside > 1) overlaps++;
      served.push(id);
      await clock.sleep(1_000);
      inside--;
      await unlock(c, { holder: id });
      finished++;
    });
    for (let i = 0; i < 60 && finished < 10; i++) await clock.advance(500);
    await Promise.all(workers);
    expect(overlaps).toBe(0);
    expect(served.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `w${i}`).sort());
  });
});

describe('mutex unlock', () => {
  it('is idempotent for a claim already gone (already-free), and not-held (exit 5) for another live holder', async () => {
    const { ctx, clock } = setup();
    expect((await unlock(ctx(), { holder: 'a' })).result.outcome).toBe('already-free'); // no mutex at all
    await lock(ctx(), clock, 'a');
    const err = await rejection(unlock(ctx(), { holder: 'b' }));
    expect(isKind(err, 'not-held')).toBe(true);
    expect(err.message).toMatch(/held by a, not b; .*--force/);
    expect((await unlock(ctx(), { holder: 'a' })).result.outcome).toBe('released');
    expect((await unlock(ctx(), { holder: 'a' })).result.outcome).toBe('already-free');
  });

  it('--force breaks the hold; --if-holder only while that holder holds; breaking nothing fails', async () => {
    const { ctx, clock } = setup();
    expect(isKind(await rejection(unlock(ctx(), { holder: 'op', force: true })), 'not-found')).toBe(true);
    await lock(ctx(), clock, 'a');
    expect(isKind(await rejection(unlock(ctx(), { holder: 'op', force: true, ifHolder: 'x' })), 'not-held')).toBe(true);
    expect((await unlock(ctx(), { holder: 'op', force: true, ifHolder: 'a' })).result).toEqual({ outcome: 'broken', previousHolder: 'a' });
    expect(isKind(await rejection(unlock(ctx(), { holder: 'op', force: true })), 'not-held')).toBe(true);
  });

  it('--force --if-holder breaks a lapsed claim still in the record (the command status prints for a stuck mutex works)', async () => {
    const { ctx, clock, store } = setup();
    await lock(ctx(), clock, 'a', { ttlSeconds: 10 });
    const operator = ctx();
    await readRecord(operator, mutexKind, 'm'); // first seen now
    await clock.advance(11_000);
    expect((await unlock(operator, { holder: 'op', force: true, ifHolder: 'a' })).result).toEqual({ outcome: 'broken', previousHolder: 'a' });
    expect(JSON.parse((await store.get('m'))!.record!)).toMatchObject({ holder: null });
  });

  it('a --force whose answer was lost (it landed) is judged by the next read: broken, not "nothing to break"', async () => {
    const { ctx, clock, store } = setup();
    await lock(ctx(), clock, 'a');
    const write = store.write.bind(store);
    let lost = 0;
    store.write = async (obj, record) => {
      const written = await write(obj, record);
      if (lost++ === 0) throw new KoncliError('unreachable', 'connection reset after the request was sent', { transient: true });
      return written;
    };
    const forced = unlock(ctx(), { holder: 'op', force: true, ifHolder: 'a' });
    await advanceInSteps(clock, 2_000, 100);
    expect((await forced).result).toEqual({ outcome: 'broken', previousHolder: 'a' });
    expect(lost).toBe(1); // one write: the landed one was not sent again
    expect(JSON.parse((await store.get('m'))!.record!)).toMatchObject({ holder: null });
  });
});

describe('foreign and corrupt data', () => {
  it('refuses a ConfigMap that is not a koncli mutex, and a corrupt record, changing nothing', async () => {
    const { store, ctx, clock } = setup();
    store.put('m', '{"runner":null}', 'once');
    expect((await rejection(lock(ctx(), clock, 'a'))).message).toMatch(/configmap m in namespace test is a koncli once, not a mutex/);
    store.put('m', undefined, undefined);
    expect(isKind(await rejection(lock(ctx(), clock, 'a')), 'corrupt')).toBe(true);
    for (const bad of [
      'not json',
      '[]',
      '{"holder":{"holder":""}}',
      '{"fencingToken":-1}',
      '{"fencingToken":"v7"}',
      '{"holder":{"holder":"a","acquiredAt":"x","ttlSeconds":5}}',
    ]) {
      store.put('m', bad);
      const err = await rejection(lock(ctx(), clock, 'a'));
      expect(isKind(err, 'corrupt')).toBe(true);
      expect(err.message).toMatch(/koncli will not overwrite it/);
      expect((await store.get('m'))!.record).toBe(bad);
    }
  });

  it('keeps fields it does not know', async () => {
    const { store, ctx, clock } = setup();
    store.put('m', '{"holder":null,"fencingToken":4,"note":"kept"}');
    await lock(ctx(), clock, 'a');
    expect(await record(store)).toMatchObject({ note: 'kept', fencingToken: '5' }); // a counter 4 in a record at version 1: one above it
  });
});

describe('mutex create, status, delete', () => {
  it('create is idempotent with the same --ttl and refuses a different one; the TTL is the default of lock', async () => {
    const { ctx, clock } = setup();
    expect((await decide(ctx(), mutexKind, 'm', planMutexCreate('m', 600), { wait: false })).result.outcome).toBe('created');
    expect((await decide(ctx(), mutexKind, 'm', planMutexCreate('m', 600), { wait: false })).result.outcome).toBe('exists');
    expect(isKind(await rejection(decide(ctx(), mutexKind, 'm', planMutexCreate('m', 60), { wait: false })), 'usage')).toBe(true);
    expect((await lock(ctx(), clock, 'a')).result.claim.ttlSeconds).toBe(600);
  });

  it('describes held, expired and free in the shared vocabulary', async () => {
    const { store, ctx, clock } = setup();
    const c = ctx();
    await lock(c, clock, 'a', { ttlSeconds: 10 });
    expect(describeMutex(await readRecord(c, mutexKind, 'm'), clock)).toMatchObject({
      kind: 'mutex',
      namespace: 'test',
      name: 'm',
      state: 'held',
      holder: 'a',
      ttlSeconds: 10,
      fencingToken: '1',
      expiresAt: new Date(clock.wallNow() + 10_000).toISOString(),
    });
    await clock.advance(10_000);
    expect(describeMutex(await readRecord(c, mutexKind, 'm'), clock)).toMatchObject({ state: 'expired', fencingToken: null });
    await unlock(c, { holder: 'a' });
    expect(describeMutex(await readRecord(c, mutexKind, 'm'), clock)).toMatchObject({ state: 'free', holder: null });
    await deleteRecord(c, mutexKind, 'm', () => {});
    expect(await store.get('m')).toBeNull();
    expect(isKind(await rejection(deleteRecord(c, mutexKind, 'm', () => {})), 'not-found')).toBe(true);
  });
});
