// The waiter queue's decisions (docs/lease.md, "Waiting"): each waiter keeps its own candidate
// alive, the watched lease is never written by a heartbeat, the lease goes to the first live
// waiter by priority then arrival, dead waiters are skipped and garbage-collected, and entries of
// the legacy koncli.dev/waiters annotation (older koncli) are still honoured.
import { ServerClock } from '../../../src/core/server-clock.js';
import { ExpiryTracker } from '../../../src/core/expiry.js';
import { leaseContext } from '../../../src/core/lease/context.js';
import { acquireLease, acquireOnce, type AcquireRequest } from '../../../src/core/lease/acquire.js';
import { candidateRank, legacyRank, ranksAhead } from '../../../src/core/lease/candidates.js';
import { liveWaiters } from '../../../src/core/lease/queue.js';
import { releaseLease } from '../../../src/core/lease/release.js';
import { HEARTBEAT_MS, STALE_AFTER_MS } from '../../../src/core/timing.js';
import { MemoryLeaseStore } from '../../support/memory-lease-store.js';
import { FakeClock, flush } from '../../support/fake-clock.js';

const req = (holder: string, priority = 0): AcquireRequest => ({
  name: 'job',
  namespace: 'test',
  holder,
  durationSeconds: 600,
  priority,
  renewable: true,
  labels: {},
});

function setup() {
  const clock = new FakeClock();
  const store = new MemoryLeaseStore();
  const serverClock = new ServerClock();
  /** One machine's (one process's) context: its own observations. */
  const ctx = () => leaseContext(store, clock, serverClock);
  const release = (holder: string) => releaseLease(ctx(), { name: 'job', holder, delete: false, force: false });
  const holderOf = async () => (await store.get('job'))!.holding.holder;
  return { clock, store, ctx, release, holderOf };
}

/** Counts the changes of lease `name` delivered to a watcher: what wakes every waiter. */
async function wakeUps(store: MemoryLeaseStore, name = 'job') {
  const seen = { changes: 0 };
  await store.watch(name, undefined, { onChange: () => seen.changes++, onClose: () => {} });
  return seen;
}

describe('ranks', () => {
  const c = (priority: number, arrival: string) => candidateRank({ priority, arrival });
  test('higher priority first, then arrival compared as an integer (resource versions grow in digits)', () => {
    expect(ranksAhead(c(2, '900'), c(1, '100'))).toBe(true);
    expect(ranksAhead(c(1, '99'), c(1, '100'))).toBe(true);
    expect(ranksAhead(c(1, '100'), c(1, '99'))).toBe(false);
    expect(ranksAhead(c(1, '100'), { priority: 1, legacy: false })).toBe(true); // not registered yet: arrives now
    expect(ranksAhead({ priority: 1, legacy: false }, c(1, '100'))).toBe(false);
  });
  test('legacy entries (older koncli) rank before candidates of their priority, never before a higher one', () => {
    const legacy = legacyRank({ id: 'old', priority: 1, seq: 50, beat: 0 });
    expect(ranksAhead(legacy, c(1, '2'))).toBe(true);
    expect(ranksAhead(c(2, '999'), legacy)).toBe(true);
    expect(ranksAhead(legacy, legacyRank({ id: 'older', priority: 1, seq: 49, beat: 0 }))).toBe(false);
  });
});

describe('waiting', () => {
  test("heartbeats renew each waiter's own candidate and never write the lease the waiters watch", async () => {
    const { clock, store, ctx } = setup();
    await acquireOnce(ctx(), req('holder'));
    const waiting = ['w1', 'w2', 'w3', 'w4', 'w5'].map((id) => acquireLease(ctx(), req(id), { wait: true }).catch(() => undefined));
    await flush();
    expect(store.candidates.ids('job').sort()).toEqual(['w1', 'w2', 'w3', 'w4', 'w5']);
    const writesBefore = store.writes.length;
    const seen = await wakeUps(store);
    const { list } = store.candidates.calls;
    await clock.advance(4 * 60_000);
    expect(store.writes.length).toBe(writesBefore); // nothing written to the lease
    expect(seen.changes).toBe(0); // so no waiter was woken
    expect(store.candidates.calls.list).toBe(list); // and none looked at the others while the lease was held
    // Every waiter renewed its own candidate at least once per HEARTBEAT_MS.
    expect(store.candidates.calls.renew).toBeGreaterThanOrEqual(5 * Math.floor((4 * 60_000) / HEARTBEAT_MS));
    // A release ends one wait: the first in line takes the lease. (A deleted lease would not: its last claim stays in force until it would have expired.)
    await releaseLease(ctx(), { name: 'job', holder: 'holder', delete: false, force: false });
    for (let i = 0; i < 10 && (await store.get('job'))!.holding.holder === ''; i++) await clock.advance(1_000);
    expect((await store.get('job'))!.holding.holder).toBe('w1');
    await Promise.race(waiting);
  });

  test('the lease goes by priority, then arrival; a waiter that times out deletes its candidate', async () => {
    const { clock, store, ctx, release } = setup();
    await acquireOnce(ctx(), req('holder'));
    const order: string[] = [];
    const wait = (id: string, priority: number) => acquireLease(ctx(), req(id, priority), { wait: true }).then((r) => order.push(r.record.holding.holder));
    const low1 = wait('low-1', 1);
    await flush();
    const high = wait('high', 5);
    await flush();
    const low2 = wait('low-2', 1);
    await flush();
    const quitter = acquireLease(ctx(), req('quitter', 9), { wait: true, timeoutMs: 1000 }).catch((e: Error) => e.message);
    await flush();
    expect(store.candidates.ids('job').sort()).toEqual(['high', 'low-1', 'low-2', 'quitter']);
    await clock.advance(1001);
    expect(await quitter).toMatch(/held by holder/);
    expect(store.candidates.ids('job').sort()).toEqual(['high', 'low-1', 'low-2']);
    for (const holder of ['holder', 'high', 'low-1']) {
      await release(holder);
      await flush();
    }
    await Promise.all([low1, high, low2]);
    expect(order).toEqual(['high', 'low-1', 'low-2']);
    expect(store.candidates.ids('job')).toEqual([]); // each new holder deleted its candidate
  });

  test('a dead waiter ahead is skipped once its candidate goes stale, and its candidate is deleted', async () => {
    const { clock, store, ctx, release } = setup();
    await acquireOnce(ctx(), req('holder'));
    // A waiter with a higher priority that died (SIGKILL): its candidate stays, never renewed.
    await store.candidates.create('job', { id: 'ghost', priority: 100 }, clock.wallNow());
    const waiting = acquireLease(ctx(), req('alive'), { wait: true });
    await flush();
    await release('holder');
    await flush(); // the waiter reads the candidates as the lease frees: the ghost is first seen now
    await clock.advance(STALE_AFTER_MS - 1000);
    expect((await store.get('job'))!.holding.holder).toBe(''); // still waiting for the ghost
    await clock.advance(2000);
    expect((await waiting).record.holding.holder).toBe('alive');
    expect(store.candidates.ids('job')).toEqual([]); // the ghost's candidate was garbage-collected, ours deleted
  });

  test('a live waiter ahead keeps its place: it is not judged stale while it renews', async () => {
    const { clock, ctx, release, holderOf } = setup();
    await acquireOnce(ctx(), req('holder'));
    const first = acquireLease(ctx(), req('first', 5), { wait: true });
    await flush();
    const second = acquireLease(ctx(), req('second', 1), { wait: true });
    await flush();
    await clock.advance(3 * STALE_AFTER_MS);
    await release('holder');
    await flush();
    expect(await holderOf()).toBe('first');
    await release('first');
    await flush();
    expect(await holderOf()).toBe('second');
    await Promise.all([first, second]);
  });

  test('a waiter whose candidate was deleted under it (judged stale while stopped) registers again', async () => {
    const { clock, store, ctx } = setup();
    await acquireOnce(ctx(), req('holder'));
    const waiting = acquireLease(ctx(), req('w'), { wait: true, timeoutMs: 5 * HEARTBEAT_MS }).catch(() => 'gave up');
    await flush();
    const mine = (await store.candidates.list('job'))[0];
    await store.candidates.delete(mine);
    await clock.advance(HEARTBEAT_MS + 100);
    expect(store.candidates.ids('job')).toEqual(['w']);
    await clock.advance(5 * HEARTBEAT_MS);
    expect(await waiting).toBe('gave up');
    expect(store.candidates.ids('job')).toEqual([]);
  });

  test('entries of the legacy koncli.dev/waiters annotation are honoured in order, and dropped when stale', async () => {
    const { clock, store, ctx, release, holderOf } = setup();
    await acquireOnce(ctx(), req('holder'));
    /** The old koncli's entry, as it writes it (its beat counts up while it is alive). */
    const legacy = async (beat: number) => {
      const rec = (await store.get('job'))!;
      store.put({ ...rec, extras: { ...rec.extras, queue: { next: 2, waiters: [{ id: 'old-koncli', priority: 3, seq: 1, beat }] } } });
    };
    await legacy(0);
    const lower = acquireLease(ctx(), req('new-lower', 2), { wait: true });
    await flush();
    const higher = acquireLease(ctx(), req('new-higher', 4), { wait: true });
    await flush();
    await release('holder');
    await flush();
    expect(await holderOf()).toBe('new-higher');
    await release('new-higher');
    await flush();
    expect(await holderOf()).toBe(''); // the old koncli's live entry ranks ahead of new-lower
    await legacy(1); // the old koncli beats: still alive
    await clock.advance(STALE_AFTER_MS - 1000);
    expect(await holderOf()).toBe('');
    await clock.advance(STALE_AFTER_MS); // it stopped beating: stale, skipped, and dropped by the claim
    const got = await lower;
    expect(got.record.holding.holder).toBe('new-lower');
    expect(got.record.extras.queue.waiters).toEqual([]);
    await higher;
  });

  test('a waiter that finds the lease free and nobody waiting takes it without registering: one read of the candidates, no candidate', async () => {
    const { store, ctx, release } = setup();
    await acquireOnce(ctx(), req('before'));
    await release('before');
    const result = await acquireLease(ctx(), req('w'), { wait: true });
    expect(result.record.holding.holder).toBe('w');
    expect(store.candidates.calls.create).toBe(0);
    expect(store.candidates.calls.list).toBe(1);
  });

  test("a holder's leftover candidate (created before the watch showed it holding the lease) is nobody ahead", async () => {
    const { clock, store, ctx, release, holderOf } = setup();
    const start = clock.now();
    await acquireOnce(ctx(), req('holder'));
    const waiting = acquireLease(ctx(), req('w', 1), { wait: true });
    await flush();
    // A higher priority arrives after w's look at the candidates: w does not know of it, but reads it when the lease frees.
    await store.candidates.create('job', { id: 'urgent', priority: 9 }, clock.wallNow());
    await release('holder');
    await flush();
    expect(await holderOf()).toBe(''); // left to the one ahead, never claimed by w meanwhile
    // It takes the lease (here a one-shot); w's watch shows it holding, so the candidate it leaves
    // behind (created before that) ranks nowhere once it releases.
    await acquireOnce(ctx(), req('urgent'));
    await flush();
    await release('urgent');
    await flush();
    expect((await waiting).record.holding.holder).toBe('w');
    expect(clock.now() - start).toBeLessThan(STALE_AFTER_MS); // not by waiting out the leftover's staleness
  });

  test('a one-shot acquire neither registers nor honours the queue', async () => {
    const { store, ctx, release } = setup();
    await acquireOnce(ctx(), req('holder'));
    const waiting = acquireLease(ctx(), req('w', 5), { wait: true });
    await flush();
    await store.watch('job', undefined, { onChange: () => {}, onClose: () => {} });
    const { list } = store.candidates.calls;
    await release('holder');
    // The waiter is woken too, but the one-shot's read comes first here.
    const once = await acquireOnce(ctx(), req('one-shot')).catch((e: Error) => e.message);
    expect(typeof once === 'string' || once.record.holding.holder === 'one-shot').toBe(true);
    expect(store.candidates.ids('job')).not.toContain('one-shot');
    expect(store.candidates.calls.list).toBeGreaterThanOrEqual(list);
    await release(typeof once === 'string' ? 'w' : 'one-shot');
    await waiting;
  });
});

test('a legacy entry registered again after being dropped is not judged stale by its first registration', async () => {
  const clock = new FakeClock();
  const tracker = new ExpiryTracker(clock, new ServerClock());
  const first = { next: 1, waiters: [{ id: 'w', priority: 0, seq: 0, beat: 0 }] };
  expect(liveWaiters(first, tracker, 'test/job', clock.now())).toHaveLength(1);
  await clock.advance(STALE_AFTER_MS + 1);
  expect(liveWaiters(first, tracker, 'test/job', clock.now())).toHaveLength(0);
  const again = { next: 8, waiters: [{ id: 'w', priority: 0, seq: 7, beat: 0 }] };
  expect(liveWaiters(again, tracker, 'test/job', clock.now())).toHaveLength(1);
});
