import { ExpiryTracker } from '../../../src/core/expiry.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { encodeLock, formatCreatedAt, lockAnnotationKey, msToNs } from '../../../src/core/kubelock/codec.js';
import { judgeLock, planAcquire, planRelease, type LockView } from '../../../src/core/kubelock/decide.js';
import type { AnnotatedObject } from '../../../src/core/kubelock/model.js';
import { FakeClock } from '../../support/fake-clock.js';

const KEY = lockAnnotationKey('deploy');
const SEC = 1_000_000_000n;

function setup() {
  const clock = new FakeClock();
  const serverClock = new ServerClock();
  return { clock, serverClock, tracker: new ExpiryTracker(clock, serverClock) };
}

const objectWith = (annotations: Record<string, string>, writtenAtMost: Record<string, number> = {}): AnnotatedObject => ({
  name: 'obj',
  version: '1',
  annotations: { unrelated: 'x', ...annotations },
  writtenAtMost,
});

const record = (owner: string, createdAtMs: number, ttlSeconds: number) =>
  encodeLock({ owner, createdAtNs: msToNs(createdAtMs), ttlNs: BigInt(ttlSeconds) * SEC });

describe('judging a kubelock', () => {
  test('no annotation: free', () => {
    const { clock, tracker } = setup();
    expect(judgeLock(objectWith({}), 'deploy', 'things/obj', tracker, clock.now())).toEqual({ lock: 'deploy', state: 'free' });
  });

  test('held for its TTL from when we first saw it, then expired', async () => {
    const { clock, tracker } = setup();
    const obj = objectWith({ [KEY]: record('op-1', clock.now(), 10) });
    const first = judgeLock(obj, 'deploy', 'things/obj', tracker, clock.now());
    expect(first).toMatchObject({ state: 'held', data: { owner: 'op-1' }, expiresAt: clock.now() + 10_000 });
    await clock.advance(9_999);
    expect(judgeLock(obj, 'deploy', 'things/obj', tracker, clock.now()).state).toBe('held');
    await clock.advance(1);
    expect(judgeLock(obj, 'deploy', 'things/obj', tracker, clock.now()).state).toBe('expired');
  });

  test.each([
    ['a minute ahead', 60_000],
    ['a minute behind', -60_000],
  ])('an owner whose clock is %s: its createdAt changes nothing', async (_label, skew) => {
    const { clock, tracker } = setup();
    const obj = objectWith({ [KEY]: record('skewed', clock.now() + skew, 10) });
    expect(judgeLock(obj, 'deploy', 'things/obj', tracker, clock.now()).state).toBe('held');
    await clock.advance(9_999);
    // Ahead: its createdAt says "50 s left"; behind: "expired 50 s ago". Both are ignored.
    expect(judgeLock(obj, 'deploy', 'things/obj', tracker, clock.now()).state).toBe('held');
    await clock.advance(1);
    expect(judgeLock(obj, 'deploy', 'things/obj', tracker, clock.now()).state).toBe('expired');
  });

  test("the server's time of the annotation's last write bounds a lock first seen late", async () => {
    const { clock, tracker, serverClock } = setup();
    const offset = 30_000; // the API server's clock runs 30 s ahead of ours
    serverClock.sample(clock.now() + offset, clock.now(), clock.now());
    const writtenAt = clock.now();
    const obj = objectWith({ [KEY]: record('op-1', writtenAt - 3_600_000, 10) }, { [KEY]: writtenAt + offset + 1000 });
    await clock.advance(5_000); // we first look 5 s after the write
    const view = judgeLock(obj, 'deploy', 'things/obj', tracker, clock.now());
    expect(view.expiresAt).toBe(writtenAt + 11_000); // write + 1 s precision + TTL, not first-seen + TTL
    await clock.advance(5_999);
    expect(judgeLock(obj, 'deploy', 'things/obj', tracker, clock.now()).state).toBe('held');
    await clock.advance(1);
    expect(judgeLock(obj, 'deploy', 'things/obj', tracker, clock.now()).state).toBe('expired');
  });

  test('a refreshed record (new createdAt) restarts the observed time', async () => {
    const { clock, tracker } = setup();
    await clock.advance(0);
    judgeLock(objectWith({ [KEY]: record('op-1', clock.now(), 10) }), 'deploy', 'things/obj', tracker, clock.now());
    await clock.advance(8_000);
    const refreshed = objectWith({ [KEY]: record('op-1', clock.now(), 10) });
    expect(judgeLock(refreshed, 'deploy', 'things/obj', tracker, clock.now()).expiresAt).toBe(clock.now() + 10_000);
  });

  test('an unreadable record is corrupt', () => {
    const { clock, tracker } = setup();
    expect(() => judgeLock(objectWith({ [KEY]: '{' }), 'deploy', 'things/obj', tracker, clock.now())).toThrow(expect.objectContaining({ kind: 'corrupt' }));
  });
});

const held = (owner: string, state: 'held' | 'expired' = 'held'): LockView => ({
  lock: 'deploy',
  state,
  data: { owner, createdAt: formatCreatedAt(0n), createdAtNs: 0n, ttlNs: 10n * SEC },
  expiresAt: 1000,
});

describe('acquire decisions', () => {
  const now = 1_700_000_000_123;
  const req = (owner: string, ttlNs?: bigint) => ({ name: 'obj', lock: 'deploy', owner, ttlNs });

  test('free: acquired, with the default TTL and createdAt = now in nanoseconds', () => {
    expect(planAcquire({ lock: 'deploy', state: 'free' }, req('a'), now)).toEqual({
      kind: 'write',
      outcome: 'acquired',
      value: { owner: 'a', createdAtNs: 1_700_000_000_123_000_000n, ttlNs: 300n * SEC },
    });
  });

  test("expired (anyone's): acquired", () => {
    expect(planAcquire(held('b', 'expired'), req('a', 7n * SEC), now)).toMatchObject({ kind: 'write', outcome: 'acquired', value: { ttlNs: 7n * SEC } });
    expect(planAcquire(held('a', 'expired'), req('a'), now)).toMatchObject({ kind: 'write', outcome: 'acquired' });
  });

  test('held by the same owner: refreshed with a new createdAt and the requested TTL', () => {
    expect(planAcquire(held('a'), req('a', 60n * SEC), now)).toEqual({
      kind: 'write',
      outcome: 'refreshed',
      value: { owner: 'a', createdAtNs: msToNs(now), ttlNs: 60n * SEC },
    });
  });

  test('held by another owner: busy', () => {
    expect(planAcquire(held('b'), req('a'), now)).toEqual({ kind: 'busy', view: held('b') });
  });
});

describe('release decisions', () => {
  const req = (owner: string, force = false) => ({ name: 'obj', lock: 'deploy', owner, force });

  test('the owner may release, also after expiry', () => {
    expect(planRelease(held('a'), req('a'), 'things/obj')).toEqual({ forced: false });
    expect(planRelease(held('a', 'expired'), req('a'), 'things/obj')).toEqual({ forced: false });
  });

  test("another owner's lock, live or expired, only with force", () => {
    for (const state of ['held', 'expired'] as const) {
      expect(() => planRelease(held('b', state), req('a'), 'things/obj')).toThrow(
        expect.objectContaining({ kind: 'not-held', details: expect.objectContaining({ reason: 'other-owner', owner: 'b' }) }),
      );
      expect(planRelease(held('b', state), req('a', true), 'things/obj')).toEqual({ forced: true });
    }
  });

  test('a lock that is not there is not-held (reason absent), even with force', () => {
    for (const force of [false, true]) {
      expect(() => planRelease({ lock: 'deploy', state: 'free' }, req('a', force), 'things/obj')).toThrow(
        expect.objectContaining({ kind: 'not-held', details: expect.objectContaining({ reason: 'absent' }) }),
      );
    }
  });
});
