// The rwmutex descriptor and its planners on the claim engine, with the in-memory record store and a
// FakeClock: readers share, a writer excludes, writer preference (a waiting writer is recorded and
// new readers wait behind it; a dead waiting writer stops blocking once its record lapses), unlock
// and force rules, and the corrupt-record refusal.
import { describe, expect, it } from '@jest/globals';
import { decide, deleteRecord, readRecord } from '../../../src/core/claim/engine.js';
import { claimContext, type ClaimContext } from '../../../src/core/claim/model.js';
import { isKind } from '../../../src/core/errors.js';
import {
  describeRWMutex,
  planRWLock,
  planRWUnlock,
  planRWWithdraw,
  rwmutexKind,
  WAITING_WRITER_TTL_SECONDS,
  type RWMode,
  type RWUnlockRequest,
} from '../../../src/core/primitives/rwmutex.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { FakeClock, flush } from '../../support/fake-clock.js';
import { MemoryRecordStore } from '../../support/memory-record-store.js';

function setup() {
  const clock = new FakeClock();
  const store = new MemoryRecordStore('rwmutex');
  const serverClock = new ServerClock();
  serverClock.sample(clock.now(), clock.now(), clock.now());
  const ctx = (): ClaimContext => claimContext(store, clock, serverClock);
  return { clock, store, ctx };
}

type Opts = { ttlSeconds?: number; wait?: boolean; timeoutMs?: number };
const lock = (ctx: ClaimContext, clock: FakeClock, holder: string, mode: RWMode, o: Opts = {}) =>
  decide(ctx, rwmutexKind, 'rw', planRWLock({ name: 'rw', holder, mode, ttlSeconds: o.ttlSeconds ?? 60, waiting: !!o.wait }, clock), {
    wait: !!o.wait,
    timeoutMs: o.timeoutMs,
  });
const unlock = (ctx: ClaimContext, req: Partial<RWUnlockRequest> & { holder: string }) =>
  decide(ctx, rwmutexKind, 'rw', planRWUnlock({ name: 'rw', namespace: 'ns', force: false, ...req }), { wait: false });
const record = async (store: MemoryRecordStore) => JSON.parse((await store.get('rw'))!.record!) as Record<string, { holder: string }[]>;
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: Error & { kind?: string; details?: Record<string, unknown> }) => err,
  );

describe('rwmutex', () => {
  it('lets readers share, refuses a writer while they read, and gives writers increasing fencing tokens', async () => {
    const { ctx, clock, store } = setup();
    await lock(ctx(), clock, 'r1', 'read');
    await lock(ctx(), clock, 'r2', 'read');
    expect((await record(store)).readers.map((c) => c.holder)).toEqual(['r1', 'r2']);
    const err = await failure(lock(ctx(), clock, 'w', 'write'));
    expect(isKind(err, 'busy')).toBe(true);
    expect(err.message).toMatch(/^rwmutex rw is read-locked by r1 .*, r2 /);
    expect((await record(store)).waitingWriters).toEqual([]); // try-once writers are not recorded
    await unlock(ctx(), { holder: 'r1' });
    await unlock(ctx(), { holder: 'r2' });
    const guardedOn = (await store.get('rw'))!.version;
    expect((await lock(ctx(), clock, 'w', 'write')).result).toMatchObject({ outcome: 'acquired', fencingToken: guardedOn });
    expect(isKind(await failure(lock(ctx(), clock, 'r1', 'read')), 'busy')).toBe(true);
    await unlock(ctx(), { holder: 'w' });
    const second = (await lock(ctx(), clock, 'w2', 'write')).result.fencingToken;
    expect(BigInt(second)).toBeGreaterThan(BigInt(guardedOn));
    await unlock(ctx(), { holder: 'w2' });
    expect((await lock(ctx(), clock, 'r3', 'read')).result.fencingToken).toBe(second); // a reader's: the last writer's
    await deleteRecord(ctx(), rwmutexKind, 'rw', () => {}); // delete --force, then a writer on the re-created rwmutex
    expect((await lock(ctx(), clock, 'r4', 'read')).result.fencingToken).toBe('0'); // no writer yet
    await unlock(ctx(), { holder: 'r4' });
    expect(BigInt((await lock(ctx(), clock, 'w3', 'write')).result.fencingToken)).toBeGreaterThan(BigInt(second));
  });

  it("speaks the --json vocabulary: expiresAt is the writer's or the last reader's, and errors list every holder in holders", async () => {
    const { ctx, clock } = setup();
    const describe = async () => describeRWMutex(await readRecord(ctx(), rwmutexKind, 'rw'), clock);
    await lock(ctx(), clock, 'r1', 'read', { ttlSeconds: 60 });
    await lock(ctx(), clock, 'r2', 'read', { ttlSeconds: 120 });
    const read = await describe();
    expect(read).toMatchObject({ state: 'held', holder: null, holders: ['r1', 'r2'] });
    expect(read.expiresAt).toBe(read.readers[1].expiresAt);
    expect((await failure(lock(ctx(), clock, 'w', 'write'))).details).toMatchObject({ holder: null, holders: ['r1', 'r2'] });
    await unlock(ctx(), { holder: 'r1' });
    await unlock(ctx(), { holder: 'r2' });
    expect(await describe()).toMatchObject({ state: 'free', expiresAt: null });
    await lock(ctx(), clock, 'w', 'write');
    const written = await describe();
    expect(written.expiresAt).toBe(written.writer!.expiresAt);
    expect(written.expiresAt).not.toBeNull();
    expect((await failure(lock(ctx(), clock, 'r3', 'read'))).details).toMatchObject({ holder: 'w', holders: ['w'] });
    expect((await failure(unlock(ctx(), { holder: 'r3' }))).details).toMatchObject({ holder: 'w', holders: ['w'] });
  });

  it('writer preference: a waiting writer is recorded, new readers wait behind it, and it gets the lock before them', async () => {
    const { ctx, clock, store } = setup();
    await lock(ctx(), clock, 'r1', 'read');
    const order: string[] = [];
    const writer = lock(ctx(), clock, 'w', 'write', { wait: true }).then(() => order.push('w'));
    await flush();
    expect((await record(store)).waitingWriters).toEqual([
      { holder: 'w', waitingSince: expect.any(String), ttlSeconds: WAITING_WRITER_TTL_SECONDS, expiresAt: expect.any(String) },
    ]); // not claim-shaped (no acquiredAt): it holds nothing
    expect((await failure(lock(ctx(), clock, 'r2', 'read'))).details).toMatchObject({ waitingWriters: ['w'] });
    const reader = lock(ctx(), clock, 'r2', 'read', { wait: true }).then(() => order.push('r2'));
    await flush();
    await unlock(ctx(), { holder: 'r1' });
    await writer;
    await flush();
    expect(order).toEqual(['w']);
    expect((await record(store)).waitingWriters).toEqual([]);
    await unlock(ctx(), { holder: 'w' });
    await reader;
    expect(order).toEqual(['w', 'r2']);
  });

  it('a waiting writer re-stamps its record while it waits; a dead one stops blocking readers once its record lapses', async () => {
    const { ctx, clock, store } = setup();
    await lock(ctx(), clock, 'r1', 'read', { ttlSeconds: 600 });
    const controller = new AbortController();
    const writer = decide(ctx(), rwmutexKind, 'rw', planRWLock({ name: 'rw', holder: 'w', mode: 'write', waiting: true }, clock), {
      wait: true,
      signal: controller.signal,
    }).catch((e: Error) => e);
    await flush();
    const first = (await record(store)).waitingWriters[0];
    for (let i = 0; i < 25; i++) await clock.advance(1_000);
    expect((await record(store)).waitingWriters[0]).not.toEqual(first); // re-stamped after a third of its TTL
    controller.abort();
    expect(isKind(await writer, 'busy')).toBe(true);
    // The writer "died" without withdrawing: readers wait until its record lapses on this machine's clock.
    const reader = ctx();
    let got = false;
    const waiting = lock(reader, clock, 'r2', 'read', { wait: true }).then(() => (got = true));
    await flush();
    await clock.advance((WAITING_WRITER_TTL_SECONDS - 1) * 1000);
    expect(got).toBe(false);
    await clock.advance(2_000);
    await waiting;
    expect((await record(store)).readers.map((c) => c.holder)).toEqual(['r1', 'r2']);
  });

  it('a writer that gives up withdraws its waiting record', async () => {
    const { ctx, clock, store } = setup();
    await lock(ctx(), clock, 'r1', 'read');
    const timedOut = lock(ctx(), clock, 'w', 'write', { wait: true, timeoutMs: 1_000 }).catch((e: Error) => e);
    await flush();
    await clock.advance(2_000);
    expect(isKind(await timedOut, 'busy')).toBe(true);
    expect((await record(store)).waitingWriters.map((c) => c.holder)).toEqual(['w']);
    expect((await decide(ctx(), rwmutexKind, 'rw', planRWWithdraw('w'), { wait: false })).result).toBe(true);
    expect((await record(store)).waitingWriters).toEqual([]);
    await lock(ctx(), clock, 'r2', 'read');
  });

  it('unlock: already-free for a gone claim, not-held under another writer, --force --if-holder breaks only that claim', async () => {
    const { ctx, clock } = setup();
    expect((await unlock(ctx(), { holder: 'x' })).result.outcome).toBe('already-free');
    await lock(ctx(), clock, 'r1', 'read');
    await lock(ctx(), clock, 'r2', 'read');
    expect((await unlock(ctx(), { holder: 'x' })).result.outcome).toBe('already-free');
    const wrong = await failure(unlock(ctx(), { holder: 'op', force: true, ifHolder: 'x' }));
    expect(isKind(wrong, 'not-held')).toBe(true);
    expect((await unlock(ctx(), { holder: 'op', force: true, ifHolder: 'r1' })).result).toEqual({ outcome: 'broken', mode: 'read', released: ['r1'] });
    expect((await unlock(ctx(), { holder: 'r2' })).result).toEqual({ outcome: 'released', mode: 'read', released: ['r2'] });
    await lock(ctx(), clock, 'w', 'write');
    expect(isKind(await failure(unlock(ctx(), { holder: 'r1' })), 'not-held')).toBe(true);
    expect(isKind(await failure(lock(ctx(), clock, 'w', 'read')), 'busy')).toBe(true); // no downgrade
  });

  it('refuses a record naming a holder twice as corrupt, and writes nothing', async () => {
    const { ctx, clock, store } = setup();
    const claim = { holder: 'a', acquiredAt: '2026-01-01T00:00:00Z' };
    store.put('rw', JSON.stringify({ writer: claim, readers: [claim], waitingWriters: [], fencingToken: 1 }));
    const before = store.history.length;
    const err = await failure(lock(ctx(), clock, 'b', 'read'));
    expect(isKind(err, 'corrupt')).toBe(true);
    expect(err.message).toMatch(/holder a appears twice/);
    expect(store.history).toHaveLength(before);
  });
});
