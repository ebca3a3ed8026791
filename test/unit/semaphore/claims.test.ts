import { describe, expect, it } from '@jest/globals';
import { KoncliError } from '../../../src/core/errors.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { decodeSemaphore, encodeSemaphore } from '../../../src/core/semaphore/codec.js';
import type { LockRequest } from '../../../src/core/semaphore/decide.js';
import { lockOnce, lockSemaphore } from '../../../src/core/semaphore/lock.js';
import { semaphoreContext, type SemaphoreContext } from '../../../src/core/semaphore/model.js';
import { unlockSemaphore } from '../../../src/core/semaphore/unlock.js';
import { FakeClock, flush } from '../../support/fake-clock.js';
import { MemorySemaphoreStore } from '../../support/memory-semaphore-store.js';

/** The rows of issue 21 that core decides for kube-lock semaphores. */

function setup() {
  const clock = new FakeClock();
  const store = new MemorySemaphoreStore();
  const serverClock = new ServerClock();
  serverClock.sample(clock.now(), clock.now(), clock.now());
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
const holders = (store: MemorySemaphoreStore) => store.get('sem').then((o) => Object.keys(decodeSemaphore('sem', o!.annotation!).holders));
const pass = async (clock: FakeClock, ms: number) => {
  for (let left = ms; left > 0; left -= 500) await clock.advance(Math.min(500, left));
};
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
    await pass(clock, 3000);
    expect(got).toBe(false); // --create would re-create it at once
    store.put('sem', '{"max":1,"holders":{}}', { uid: 'uid-2' });
    await pass(clock, 5000);
    expect(got).toBe(false);
    await pass(clock, 4000);
    await waiting;
    expect(await holders(store)).toEqual(['b']);
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
    expect(await holders(store)).toEqual([]);
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
    await pass(clock, 5000);
    await expect(result).resolves.toMatchObject({ forced: false });
    expect(await holders(store)).toEqual([]);
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
