import { ServerClock } from '../../../src/core/server-clock.js';
import { leaseContext, type LeaseContext } from '../../../src/core/lease/context.js';
import { acquireLease, acquireOnce, type AcquireRequest } from '../../../src/core/lease/acquire.js';
import { renewLease } from '../../../src/core/lease/renew.js';
import { releaseLease } from '../../../src/core/lease/release.js';
import { leaseKeeper } from '../../../src/core/lease/keeper.js';
import { holderTiming, UNSET_LEASE_DURATION_SECONDS } from '../../../src/core/timing.js';
import { describeLease } from '../../../src/core/lease/describe.js';
import { judgeLease } from '../../../src/core/lease/judge.js';
import { defaultExtras, microTime, type LeaseRecord } from '../../../src/core/lease/model.js';
import { KoncliError } from '../../../src/core/errors.js';
import { MemoryLeaseStore } from '../../support/memory-lease-store.js';
import { advanceInSteps, FakeClock, flush } from '../../support/fake-clock.js';

const req = (holder: string, extra: Partial<AcquireRequest> = {}): AcquireRequest => ({
  name: 'job',
  namespace: 'test',
  holder,
  durationSeconds: 10,
  priority: 0,
  renewable: true,
  labels: {},
  ...extra,
});

function setup() {
  const clock = new FakeClock();
  const store = new MemoryLeaseStore();
  const serverClock = new ServerClock();
  const ctx: LeaseContext = leaseContext(store, clock, serverClock);
  /** Another machine's context: same store, its own observations. */
  const peer = () => leaseContext(store, clock, serverClock);
  return { clock, store, serverClock, ctx, peer };
}

const foreignLease = (holder: string, renewTime: string, durationSeconds = 10): Omit<LeaseRecord, 'version'> => ({
  name: 'job',
  namespace: 'test',
  holding: { holder, durationSeconds, acquireTime: renewTime, renewTime, transitions: 3 },
  extras: defaultExtras(),
  labels: {},
});

const kindOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as KoncliError).kind;
  }
};

describe('acquire', () => {
  test('creates a missing lease and holds it; a second holder is busy', async () => {
    const { ctx, peer } = setup();
    const first = await acquireOnce(ctx, req('a'));
    expect(first.outcome).toBe('acquired');
    expect(first.record.holding.holder).toBe('a');
    expect(first.fencingToken).toBe(first.record.version);
    await expect(acquireOnce(peer(), req('b'))).rejects.toMatchObject({ kind: 'busy', details: { holder: 'a' } });
  });

  test('acquiring a lease you hold extends it and counts a renewal', async () => {
    const { ctx, clock } = setup();
    await acquireOnce(ctx, req('a'));
    await clock.advance(3000);
    const again = await acquireOnce(ctx, req('a', { durationSeconds: 20 }));
    expect(again.outcome).toBe('extended');
    expect(again.record.extras.renewals).toBe(1);
    expect(again.record.holding.durationSeconds).toBe(20);
  });

  test('takes over after the duration has passed on the observer clock, counting a transition', async () => {
    const { ctx, clock, store, peer } = setup();
    store.put(foreignLease('klock', microTime(clock.now())));
    const observer = peer();
    await expect(acquireOnce(observer, req('b'))).rejects.toMatchObject({ kind: 'busy' });
    await clock.advance(9_999);
    await expect(acquireOnce(observer, req('b'))).rejects.toMatchObject({ kind: 'busy' });
    await clock.advance(2);
    const taken = await acquireOnce(observer, req('b'));
    expect(taken.outcome).toBe('acquired');
    expect(taken.previousHolder).toBe('klock');
    expect(taken.record.holding.transitions).toBe(4);
    void ctx;
  });

  test("a skewed holder is judged by the server's write time, not by its renewTime", async () => {
    const { clock, store, serverClock, peer } = setup();
    // The server's clock reads exactly ours; the holder's clock is a minute behind.
    serverClock.sample(clock.now(), clock.now(), clock.now());
    store.serverWrittenAtMost = clock.now() - 2000;
    store.put(foreignLease('slow-clock', microTime(clock.now() - 60_000)));
    await expect(acquireOnce(peer(), req('b'))).rejects.toMatchObject({ kind: 'busy' });

    // A dead holder whose clock ran a minute ahead: its renewTime is in our future. The server saw
    // its last write 30 s ago, but the server's clock alone never ends a claim early (docs/clock.md
    // rule 3: the writer's own stamp must agree): a one-shot is busy, and says why ...
    store.serverWrittenAtMost = clock.now() - 30_000;
    store.put(foreignLease('fast-clock', microTime(clock.now() + 60_000)));
    const observer = peer();
    const busy = await acquireOnce(observer, req('b')).catch((e: KoncliError) => e);
    expect(busy).toMatchObject({ kind: 'busy', details: { judgedBy: 'observed' } });
    // Who holds it and until when; the rule only in the details (--json, -v).
    expect((busy as Error).message).toMatch(/^lease \S+ is held by fast-clock until \S+ \(in 10s by this machine's clock\) unless renewed$/);
    expect((busy as KoncliError).details?.rule).toMatch(/client-go's observed-time rule/);
    // ... and an observer that watches it unchanged for its duration takes it (client-go's rule).
    await clock.advance(10_000);
    const taken = await acquireOnce(observer, req('b'));
    expect(taken.previousHolder).toBe('fast-clock');
  });

  test('a write conflict is re-decided on fresh state, never overwritten', async () => {
    const { ctx, store, clock } = setup();
    await acquireOnce(ctx, req('a', { durationSeconds: 1 }));
    await releaseLease(ctx, { name: 'job', holder: 'a', delete: false, force: false });
    const rival = await store.get('job');
    store.beforeNextWrite = () => {
      store.put({ ...rival!, holding: { ...rival!.holding, holder: 'rival', renewTime: microTime(clock.now()) } });
    };
    await expect(acquireOnce(ctx, req('b'))).rejects.toMatchObject({ kind: 'busy', details: { holder: 'rival' } });
    expect((await store.get('job'))!.holding.holder).toBe('rival');
  });

  test("without an explicit duration, a new claim gets the acquirer's default, never a previous holder's; extending keeps our own", async () => {
    const { ctx, clock, store, peer } = setup();
    const created = await acquireOnce(ctx, req('a', { durationSeconds: undefined, defaultDurationSeconds: 15 }));
    expect(created.record.holding.durationSeconds).toBe(15);
    // client-go's step-down marker: holderIdentity "" with leaseDurationSeconds 1.
    store.put(foreignLease('', microTime(clock.now()), 1));
    const taken = await acquireOnce(peer(), req('b', { durationSeconds: undefined, defaultDurationSeconds: 15 }));
    expect(taken.record.holding.durationSeconds).toBe(15);
    // Another holder's expired claim of 2 h: the new claim is still ours (15 s).
    store.put(foreignLease('gone', microTime(clock.now()), 7200));
    await expect(acquireOnce(ctx, req('c', { durationSeconds: undefined }))).rejects.toMatchObject({ kind: 'busy' });
    await clock.advance(7200_001);
    const again = await acquireOnce(ctx, req('c', { durationSeconds: undefined, defaultDurationSeconds: 15 }));
    expect(again.record.holding.durationSeconds).toBe(15);
    // Extending our own claim keeps its duration.
    const extended = await acquireOnce(ctx, req('c', { durationSeconds: undefined, defaultDurationSeconds: 99 }));
    expect(extended).toMatchObject({ outcome: 'extended', record: { holding: { durationSeconds: 15 } } });
  });

  test('a one-time lease is not extended by its holder', async () => {
    const { ctx } = setup();
    await acquireOnce(ctx, req('a', { renewable: false }));
    const again = await acquireOnce(ctx, req('a'));
    expect(again.outcome).toBe('already-held');
  });
});

describe('waiting', () => {
  test('a waiter takes the lease as soon as the holder releases it', async () => {
    const { ctx, peer } = setup();
    await acquireOnce(ctx, req('a'));
    const waiting = acquireLease(peer(), req('b'), { wait: true });
    await flush();
    await releaseLease(ctx, { name: 'job', holder: 'a', delete: false, force: false });
    const got = await waiting;
    expect(got.outcome).toBe('acquired');
    expect(got.previousHolder).toBe('');
  });
});

describe('renew and release', () => {
  test('renew succeeds for the holder, counts, and is lost for anyone else', async () => {
    const { ctx } = setup();
    await acquireOnce(ctx, req('a'));
    const renewed = await renewLease(ctx, { name: 'job', holder: 'a' });
    expect(renewed.extras.renewals).toBe(1);
    expect(await kindOf(renewLease(ctx, { name: 'job', holder: 'b' }))).toBe('lost');
    expect(await kindOf(renewLease(ctx, { name: 'missing', holder: 'a' }))).toBe('lost');
  });

  test('renewing a one-time lease is refused', async () => {
    const { ctx } = setup();
    await acquireOnce(ctx, req('a', { renewable: false }));
    await expect(renewLease(ctx, { name: 'job', holder: 'a' })).rejects.toThrow(/one-time/);
  });

  test('release by the holder frees it; by another is not-held; --force displaces and records an event', async () => {
    const { ctx, store } = setup();
    await acquireOnce(ctx, req('a'));
    expect(await kindOf(releaseLease(ctx, { name: 'job', holder: 'b', delete: false, force: false }))).toBe('not-held');
    const forced = await releaseLease(ctx, { name: 'job', holder: 'operator', delete: false, force: true });
    expect(forced).toMatchObject({ outcome: 'released', previousHolder: 'a', forced: true });
    expect(store.events).toEqual([expect.objectContaining({ reason: 'ForceReleased', message: expect.stringContaining('from a') })]);
    const again = await releaseLease(ctx, { name: 'job', holder: 'a', delete: false, force: false });
    expect(again.outcome).toBe('already-free');
    // A force that breaks nothing is not success: nobody holds it (5), it does not exist (6); one's own release of a missing lease is done.
    expect(await kindOf(releaseLease(ctx, { name: 'job', holder: 'operator', delete: false, force: true }))).toBe('not-held');
    expect(await kindOf(releaseLease(ctx, { name: 'nope', holder: 'operator', delete: false, force: true }))).toBe('not-found');
    expect((await releaseLease(ctx, { name: 'nope', holder: 'a', delete: false, force: false })).outcome).toBe('already-free');
  });

  test('delete is guarded: a lease someone took meanwhile is not deleted', async () => {
    const { ctx, store, clock } = setup();
    await acquireOnce(ctx, req('a'));
    const current = await store.get('job');
    store.beforeNextWrite = () => store.put({ ...current!, holding: { ...current!.holding, holder: 'thief', renewTime: microTime(clock.now()) } });
    expect(await kindOf(releaseLease(ctx, { name: 'job', holder: 'a', delete: true, force: false }))).toBe('not-held');
    expect((await store.get('job'))!.holding.holder).toBe('thief');
  });
});

describe('judge', () => {
  test('an empty holder is Available; a lease that ran out is Expired', async () => {
    const { ctx, clock, store } = setup();
    store.put(foreignLease('', microTime(clock.now())));
    expect(judgeLease(await store.get('job'), ctx.tracker, clock.now()).phase).toBe('Available');
    store.put(foreignLease('x', microTime(clock.now()), 5));
    const rec = await store.get('job');
    expect(judgeLease(rec, ctx.tracker, clock.now()).phase).toBe('Held');
    await clock.advance(5000);
    expect(judgeLease(rec, ctx.tracker, clock.now()).phase).toBe('Expired');
  });
});

describe('lease run keeps one watch', () => {
  test('the keeper adopts the watch that waited; it still sees a forced takeover; stop closes it', async () => {
    const { clock, store, ctx, peer } = setup();
    await acquireOnce(peer(), req('first'));
    const waiting = acquireLease(ctx, req('second'), { wait: true, keepWatching: true });
    await flush();
    await releaseLease(peer(), { name: 'job', holder: 'first', delete: false, force: false });
    const got = await waiting;
    expect(got.record.holding.holder).toBe('second');
    expect(got.feed?.current()?.version).toBe(got.record.version);
    expect(store.watchesOpen).toBe(1); // handed over, not stopped

    const keeper = leaseKeeper(ctx, 'job', 'second', got.record, got.sentAt, holderTiming(10), undefined, got.feed);
    keeper.start();
    await clock.advance(4000); // past renewEvery (10 s / 3): one renewal through the adopted feed's copy
    await flush();
    expect(keeper.renewals).toBe(1);
    await releaseLease(peer(), { name: 'job', holder: 'third', delete: false, force: true });
    await expect(keeper.lost).resolves.toMatch(/now held by nobody/);
    expect(store.watchesOpened).toBe(1);
    expect(store.watchesOpen).toBe(0);
  });

  test('without keepWatching the waiting watch is closed on success, and the keeper opens its own', async () => {
    const { store, ctx, peer } = setup();
    await acquireOnce(peer(), req('first'));
    const waiting = acquireLease(ctx, req('second'), { wait: true });
    await flush();
    await releaseLease(peer(), { name: 'job', holder: 'first', delete: false, force: false });
    const got = await waiting;
    expect(got.feed).toBeUndefined();
    expect(store.watchesOpen).toBe(0);
    const keeper = leaseKeeper(ctx, 'job', 'second', got.record, got.sentAt, holderTiming(10));
    keeper.start();
    await flush();
    expect(store.watchesOpened).toBe(2);
    keeper.stop();
    expect(store.watchesOpen).toBe(0);
  });
});

describe('release from a known state', () => {
  test('a current copy releases with one write and no read; a stale one costs a conflict, then reads', async () => {
    const { store, ctx, peer } = setup();
    const held = await acquireOnce(ctx, req('a'));
    const reads = store.reads;
    await releaseLease(ctx, { name: 'job', holder: 'a', delete: false, force: false }, held.record);
    expect(store.reads).toBe(reads);
    expect((await store.get('job'))?.holding.holder).toBe('');

    const again = await acquireOnce(ctx, req('a'));
    // Another write after our copy was taken (here: a renewal elsewhere): the copy is stale.
    await renewLease(peer(), { name: 'job', holder: 'a' }, (await store.get('job'))!);
    const before = store.reads;
    await releaseLease(ctx, { name: 'job', holder: 'a', delete: false, force: false }, again.record);
    expect(store.reads).toBe(before + 1);
    expect((await store.get('job'))?.holding.holder).toBe('');
  });

  test('a stale copy never releases a lease someone else now holds', async () => {
    const { ctx, peer } = setup();
    const held = await acquireOnce(ctx, req('a'));
    await releaseLease(peer(), { name: 'job', holder: 'b', delete: false, force: true });
    await acquireOnce(peer(), req('b'));
    await expect(releaseLease(ctx, { name: 'job', holder: 'a', delete: false, force: false }, held.record)).rejects.toMatchObject({ kind: 'not-held' });
  });
});

describe('holder timing', () => {
  test('a renewal request that hangs is given up after a third of the renew window, and the next try keeps the lease', async () => {
    const { clock, store, ctx } = setup();
    const got = await acquireOnce(ctx, req('holder', { durationSeconds: 15 }));
    const timing = holderTiming(15); // renew at 5 s, deadline 10 s, one request at most 1.67 s
    const keeper = leaseKeeper(ctx, 'job', 'holder', got.record, got.sentAt, timing);
    keeper.start();
    await flush();
    // The first renewal request never answers (a dropped packet on a dead connection).
    const writeClaim = store.writeClaim.bind(store);
    let hung = 0;
    store.writeClaim = (record) => (hung++ === 0 ? new Promise<LeaseRecord>(() => {}) : writeClaim(record));
    let lost = false;
    void keeper.lost.then(() => (lost = true));
    for (let t = 0; t < 9000; t += 100) await clock.advance(100);
    expect(hung).toBeGreaterThanOrEqual(2);
    expect(keeper.renewals).toBeGreaterThanOrEqual(1);
    expect(lost).toBe(false);
    keeper.stop();
  });

  test('wall-clock steps neither delay a renewal nor the renew deadline (the keeper measures on the monotonic clock)', async () => {
    const { clock, store, ctx } = setup();
    const got = await acquireOnce(ctx, req('holder', { durationSeconds: 15 }));
    const keeper = leaseKeeper(ctx, 'job', 'holder', got.record, got.sentAt, holderTiming(15));
    keeper.start();
    clock.stepWall(-120_000);
    await clock.advance(5100);
    expect(keeper.renewals).toBe(1);
    // The renewal is stamped with the (stepped) wall clock: renewTime is a timestamp, nothing more.
    expect(Date.parse((await store.get('job'))!.holding.renewTime!)).toBeLessThan(clock.now() - 100_000);
    clock.stepWall(240_000);
    await clock.advance(5000);
    expect(keeper.renewals).toBe(2);
    keeper.stop();
  });
});

// ---- issue 21's claim rules for Leases (native and konductor share this code)

const leaseOf = (holder: string, clock: FakeClock, extra: Partial<LeaseRecord> = {}, durationSeconds = 10): Omit<LeaseRecord, 'version'> => ({
  name: 'job',
  namespace: 'test',
  uid: 'uid-1',
  holding: { holder, durationSeconds, acquireTime: microTime(clock.wallNow()), renewTime: microTime(clock.wallNow()), transitions: 1 },
  extras: defaultExtras(),
  labels: {},
  ...extra,
});

const terminating = { since: '2026-01-01T00:00:00.000Z', finalizers: ['example.com/keep'] };
/** A transient failure after the write landed: its answer was lost. */
const lostAnswer = () => new KoncliError('unreachable', 'request timed out', { transient: true });

describe('a lease being deleted (deletionTimestamp) gets no claim', () => {
  test('one-shot and --wait acquire are refused (rejected), naming the finalizer; nothing is written', async () => {
    const { clock, store, ctx } = setup();
    store.put(leaseOf('', clock, { terminating }));
    const writes = store.writes.length;
    await expect(acquireOnce(ctx, req('a'))).rejects.toMatchObject({ kind: 'rejected', message: expect.stringMatching(/being deleted.*example.com\/keep/) });
    await expect(acquireLease(ctx, req('a'), { wait: true, timeoutMs: 5000 })).rejects.toMatchObject({ kind: 'rejected' });
    expect(store.writes.length).toBe(writes);
  });

  test('renewing is refused too, and a holder whose lease starts terminating is lost', async () => {
    const { clock, store, ctx } = setup();
    const got = await acquireOnce(ctx, req('a'));
    const keeper = leaseKeeper(ctx, 'job', 'a', got.record, got.sentAt, holderTiming(10));
    keeper.start();
    const current = (await store.get('job'))!;
    store.put({ ...current, terminating });
    await flush();
    await expect(keeper.lost).resolves.toMatch(/being deleted/);
    await expect(renewLease(ctx, { name: 'job', holder: 'a' })).rejects.toMatchObject({ kind: 'rejected' });
    keeper.stop();
    void clock;
  });
});

describe('a lease deleted during a hold is not free', () => {
  test('a waiter keeps the last claim seen in force until it would have expired, also across a re-created object', async () => {
    const { clock, store, ctx, peer } = setup();
    await acquireOnce(ctx, req('a', { durationSeconds: 10 }));
    let got: string | undefined;
    const waiting = acquireLease(peer(), req('b'), { wait: true }).then((r) => (got = r.record.holding.holder));
    await flush();
    store.remove('job');
    await advanceInSteps(clock, 3000);
    expect(got).toBeUndefined(); // not taken at once
    store.put(leaseOf('', clock, { uid: 'uid-2' })); // re-created, free: another object
    await advanceInSteps(clock, 5000);
    expect(got).toBeUndefined(); // 8 s after first sight: a's claim still counts
    await advanceInSteps(clock, 3000);
    await waiting;
    expect(got).toBe('b');
  });

  test('the holder whose lease vanished is lost; a re-created lease (new uid) is another object', async () => {
    const { store, ctx, clock } = setup();
    const got = await acquireOnce(ctx, req('a'));
    const keeper = leaseKeeper(ctx, 'job', 'a', got.record, got.sentAt, holderTiming(10));
    keeper.start();
    store.remove('job');
    await flush();
    await expect(keeper.lost).resolves.toMatch(/was deleted/);

    const second = await acquireOnce(ctx, req('a'));
    const kept = leaseKeeper(ctx, 'job', 'a', { ...second.record, uid: 'uid-1' }, second.sentAt, holderTiming(10));
    kept.start();
    store.put(leaseOf('a', clock, { uid: 'uid-2' }));
    await flush();
    await expect(kept.lost).resolves.toMatch(/created again/);
  });
});

describe('a claim counts from when its write was sent', () => {
  /** The store answers the next claim write `ms` late (the write itself lands at once). */
  const answerLate = (store: MemoryLeaseStore, clock: FakeClock, ms: number, meanwhile?: () => void) => {
    const write = store.writeClaim.bind(store);
    const create = store.create.bind(store);
    const late = async <T>(p: Promise<T>) => {
      const written = await p;
      await clock.advance(ms);
      meanwhile?.();
      return written;
    };
    store.writeClaim = (r) => late(write(r));
    store.create = (d) => late(create(d));
  };

  test('an answer later than 2/3 of the TTL is no claim: refused, and what landed is given back', async () => {
    const { clock, store, ctx } = setup();
    answerLate(store, clock, 7000);
    const result = acquireOnce(ctx, req('a', { durationSeconds: 10 })).catch((e: KoncliError) => e);
    await clock.advance(0);
    const err = (await result) as KoncliError;
    expect(err).toMatchObject({
      kind: 'unreachable',
      message: expect.stringMatching(/answered the claiming write 7s after.*not counted.*gave the lease back/),
    });
    expect((await store.get('job'))!.holding.holder).toBe('');
  });

  test('an answer within 2/3 of the TTL stands', async () => {
    const { clock, store, ctx } = setup();
    answerLate(store, clock, 6000);
    const result = acquireOnce(ctx, req('a', { durationSeconds: 10 }));
    await clock.advance(0);
    await expect(result).resolves.toMatchObject({ outcome: 'acquired' });
  });

  test('when someone else wrote meanwhile, the give-back says so and displaces nobody', async () => {
    const { clock, store, ctx } = setup();
    store.put(leaseOf('', clock));
    answerLate(store, clock, 9000, () => store.put(leaseOf('b', clock)));
    const result = acquireOnce(ctx, req('a', { durationSeconds: 10 })).catch((e: KoncliError) => e);
    await clock.advance(0);
    expect(await result).toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/someone else has written it since \(held by b\)/) });
    expect((await store.get('job'))!.holding.holder).toBe('b');
  });
});

describe('an unanswered release is resolved by a read', () => {
  test('release --force whose answer was lost reports released and records its Event', async () => {
    const { clock, store, ctx } = setup();
    store.put(leaseOf('b', clock));
    const write = store.writeClaim.bind(store);
    store.writeClaim = async (r) => {
      await write(r);
      store.writeClaim = write;
      throw lostAnswer();
    };
    const result = releaseLease(ctx, { name: 'job', holder: 'ops', delete: false, force: true });
    await advanceInSteps(clock, 5000);
    await expect(result).resolves.toMatchObject({ outcome: 'released', previousHolder: 'b', forced: true });
    expect(store.events).toEqual([expect.objectContaining({ reason: 'ForceReleased' })]);
  });
});

describe('a Lease without leaseDurationSeconds', () => {
  test(`is judged to last ${UNSET_LEASE_DURATION_SECONDS}s by one-shot, --wait and status alike, never free at first sight`, async () => {
    const { clock, store, ctx, peer } = setup();
    const record = store.put(leaseOf('other-tool', clock, {}, 0));
    await expect(acquireOnce(peer(), req('b'))).rejects.toMatchObject({ kind: 'busy' });
    const status = describeLease(record, ctx.tracker, clock.now(), clock.wallNow());
    expect(status).toMatchObject({ phase: 'Held', ttlSeconds: UNSET_LEASE_DURATION_SECONDS, ttlUnset: true });
    let got = false;
    const waiting = acquireLease(peer(), req('b'), { wait: true }).then(() => (got = true));
    await advanceInSteps(clock, UNSET_LEASE_DURATION_SECONDS * 1000 - 1000);
    expect(got).toBe(false);
    expect(judgeLease(record, ctx.tracker, clock.now()).phase).toBe('Held');
    await advanceInSteps(clock, 2000);
    await waiting;
    expect(got).toBe(true);
  });
});
