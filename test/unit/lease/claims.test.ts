import { ServerClock } from '../../../src/core/server-clock.js';
import { leaseContext } from '../../../src/core/lease/context.js';
import { acquireLease, acquireOnce, type AcquireRequest } from '../../../src/core/lease/acquire.js';
import { renewLease } from '../../../src/core/lease/renew.js';
import { releaseLease } from '../../../src/core/lease/release.js';
import { LeaseKeeper } from '../../../src/core/lease/keeper.js';
import { judgeLease } from '../../../src/core/lease/judge.js';
import { describeLease } from '../../../src/core/lease/describe.js';
import { holderTiming, UNSET_LEASE_DURATION_SECONDS } from '../../../src/core/timing.js';
import { defaultExtras, microTime, type LeaseRecord } from '../../../src/core/lease/model.js';
import { KoncliError } from '../../../src/core/errors.js';
import { MemoryLeaseStore } from '../../support/memory-lease-store.js';
import { FakeClock, flush } from '../../support/fake-clock.js';

/** The rows of issue 21 that core decides for Leases (native and konductor share this code). */

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
  const peer = () => leaseContext(store, clock, serverClock);
  return { clock, store, ctx: peer(), peer };
}

const lease = (holder: string, clock: FakeClock, extra: Partial<LeaseRecord> = {}, durationSeconds = 10): Omit<LeaseRecord, 'version'> => ({
  name: 'job',
  namespace: 'test',
  uid: 'uid-1',
  holding: { holder, durationSeconds, acquireTime: microTime(clock.wallNow()), renewTime: microTime(clock.wallNow()), transitions: 1 },
  extras: defaultExtras(),
  labels: {},
  ...extra,
});

/** Moves the clock in 500 ms steps, so sleepers registered on the way wake too. */
async function pass(clock: FakeClock, ms: number) {
  for (let left = ms; left > 0; left -= 500) await clock.advance(Math.min(500, left));
}

const terminating = { since: '2026-01-01T00:00:00.000Z', finalizers: ['example.com/keep'] };
/** A transient failure after the write landed: its answer was lost. */
const lostAnswer = () => new KoncliError('unreachable', 'request timed out', { transient: true });

describe('a lease being deleted (deletionTimestamp) gets no claim', () => {
  test('one-shot and --wait acquire are refused (rejected), naming the finalizer; nothing is written', async () => {
    const { clock, store, ctx } = setup();
    store.put(lease('', clock, { terminating }));
    const writes = store.writes.length;
    await expect(acquireOnce(ctx, req('a'))).rejects.toMatchObject({ kind: 'rejected', message: expect.stringMatching(/being deleted.*example.com\/keep/) });
    await expect(acquireLease(ctx, req('a'), { wait: true, timeoutMs: 5000 })).rejects.toMatchObject({ kind: 'rejected' });
    expect(store.writes.length).toBe(writes);
  });

  test('renewing is refused too, and a holder whose lease starts terminating is lost', async () => {
    const { clock, store, ctx } = setup();
    const got = await acquireOnce(ctx, req('a'));
    const keeper = new LeaseKeeper(ctx, 'job', 'a', got.record, got.sentAt, holderTiming(10));
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
    await pass(clock, 3000);
    expect(got).toBeUndefined(); // not taken at once
    store.put(lease('', clock, { uid: 'uid-2' })); // re-created, free: another object
    await pass(clock, 5000);
    expect(got).toBeUndefined(); // 8 s after first sight: a's claim still counts
    await pass(clock, 3000);
    await waiting;
    expect(got).toBe('b');
  });

  test('the holder whose lease vanished is lost; a re-created lease (new uid) is another object', async () => {
    const { store, ctx, clock } = setup();
    const got = await acquireOnce(ctx, req('a'));
    const keeper = new LeaseKeeper(ctx, 'job', 'a', got.record, got.sentAt, holderTiming(10));
    keeper.start();
    store.remove('job');
    await flush();
    await expect(keeper.lost).resolves.toMatch(/was deleted/);

    const second = await acquireOnce(ctx, req('a'));
    const kept = new LeaseKeeper(ctx, 'job', 'a', { ...second.record, uid: 'uid-1' }, second.sentAt, holderTiming(10));
    kept.start();
    store.put(lease('a', clock, { uid: 'uid-2' }));
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
    store.put(lease('', clock));
    answerLate(store, clock, 9000, () => store.put(lease('b', clock)));
    const result = acquireOnce(ctx, req('a', { durationSeconds: 10 })).catch((e: KoncliError) => e);
    await clock.advance(0);
    expect(await result).toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/someone else has written it since \(held by b\)/) });
    expect((await store.get('job'))!.holding.holder).toBe('b');
  });
});

describe('an unanswered release is resolved by a read', () => {
  test('release --force whose answer was lost reports released and records its Event', async () => {
    const { clock, store, ctx } = setup();
    store.put(lease('b', clock));
    const write = store.writeClaim.bind(store);
    store.writeClaim = async (r) => {
      await write(r);
      store.writeClaim = write;
      throw lostAnswer();
    };
    const result = releaseLease(ctx, { name: 'job', holder: 'ops', delete: false, force: true });
    await pass(clock, 5000);
    await expect(result).resolves.toMatchObject({ outcome: 'released', previousHolder: 'b', forced: true });
    expect(store.events).toEqual([expect.objectContaining({ reason: 'ForceReleased' })]);
  });
});

describe('a Lease without leaseDurationSeconds', () => {
  test(`is judged to last ${UNSET_LEASE_DURATION_SECONDS}s by one-shot, --wait and status alike, never free at first sight`, async () => {
    const { clock, store, ctx, peer } = setup();
    const record = store.put(lease('other-tool', clock, {}, 0));
    await expect(acquireOnce(peer(), req('b'))).rejects.toMatchObject({ kind: 'busy' });
    const status = describeLease(record, ctx.tracker, clock.now(), clock.wallNow());
    expect(status).toMatchObject({ phase: 'Held', ttlSeconds: UNSET_LEASE_DURATION_SECONDS, ttlUnset: true });
    let got = false;
    const waiting = acquireLease(peer(), req('b'), { wait: true }).then(() => (got = true));
    await pass(clock, UNSET_LEASE_DURATION_SECONDS * 1000 - 1000);
    expect(got).toBe(false);
    expect(judgeLease(record, ctx.tracker, clock.now()).phase).toBe('Held');
    await pass(clock, 2000);
    await waiting;
    expect(got).toBe(true);
  });
});
