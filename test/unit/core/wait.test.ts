// The wait loop's --timeout (src/core/wait.ts): it bounds the whole wait, requests in flight and
// the cleanup on the way out included, on a fake clock.
import { KoncliError } from '../../../src/core/errors.js';
import { ChangeFeed } from '../../../src/core/feed.js';
import type { Versioned, Watchable } from '../../../src/core/store.js';
import { WAIT_CLEANUP_MS, WAIT_DEADLINE_GRACE_MS } from '../../../src/core/timing.js';
import { boundedCleanup, waitOnObject, watchUntilDecided, type Decision } from '../../../src/core/wait.js';
import { FakeClock, flush } from '../../support/fake-clock.js';

interface Obj extends Versioned {
  holder: string;
}

const never = <T>() => new Promise<T>(() => {});
const unreachable = () => new KoncliError('unreachable', 'cannot reach the API server (request timed out)', { transient: true });

/** One object held by "pod-a"; reads never answer while `frozen`. */
class Held implements Watchable<Obj> {
  frozen = false;
  async get(): Promise<Obj | null> {
    return this.frozen ? never() : { version: '1', holder: 'pod-a' };
  }
  async watch(): Promise<() => void> {
    return () => {};
  }
}

const blocked = (): Decision<Obj, string> => ({ until: Infinity, giveUp: (why) => new KoncliError('busy', `held by pod-a${why}`) });

/** Settles `p` into when (fake ms after `t0`) and how it ended. */
const settled = (clock: FakeClock, t0: number, p: Promise<unknown>) =>
  p.then(
    (value) => ({ at: clock.now() - t0, value, error: undefined as KoncliError | undefined }),
    (error: KoncliError) => ({ at: clock.now() - t0, value: undefined, error }),
  );

function setup() {
  const clock = new FakeClock();
  const store = new Held();
  const feed = new ChangeFeed(store, 'job', clock, { version: '1', holder: 'pod-a' });
  return { clock, store, feed, t0: clock.now() };
}

describe('--timeout bounds the whole wait', () => {
  test('a request still unanswered at the deadline is given up after WAIT_DEADLINE_GRACE_MS: busy, naming the holder', async () => {
    const { clock, feed, t0 } = setup();
    let looks = 0;
    const waiting = settled(
      clock,
      t0,
      watchUntilDecided(feed, clock, { deadline: t0 + 10_000, startedAt: t0 }, () => (looks++ === 0 ? blocked() : never<Decision<Obj, string>>())),
    );
    await clock.advance(9_000);
    feed.offer({ version: '2', holder: 'pod-a' }); // a change: decide again, with a write that never answers
    await clock.advance(1_000 + WAIT_DEADLINE_GRACE_MS - 1);
    await flush();
    await clock.advance(1);
    const { at, error } = await waiting;
    expect(at).toBe(10_000 + WAIT_DEADLINE_GRACE_MS);
    expect(error?.kind).toBe('busy');
    expect(error?.message).toBe('held by pod-a (waited 12s)');
  });

  test('an answer that comes within the grace is used', async () => {
    const { clock, feed, t0 } = setup();
    let answer: (d: Decision<Obj, string>) => void = () => {};
    const waiting = settled(
      clock,
      t0,
      watchUntilDecided(feed, clock, { deadline: t0 + 10_000, startedAt: t0 }, () => new Promise<Decision<Obj, string>>((r) => (answer = r))),
    );
    await clock.advance(10_000 + WAIT_DEADLINE_GRACE_MS / 2);
    answer({ done: 'acquired' });
    expect(await waiting).toMatchObject({ value: 'acquired', at: 10_000 + WAIT_DEADLINE_GRACE_MS / 2 });
  });

  test('a transient failure at the deadline is the timeout (busy), saying what failed', async () => {
    const { clock, feed, t0 } = setup();
    let looks = 0;
    const waiting = settled(
      clock,
      t0,
      watchUntilDecided(feed, clock, { deadline: t0 + 10_000, startedAt: t0 }, async () => {
        if (looks++ === 0) return blocked();
        throw unreachable();
      }),
    );
    await clock.advance(1_000);
    feed.offer({ version: '2', holder: 'pod-a' });
    await clock.advance(9_000);
    const { at, error } = await waiting;
    expect(at).toBe(10_000);
    expect(error?.kind).toBe('busy');
    expect(error?.message).toMatch(/^held by pod-a \(waited 10s\); the last request failed: cannot reach the API server/);
  });

  test('without --timeout a transient failure is still the failure once the outage grace is over', async () => {
    const { clock, feed, t0 } = setup();
    const waiting = settled(
      clock,
      t0,
      watchUntilDecided(feed, clock, { deadline: Infinity, startedAt: t0 }, async () => {
        throw unreachable();
      }),
    );
    for (let i = 0; i < 130; i++) await clock.advance(1000);
    expect((await waiting).error?.kind).toBe('unreachable');
  });

  test('waitOnObject: a first read that never answers ends at the deadline plus the grace, busy', async () => {
    const { clock, store, t0 } = setup();
    store.frozen = true;
    const waiting = settled(
      clock,
      t0,
      waitOnObject(store, 'job', clock, { startedAt: t0, timeoutMs: 5_000, what: 'lease job' }, () => blocked()),
    );
    await clock.advance(5_000 + WAIT_DEADLINE_GRACE_MS);
    const { at, error } = await waiting;
    expect(at).toBe(5_000 + WAIT_DEADLINE_GRACE_MS);
    expect(error?.kind).toBe('busy');
    expect(error?.message).toBe('gave up waiting for lease job at --timeout (waited 7s), before it could be read');
  });
});

describe('boundedCleanup', () => {
  test('bounds each request and abandons the whole after WAIT_CLEANUP_MS; never throws', async () => {
    const clock = new FakeClock();
    const bounds: number[] = [];
    const withRequestTimeout = <X>(ms: number, fn: () => Promise<X>) => (bounds.push(ms), fn());
    const t0 = clock.now();
    const hung = settled(clock, t0, boundedCleanup(clock, never, withRequestTimeout));
    await clock.advance(WAIT_CLEANUP_MS);
    expect(await hung).toMatchObject({ at: WAIT_CLEANUP_MS, error: undefined });
    expect(bounds).toEqual([WAIT_CLEANUP_MS]);
    const failing = settled(
      clock,
      clock.now(),
      boundedCleanup(clock, () => Promise.reject(unreachable())),
    );
    await flush();
    expect(await failing).toMatchObject({ at: 0, error: undefined });
  });
});
