import { ServerClock } from '../../../src/core/server-clock.js';
import { acquireLock, acquireLockOnce } from '../../../src/core/kubelock/acquire.js';
import { releaseLock } from '../../../src/core/kubelock/release.js';
import { decodeLock, encodeLock, lockAnnotationKey, msToNs } from '../../../src/core/kubelock/codec.js';
import { kubelockContext } from '../../../src/core/kubelock/model.js';
import { MemoryKubelockStore } from '../../support/memory-kubelock-store.js';
import { advanceInSteps, FakeClock, flush } from '../../support/fake-clock.js';
import { KoncliError } from '../../../src/core/errors.js';

const KEY = lockAnnotationKey('deploy');
const SEC = 1_000_000_000n;

function setup() {
  const clock = new FakeClock();
  const store = new MemoryKubelockStore();
  const serverClock = new ServerClock();
  store.put('obj', { keep: 'me' });
  /** Each call: another process (its own observations), same store and clock. */
  const ctx = () => kubelockContext(store, clock, serverClock);
  return { clock, store, ctx };
}

const req = (owner: string, ttlSeconds = 10) => ({ name: 'obj', lock: 'deploy', owner, ttlNs: BigInt(ttlSeconds) * SEC });
const foreign = (owner: string, createdAtMs: number, ttlSeconds = 10) =>
  encodeLock({ owner, createdAtNs: msToNs(createdAtMs), ttlNs: BigInt(ttlSeconds) * SEC });

describe('acquiring a kubelock', () => {
  test('acquires a free lock, writing only its annotation with its own writer', async () => {
    const { ctx, store } = setup();
    const got = await acquireLockOnce(ctx(), req('a'));
    expect(got).toMatchObject({ outcome: 'acquired', previousOwner: null, data: { owner: 'a', ttlNs: 10n * SEC } });
    const obj = (await store.get('obj'))!;
    expect(obj.annotations.keep).toBe('me');
    expect(store.writes).toEqual([{ name: 'obj', key: KEY, value: obj.annotations[KEY], writer: 'kubelock-deploy' }]);
  });

  test("the holder's own deadline (expiresAt) is the TTL from before its write was sent, never after an observer's", async () => {
    const { ctx, clock, store } = setup();
    const observer = ctx();
    const sentAt = clock.now();
    const write = store.setAnnotation.bind(store);
    store.setAnnotation = async (...args) => {
      const written = await write(...args);
      await acquireLockOnce(observer, req('b')).catch(() => {}); // an observer sees the write at once
      await clock.advance(700); // while the response is still on its way to the holder
      return written;
    };
    const got = await acquireLockOnce(ctx(), req('a'));
    store.setAnnotation = write;
    expect(got.expiresAt).toBe(sentAt + 10_000); // not the 700 ms later the response arrived
    await clock.advance(sentAt + 9_999 - clock.now());
    await expect(acquireLockOnce(observer, req('b'))).rejects.toMatchObject({ kind: 'busy' });
    await clock.advance(1); // the observer, who saw the write at once, may take it from here
    await expect(acquireLockOnce(observer, req('b'))).resolves.toMatchObject({ outcome: 'acquired' });
  });

  test('another owner is busy, told who holds it and until when', async () => {
    const { ctx, clock } = setup();
    await acquireLockOnce(ctx(), req('a'));
    await expect(acquireLockOnce(ctx(), req('b'))).rejects.toMatchObject({
      kind: 'busy',
      message: expect.stringContaining('held by "a"'),
      details: { owner: 'a', expiresAt: new Date(clock.now() + 10_000).toISOString() },
    });
  });

  test('the same owner refreshes: a new createdAt, same format', async () => {
    const { ctx, clock, store } = setup();
    const first = await acquireLockOnce(ctx(), req('a'));
    await clock.advance(4_000);
    const again = await acquireLockOnce(ctx(), req('a', 30));
    expect(again.outcome).toBe('refreshed');
    expect(again.previousOwner).toBe('a');
    expect(again.data.createdAtNs! - first.data.createdAtNs!).toBe(4_000_000_000n);
    expect(again.data.createdAt).toMatch(/\.\d{9}Z$/);
    expect(again.data.ttlNs).toBe(30n * SEC);
    expect(store.writes).toHaveLength(2);
  });

  test('takes over a giantswarm lock once its TTL has passed on our clock', async () => {
    const { ctx, clock, store } = setup();
    store.put('obj', { keep: 'me', [KEY]: foreign('operator-v1.2.0', clock.now(), 3) });
    const observer = ctx();
    await expect(acquireLockOnce(observer, req('koncli'))).rejects.toMatchObject({ kind: 'busy' });
    await clock.advance(2_999);
    await expect(acquireLockOnce(observer, req('koncli'))).rejects.toMatchObject({ kind: 'busy' });
    await clock.advance(1);
    const taken = await acquireLockOnce(observer, req('koncli'));
    expect(taken).toMatchObject({ outcome: 'acquired', previousOwner: 'operator-v1.2.0' });
  });

  test("a lost write race is re-decided on the winner's state", async () => {
    const { ctx, clock, store } = setup();
    store.beforeNextWrite = () => store.put('obj', { keep: 'me', [KEY]: foreign('winner', clock.now()) });
    await expect(acquireLockOnce(ctx(), req('a'))).rejects.toMatchObject({ kind: 'busy', details: { owner: 'winner' } });
    expect(store.writes).toHaveLength(0);
  });

  test('a missing object is not-found; a corrupt record is refused', async () => {
    const { ctx, store } = setup();
    await expect(acquireLockOnce(ctx(), { ...req('a'), name: 'gone' })).rejects.toMatchObject({ kind: 'not-found' });
    store.put('obj', { [KEY]: 'garbage' });
    await expect(acquireLockOnce(ctx(), req('a'))).rejects.toMatchObject({ kind: 'corrupt' });
  });

  test('waiting: watches the object and takes the lock when its owner releases it', async () => {
    const { ctx, clock, store } = setup();
    await acquireLockOnce(ctx(), req('a', 300));
    let done = false;
    const waiting = acquireLock(ctx(), req('b'), { wait: true }).finally(() => (done = true));
    await flush();
    await clock.advance(1_000);
    expect(done).toBe(false);
    await releaseLock(ctx(), { name: 'obj', lock: 'deploy', owner: 'a', force: false });
    await flush();
    const got = await waiting;
    expect(got).toMatchObject({ outcome: 'acquired', previousOwner: null });
    expect(decodeLock(KEY, (await store.get('obj'))!.annotations[KEY]).owner).toBe('b');
  });

  test('waiting: takes an abandoned lock when its TTL runs out, with no change to the object', async () => {
    const { ctx, clock } = setup();
    await acquireLockOnce(ctx(), req('a', 5));
    let result: unknown;
    const waiting = acquireLock(ctx(), req('b'), { wait: true }).then((r) => (result = r));
    await flush(); // the waiter first sees the lock now, when it was written
    await clock.advance(4_999);
    expect(result).toBeUndefined();
    await clock.advance(2);
    await waiting;
    expect(result).toMatchObject({ outcome: 'acquired', previousOwner: 'a' });
  });

  test('waiting gives up at the timeout with busy', async () => {
    const { ctx, clock } = setup();
    await acquireLockOnce(ctx(), req('a', 300));
    const waiting = acquireLock(ctx(), req('b'), { wait: true, timeoutMs: 2_000 }).catch((e) => e);
    await flush();
    await clock.advance(2_001);
    expect(await waiting).toMatchObject({ kind: 'busy', message: expect.stringContaining('(waited 2s)') });
  });
});

describe('releasing a kubelock', () => {
  const rel = (owner: string, force = false) => ({ name: 'obj', lock: 'deploy', owner, force });

  test('the owner removes the annotation and nothing else', async () => {
    const { ctx, store } = setup();
    await acquireLockOnce(ctx(), req('a'));
    expect(await releaseLock(ctx(), rel('a'))).toEqual({ outcome: 'released', previousOwner: 'a', expired: false, forced: false });
    expect((await store.get('obj'))!.annotations).toEqual({ keep: 'me' });
    expect(store.writes.at(-1)).toEqual({ name: 'obj', key: KEY, value: null, writer: 'kubelock-deploy' });
    expect(store.events).toHaveLength(0);
  });

  test('the owner removes its expired lock', async () => {
    const { ctx, clock } = setup();
    await acquireLockOnce(ctx(), req('a', 1));
    const observer = ctx();
    await expect(releaseLock(observer, { ...rel('b') })).rejects.toMatchObject({ kind: 'not-held' }); // observer sees it now
    await clock.advance(1_000);
    expect(await releaseLock(observer, rel('a'))).toEqual({ outcome: 'released', previousOwner: 'a', expired: true, forced: false });
  });

  test("someone else's lock: not-held; with --force removed and an Event names who and whom", async () => {
    const { ctx, store } = setup();
    await acquireLockOnce(ctx(), req('a'));
    await expect(releaseLock(ctx(), rel('b'))).rejects.toMatchObject({ kind: 'not-held', details: { reason: 'other-owner', owner: 'a' } });
    expect(await releaseLock(ctx(), rel('b', true))).toMatchObject({ forced: true, previousOwner: 'a' });
    expect(store.events).toEqual([
      { name: 'obj', reason: 'KubelockForceReleased', message: expect.stringMatching(/^b force-released kubelock deploy held by a/) },
    ]);
  });

  test("a lock that is not there: one's own release is already-free; a force is not-held (absent); no object: already-free, a force not-found", async () => {
    const { ctx, store } = setup();
    await expect(releaseLock(ctx(), { ...rel('a'), name: 'missing' })).resolves.toMatchObject({ outcome: 'already-free', previousOwner: null });
    await expect(releaseLock(ctx(), { ...rel('a', true), name: 'missing' })).rejects.toMatchObject({ kind: 'not-found' });
    store.put('obj', { keep: 'me' });
    await expect(releaseLock(ctx(), rel('a'))).resolves.toMatchObject({ outcome: 'already-free', previousOwner: null });
    await expect(releaseLock(ctx(), rel('a', true))).rejects.toMatchObject({ kind: 'not-held', details: { reason: 'absent' } });
    expect((await store.get('obj'))!.annotations).toEqual({ keep: 'me' });
  });

  test('a corrupt record: refused, unless forced', async () => {
    const { ctx, store } = setup();
    store.put('obj', { keep: 'me', [KEY]: 'garbage' });
    await expect(releaseLock(ctx(), rel('a'))).rejects.toMatchObject({ kind: 'corrupt' });
    expect(await releaseLock(ctx(), rel('a', true))).toMatchObject({ forced: true });
    expect((await store.get('obj'))!.annotations).toEqual({ keep: 'me' });
  });

  test("a release that races a new owner never removes the new owner's lock", async () => {
    const { ctx, clock, store } = setup();
    await acquireLockOnce(ctx(), req('a'));
    store.beforeNextWrite = () => store.put('obj', { keep: 'me', [KEY]: foreign('c', clock.now()) });
    await expect(releaseLock(ctx(), rel('a'))).rejects.toMatchObject({ kind: 'not-held', details: { owner: 'c' } });
    expect(decodeLock(KEY, (await store.get('obj'))!.annotations[KEY]).owner).toBe('c');
  });
});

// ---- issue 21's claim rules for kubelocks

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
    store.put('obj', {}, { uid: 'uid-1' });
    await acquireLockOnce(ctx(), req('a', 10));
    let got = false;
    const waiting = acquireLock(ctx(), req('b'), { wait: true }).then(() => (got = true));
    await flush();
    store.put('obj', {}, { uid: 'uid-2' });
    await advanceInSteps(clock, 8000);
    expect(got).toBe(false);
    await advanceInSteps(clock, 3000);
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
    await advanceInSteps(clock, 5000);
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
