import { describe, expect, it } from '@jest/globals';
import { isKind, KoncliError } from '../../../src/core/errors.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { decodeSemaphore, encodeSemaphore } from '../../../src/core/semaphore/codec.js';
import type { LockRequest } from '../../../src/core/semaphore/decide.js';
import { lockOnce, lockSemaphore } from '../../../src/core/semaphore/lock.js';
import { semaphoreContext, type SemaphoreContext } from '../../../src/core/semaphore/model.js';
import { unlockSemaphore } from '../../../src/core/semaphore/unlock.js';
import { advanceInSteps, FakeClock, flush } from '../../support/fake-clock.js';
import { MemorySemaphoreStore } from '../../support/memory-semaphore-store.js';
import { WATCH_SILENCE_CHECK_MS } from '../../../src/core/timing.js';

const KUBE_LOCK_EXAMPLE = '{"max":1,"holders":{"holder-1":{"date":"2018-08-19T19:14:24Z","reason":"db restart"}}}';

function setup() {
  const clock = new FakeClock();
  const store = new MemorySemaphoreStore();
  const serverClock = new ServerClock();
  serverClock.sample(clock.now(), clock.now(), clock.now()); // as the GET before a write provides
  // One context per process: each has its own clock view, like separate koncli runs.
  const ctx = (): SemaphoreContext => semaphoreContext(store, clock, serverClock);
  return { clock, store, ctx };
}

const req = (holder: string, more: Partial<LockRequest> = {}): LockRequest => ({
  name: 'sem',
  namespace: 'test',
  holder,
  setMax: false,
  create: true,
  ...more,
});
const holdersOf = (store: MemorySemaphoreStore) => store.get('sem').then((o) => Object.keys(decodeSemaphore('sem', o!.annotation!).holders));

async function rejection(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return err as Error & { kind?: string };
  }
  throw new Error('expected a failure');
}

describe('lockOnce', () => {
  it('creates the ConfigMap only with --create', async () => {
    const { store, ctx } = setup();
    const err = await rejection(lockOnce(ctx(), req('a', { create: false })));
    expect(isKind(err, 'not-found')).toBe(true);
    expect(err.message).toMatch(/add --create/);
    const result = await lockOnce(ctx(), req('a', { max: 2 }));
    expect(result).toMatchObject({ outcome: 'acquired', created: true });
    expect(decodeSemaphore('sem', (await store.get('sem'))!.annotation!).max).toBe(2);
  });

  it('honours a semaphore kube-lock wrote and refuses when it is full, naming the holder', async () => {
    const { store, ctx } = setup();
    store.put('sem', KUBE_LOCK_EXAMPLE);
    const err = await rejection(lockOnce(ctx(), req('holder-2')));
    expect(isKind(err, 'busy')).toBe(true);
    expect(err.message).toBe('semaphore sem is full: 1/1 held by holder-1 (db restart)');
    expect(store.history).toEqual([KUBE_LOCK_EXAMPLE]);
  });

  it('writes nothing when a current holder locks again', async () => {
    const { store, ctx } = setup();
    store.put('sem', KUBE_LOCK_EXAMPLE);
    const result = await lockOnce(ctx(), req('holder-1', { reason: 'again' }));
    expect(result.outcome).toBe('already-held');
    expect(store.history).toHaveLength(1);
  });

  it('re-decides after losing a race: the slot the winner took is no longer free', async () => {
    const { store, ctx } = setup();
    store.put('sem', '{"max":2,"holders":{"a":{"date":"","reason":""}}}');
    store.beforeNextWrite = () => store.put('sem', '{"max":2,"holders":{"a":{"date":"","reason":""},"b":{"date":"","reason":""}}}');
    const err = await rejection(lockOnce(ctx(), req('c')));
    expect(store.conflicts).toBe(1);
    expect(isKind(err, 'busy')).toBe(true);
    expect(await holdersOf(store)).toEqual(['a', 'b']);
  });

  it("re-decides after losing a race and keeps the winner's change", async () => {
    const { store, ctx } = setup();
    store.put('sem', '{"max":3,"holders":{}}');
    store.beforeNextWrite = () => store.put('sem', '{"max":3,"holders":{"b":{"date":"","reason":""}},"note":"kept"}');
    await lockOnce(ctx(), req('c'));
    expect(store.conflicts).toBe(1);
    const after = decodeSemaphore('sem', (await store.get('sem'))!.annotation!);
    expect(Object.keys(after.holders)).toEqual(['b', 'c']);
    expect(after.unknown).toEqual({ note: 'kept' });
  });

  it('re-reads when a concurrent create won', async () => {
    const { store, ctx } = setup();
    store.beforeNextWrite = () => store.put('sem', '{"max":1,"holders":{"x":{"date":"","reason":""}}}');
    const err = await rejection(lockOnce(ctx(), req('a')));
    expect(isKind(err, 'busy')).toBe(true);
  });

  it('leaves a corrupt annotation untouched', async () => {
    const { store, ctx } = setup();
    store.put('sem', '{"max":0}');
    expect(isKind(await rejection(lockOnce(ctx(), req('a'))), 'corrupt')).toBe(true);
    expect(isKind(await rejection(unlockSemaphore(ctx(), { name: 'sem', namespace: 'test', holder: 'a', force: false, by: 'me' })), 'corrupt')).toBe(true);
    expect(store.history).toEqual(['{"max":0}']);
  });

  it('refuses a different --max, and changes it with --set-max even when full', async () => {
    const { store, ctx } = setup();
    store.put('sem', KUBE_LOCK_EXAMPLE);
    expect(isKind(await rejection(lockOnce(ctx(), req('holder-2', { max: 2 }))), 'usage')).toBe(true);
    expect(isKind(await rejection(lockOnce(ctx(), req('holder-2', { max: 1, setMax: true }))), 'busy')).toBe(true);
    const result = await lockOnce(ctx(), req('holder-2', { max: 2, setMax: true }));
    expect(result.outcome).toBe('acquired');
    expect(decodeSemaphore('sem', result.object.annotation!).max).toBe(2);
  });
});

describe('lockSemaphore --wait', () => {
  it('takes a slot when the watch shows one freed, without polling', async () => {
    const { store, ctx, clock } = setup();
    store.put('sem', KUBE_LOCK_EXAMPLE);
    let gets = 0;
    const get = store.get.bind(store);
    store.get = (name) => (gets++, get(name));
    let done = false;
    const waiting = lockSemaphore(ctx(), req('holder-2'), { wait: true, timeoutMs: 60_000 }).finally(() => (done = true));
    await flush();
    await clock.advance(30_000);
    expect(done).toBe(false);
    // the initial read; after that the watch, and one liveness read per WATCH_SILENCE_CHECK_MS of silence
    expect(gets).toBe(1 + Math.floor(30_000 / WATCH_SILENCE_CHECK_MS));
    store.put('sem', '{"max":1,"holders":{}}'); // kube-lock --unlock
    const result = await waiting;
    expect(result.outcome).toBe('acquired');
    expect(result.waitedMs).toBe(30_000);
    expect(await holdersOf(store)).toEqual(['holder-2']);
  });

  it('gives up with busy at --timeout', async () => {
    const { store, ctx, clock } = setup();
    store.put('sem', KUBE_LOCK_EXAMPLE);
    const waiting = rejection(lockSemaphore(ctx(), req('holder-2'), { wait: true, timeoutMs: 5_000 }));
    await flush();
    await clock.advance(5_000);
    const err = await waiting;
    expect(isKind(err, 'busy')).toBe(true);
    expect(err.message).toMatch(/held by holder-1 \(db restart\) \(waited 5s\)/);
  });

  it('takes the slot of a --ttl holder that never unlocks once its TTL has run out, and prunes it', async () => {
    const { store, ctx, clock } = setup();
    await lockOnce(ctx(), req('short', { ttlSeconds: 10, max: 1 }));
    let done = false;
    const waiting = lockSemaphore(ctx(), req('next'), { wait: true }).finally(() => (done = true));
    await flush();
    await clock.advance(9_000);
    expect(done).toBe(false);
    await clock.advance(2_000);
    const result = await waiting;
    expect(result.outcome).toBe('acquired');
    expect(await holdersOf(store)).toEqual(['next']);
  });

  it('never lets more than max hold at once under contention, and serves everyone', async () => {
    const { store, ctx, clock } = setup();
    store.put('sem', '{"max":3,"holders":{}}');
    const ids = Array.from({ length: 12 }, (_, i) => `w${i}`);
    const served: string[] = [];
    let finished = 0;
    const workers = ids.map(async (id) => {
      const c = ctx();
      await lockSemaphore(c, req(id), { wait: true });
      served.push(id);
      await clock.sleep(1_000);
      await unlockSemaphore(c, { name: 'sem', namespace: 'test', holder: id, force: false, by: id });
      finished++;
    });
    for (let i = 0; i < 60 && finished < ids.length; i++) await clock.advance(500);
    await Promise.all(workers);
    expect(served.sort()).toEqual([...ids].sort());
    expect(store.conflicts).toBeGreaterThan(0);
    const peak = Math.max(...store.history.map((a) => Object.keys(decodeSemaphore('sem', a).holders).length));
    expect(peak).toBe(3);
    expect(await holdersOf(store)).toEqual([]);
  });
});

describe('unlockSemaphore', () => {
  it('frees the slot; a holder whose slot is already gone is already-free (idempotent), writing nothing; a force naming it is not-held', async () => {
    const { store, ctx } = setup();
    store.put('sem', KUBE_LOCK_EXAMPLE);
    const version = (await store.get('sem'))!.version;
    const gone = await unlockSemaphore(ctx(), { name: 'sem', namespace: 'test', holder: 'holder-2', force: false, by: 'holder-2' });
    expect(gone).toMatchObject({ outcome: 'already-free', removed: [] });
    expect((await store.get('sem'))!.version).toBe(version);
    const forced = await rejection(
      unlockSemaphore(ctx(), { name: 'sem', namespace: 'test', holder: 'operator', ifHolder: ['holder-2'], force: true, by: 'operator' }),
    );
    expect(isKind(forced, 'not-held')).toBe(true);
    const result = await unlockSemaphore(ctx(), { name: 'sem', namespace: 'test', holder: 'holder-1', force: false, by: 'holder-1' });
    expect(result).toMatchObject({ outcome: 'unlocked', forced: false, expired: false, reason: 'db restart' });
    expect((await store.get('sem'))!.annotation).toBe('{"max":1,"holders":{}}');
    expect(store.events).toEqual([]);
  });

  it('records who removed whom with --force', async () => {
    const { store, ctx } = setup();
    store.put('sem', KUBE_LOCK_EXAMPLE);
    await unlockSemaphore(ctx(), { name: 'sem', namespace: 'test', holder: 'operator', ifHolder: ['holder-1'], force: true, by: 'operator' });
    expect(store.events).toEqual([{ name: 'sem', reason: 'ForceUnlocked', message: 'operator force-removed holder holder-1 from semaphore sem (koncli)' }]);
  });

  it("a missing semaphore (or a ConfigMap without the annotation): one's own unlock is already-free, a force is not-found", async () => {
    const { store, ctx } = setup();
    const u = (force: boolean) => unlockSemaphore(ctx(), { name: 'sem', namespace: 'test', holder: 'a', ...(force && { ifHolder: ['a'] }), force, by: 'a' });
    expect(await u(false)).toMatchObject({ outcome: 'already-free', object: null, state: null });
    expect(isKind(await rejection(u(true)), 'not-found')).toBe(true);
    store.put('sem', undefined);
    expect(await u(false)).toMatchObject({ outcome: 'already-free' });
    expect((await rejection(u(true))).message).toMatch(/not a semaphore/);
  });

  it('reports a lapsed slot and prunes other lapsed holders', async () => {
    const { store, ctx, clock } = setup();
    store.put('sem', encodeSemaphore({ max: 3, holders: {}, unknown: {} }));
    const c = ctx();
    await lockOnce(c, req('a', { ttlSeconds: 5 }));
    await lockOnce(c, req('b', { ttlSeconds: 5 }));
    await lockOnce(c, req('c'));
    await clock.advance(6_000);
    const result = await unlockSemaphore(c, { name: 'sem', namespace: 'test', holder: 'a', force: false, by: 'a' });
    expect(result.expired).toBe(true);
    expect(Object.keys(result.state!.holders)).toEqual(['c']);
  });
});

// ---- issue 21's claim rules for semaphores

const terminating = { since: '2026-01-01T00:00:00.000Z', finalizers: ['example.com/keep'] };

describe('semaphore claims', () => {
  it('refuses to lock a ConfigMap that is being deleted (rejected), writing nothing', async () => {
    const { store, ctx } = setup();
    store.put('sem', '{"max":2,"holders":{}}', { terminating });
    const before = store.history.length;
    await expect(lockOnce(ctx(), req('a'))).rejects.toMatchObject({ kind: 'rejected', message: expect.stringMatching(/semaphore sem .*being deleted/) });
    await expect(lockSemaphore(ctx(), req('a'), { wait: true, timeoutMs: 1000 })).rejects.toMatchObject({ kind: 'rejected' });
    expect(store.history.length).toBe(before);
  });

  it('a waiter counts the holders of a deleted semaphore until their TTLs run out, also when it is re-created', async () => {
    const { clock, store, ctx } = setup();
    await lockOnce(ctx(), req('a', { max: 1, ttlSeconds: 10 }));
    let got = false;
    const waiting = lockSemaphore(ctx(), req('b', { ttlSeconds: 10 }), { wait: true }).then(() => (got = true));
    await flush();
    store.remove('sem');
    await advanceInSteps(clock, 3000);
    expect(got).toBe(false); // --create would re-create it at once
    store.put('sem', '{"max":1,"holders":{}}', { uid: 'uid-2' });
    await advanceInSteps(clock, 5000);
    expect(got).toBe(false);
    await advanceInSteps(clock, 4000);
    await waiting;
    expect(await holdersOf(store)).toEqual(['b']);
  });

  it('a slot whose answer came after 2/3 of its TTL is no slot: refused and given back', async () => {
    const { clock, store, ctx } = setup();
    const write = store.write.bind(store);
    const create = store.create.bind(store);
    store.create = async (name, value) => {
      const written = await create(name, value);
      await clock.advance(7000);
      return written;
    };
    void write;
    const result = lockOnce(ctx(), req('a', { ttlSeconds: 10 })).catch((e: KoncliError) => e);
    await clock.advance(0);
    expect(await result).toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/not counted.*gave the slot back/) });
    expect(await holdersOf(store)).toEqual([]);
  });

  it('an unlock whose answer was lost but which landed is reported as done', async () => {
    const { clock, store, ctx } = setup();
    await lockOnce(ctx(), req('a'));
    const write = store.write.bind(store);
    store.write = async (obj, value) => {
      await write(obj, value);
      store.write = write;
      throw new KoncliError('unreachable', 'request timed out', { transient: true });
    };
    const result = unlockSemaphore(ctx(), { name: 'sem', namespace: 'test', holder: 'a', force: false, by: 'a' });
    await advanceInSteps(clock, 5000);
    await expect(result).resolves.toMatchObject({ forced: false });
    expect(await holdersOf(store)).toEqual([]);
  });

  it.each([
    '{"max":3,"Max":1,"holders":{}}',
    '{"max":1,"max":3}',
    '{"MAX":1}',
    '{"max":2,"holders":{"a":{"date":"","Date":""}}}',
    '{"max":2,"holders":{"a":{},"a":{}}}',
  ])('refuses %s, which kube-lock (Go) reads otherwise (corrupt), writing nothing', async (value) => {
    const { store, ctx } = setup();
    store.put('sem', value);
    const before = store.history.length;
    await expect(lockOnce(ctx(), req('a'))).rejects.toMatchObject({ kind: 'corrupt', message: expect.stringMatching(/Go/) });
    expect(store.history.length).toBe(before);
  });

  it('reads holders whose names differ only in case as the two holders they are (a map, not a struct)', () => {
    expect(Object.keys(decodeSemaphore('sem', '{"max":2,"holders":{"a":{"date":""},"A":{"date":""}}}').holders)).toEqual(['a', 'A']);
    expect(encodeSemaphore(decodeSemaphore('sem', '{"max":1,"holders":{}}'))).toBe('{"max":1,"holders":{}}');
  });
});
