import { ServerClock } from '../../../src/core/server-clock.js';
import { acquireLock, acquireLockOnce } from '../../../src/core/kubelock/acquire.js';
import { releaseLock } from '../../../src/core/kubelock/release.js';
import { decodeLock, encodeLock, lockAnnotationKey, msToNs } from '../../../src/core/kubelock/codec.js';
import { kubelockContext } from '../../../src/core/kubelock/model.js';
import { KoncliError } from '../../../src/core/errors.js';
import { MemoryKubelockStore } from '../../support/memory-kubelock-store.js';
import { FakeClock, flush } from '../../support/fake-clock.js';

/** The rows of issue 21 that core decides for giantswarm kubelock annotations. */

const KEY = lockAnnotationKey('deploy');
const SEC = 1_000_000_000n;

function setup() {
  const clock = new FakeClock();
  const store = new MemoryKubelockStore();
  const serverClock = new ServerClock();
  store.put('obj', {}, { uid: 'uid-1' });
  const ctx = () => kubelockContext(store, clock, serverClock);
  return { clock, store, ctx };
}

const req = (owner: string, ttlSeconds = 10) => ({ name: 'obj', lock: 'deploy', owner, ttlNs: BigInt(ttlSeconds) * SEC });
const pass = async (clock: FakeClock, ms: number) => {
  for (let left = ms; left > 0; left -= 500) await clock.advance(Math.min(500, left));
};

describe('kubelock claims', () => {
  test('an object being deleted gets no lock (rejected), nothing written', async () => {
    const { store, ctx } = setup();
    store.put('obj', {}, { uid: 'uid-1', terminating: { since: '2026-01-01T00:00:00.000Z', finalizers: ['example.com/keep'] } });
    await expect(acquireLockOnce(ctx(), req('a'))).rejects.toMatchObject({ kind: 'rejected', message: expect.stringMatching(/things\/obj is being deleted/) });
    await expect(acquireLock(ctx(), req('a'), { wait: true, timeoutMs: 1000 })).rejects.toMatchObject({ kind: 'rejected' });
    expect(store.writes).toEqual([]);
  });

  test('a waiter keeps the lock of an object re-created meanwhile (another uid) in force until it would have expired', async () => {
    const { clock, store, ctx } = setup();
    await acquireLockOnce(ctx(), req('a', 10));
    let got = false;
    const waiting = acquireLock(ctx(), req('b'), { wait: true }).then(() => (got = true));
    await flush();
    store.put('obj', {}, { uid: 'uid-2' });
    await pass(clock, 8000);
    expect(got).toBe(false);
    await pass(clock, 3000);
    await waiting;
    expect(decodeLock(KEY, (await store.get('obj'))!.annotations[KEY]).owner).toBe('b');
  });

  test('a lock whose answer came after 2/3 of its TTL is refused and given back', async () => {
    const { clock, store, ctx } = setup();
    const set = store.setAnnotation.bind(store);
    store.setAnnotation = async (...args) => {
      const written = await set(...args);
      if (args[3] !== null) await clock.advance(7000);
      return written;
    };
    const result = acquireLockOnce(ctx(), req('a', 10)).catch((e: KoncliError) => e);
    await clock.advance(0);
    expect(await result).toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/not counted.*gave the lock back/) });
    expect((await store.get('obj'))!.annotations[KEY]).toBeUndefined();
  });

  test('a forced release whose answer was lost is reported as done, with its Event', async () => {
    const { clock, store, ctx } = setup();
    store.put('obj', { [KEY]: encodeLock({ owner: 'b', createdAtNs: msToNs(clock.wallNow()), ttlNs: 10n * SEC }) }, { uid: 'uid-1' });
    const set = store.setAnnotation.bind(store);
    store.setAnnotation = async (...args) => {
      await set(...args);
      store.setAnnotation = set;
      throw new KoncliError('unreachable', 'request timed out', { transient: true });
    };
    const result = releaseLock(ctx(), { name: 'obj', lock: 'deploy', owner: 'ops', force: true });
    await pass(clock, 5000);
    await expect(result).resolves.toMatchObject({ outcome: 'released', previousOwner: 'b', forced: true });
    expect(store.events).toEqual([expect.objectContaining({ reason: 'KubelockForceReleased' })]);
  });

  test.each(['{"owner":"a","Owner":"b","ttl":1}', '{"owner":"a","owner":"b"}', '{"OWNER":"b"}', '{"owner":"a","TTL":1}'])(
    'refuses %s, which giantswarm/kubelock (Go) reads otherwise (corrupt)',
    (value) => {
      expect(() => decodeLock(KEY, value)).toThrow(expect.objectContaining({ kind: 'corrupt', message: expect.stringMatching(/Go/) }) as Error);
    },
  );
});
