// The one retry policy (src/core/retry.ts) and the one wait loop (src/core/wait.ts), on a fake clock.
import { ConflictError, KoncliError } from '../../src/core/errors.js';
import { ChangeFeed } from '../../src/core/feed.js';
import { Backoff, DEFAULT_BACKOFF, isTransient, MAX_CONFLICT_RETRIES, retryAfterOf, retryOnConflict, RetryWindow } from '../../src/core/retry.js';
import type { Versioned, Watchable } from '../../src/core/store.js';
import { CONFLICT_SETTLE_MS, ONE_SHOT_RETRY_MS, OUTAGE_GRACE_MS } from '../../src/core/timing.js';
import { watchUntilDecided } from '../../src/core/wait.js';
import { FakeClock, flush } from '../support/fake-clock.js';

const unreachable = () => new KoncliError('unreachable', 'cannot reach the API server (ECONNREFUSED)', { transient: true });
const http = (status: number, retryAfterMs?: number) =>
  new KoncliError('error', `patch leases x failed (HTTP ${status})`, { status, transient: true, ...(retryAfterMs !== undefined && { retryAfterMs }) });
const forbidden = () => new KoncliError('forbidden', 'RBAC said no', { status: 403, transient: false });

/** Settles `p` into 'ok' or the failure's kind, without an unhandled rejection. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: KoncliError) => err.kind,
  );

describe('what is transient', () => {
  test('the adapter decides (details.transient)', () => {
    expect(isTransient(http(500))).toBe(true);
    expect(isTransient(http(429, 1000))).toBe(true);
    expect(isTransient(unreachable())).toBe(true);
    expect(isTransient(new KoncliError('unreachable', 'no kubeconfig'))).toBe(false);
    expect(isTransient(new KoncliError('unreachable', '401', { status: 401, transient: false }))).toBe(false);
    expect(isTransient(forbidden())).toBe(false);
    expect(isTransient(new ConflictError())).toBe(false);
    expect(isTransient(new Error('boom'))).toBe(false);
    expect(retryAfterOf(http(429, 3000))).toBe(3000);
    expect(retryAfterOf(http(500))).toBeUndefined();
  });
});

describe('Backoff', () => {
  test('grows by the factor from the initial delay up to the cap; jitter adds at most its fraction', () => {
    const low = new Backoff(DEFAULT_BACKOFF, () => 0);
    const high = new Backoff(DEFAULT_BACKOFF, () => 0.999999);
    const lows = Array.from({ length: 8 }, () => low.next());
    const highs = Array.from({ length: 8 }, () => high.next());
    expect(lows).toEqual([250, 500, 1000, 2000, 4000, 4000, 4000, 4000]);
    highs.forEach((h, i) => {
      expect(h).toBeGreaterThanOrEqual(lows[i]);
      expect(h).toBeLessThan(lows[i] * (1 + DEFAULT_BACKOFF.jitter));
    });
  });

  test('jitter spreads clients that failed together', () => {
    const delays = new Set(Array.from({ length: 20 }, () => new Backoff().next()));
    expect(delays.size).toBeGreaterThan(1);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(250);
  });

  test("never sooner than the server's Retry-After; reset starts over", () => {
    const b = new Backoff(DEFAULT_BACKOFF, () => 0);
    expect(b.next(http(429, 3000))).toBe(3000); // Retry-After above the backoff wins
    expect(b.next(http(429, 100))).toBe(500); // below it, the backoff
    b.reset();
    expect(b.next()).toBe(250);
  });
});

describe('RetryWindow', () => {
  test('definite failures and aborts are rethrown; transient ones retried after the backoff', () => {
    const clock = new FakeClock();
    const w = new RetryWindow(clock, { deadline: Infinity, random: () => 0 });
    expect(() => w.retryAt(forbidden())).toThrow('RBAC said no');
    expect(() => w.retryAt(unreachable(), true)).toThrow('ECONNREFUSED');
    expect(w.retryAt(http(503))).toBe(clock.now() + 250);
    expect(w.retryAt(http(503))).toBe(clock.now() + 500);
  });

  test('bounded by the deadline: one last try at it, then the failure is thrown', async () => {
    const clock = new FakeClock();
    const deadline = clock.now() + 300;
    const w = new RetryWindow(clock, { deadline, random: () => 0 });
    expect(w.retryAt(http(500))).toBe(clock.now() + 250);
    expect(w.retryAt(http(500))).toBe(deadline); // 500 ms would be past it
    await clock.advance(300);
    expect(() => w.retryAt(http(500))).toThrow('HTTP 500');
  });

  test('a Retry-After past the deadline gives up at once (retrying sooner would ignore it)', () => {
    const clock = new FakeClock();
    const w = new RetryWindow(clock, { deadline: clock.now() + 2000 });
    expect(() => w.retryAt(http(429, 5000))).toThrow('HTTP 429');
    expect(w.retryAt(http(429, 1000))).toBeGreaterThanOrEqual(clock.now() + 1000);
  });

  test('without a deadline: OUTAGE_GRACE_MS of failures in a row; a success starts it over', async () => {
    const clock = new FakeClock();
    const notices: string[] = [];
    const w = new RetryWindow(clock, { deadline: Infinity, onNotice: (m) => notices.push(m), verb: 'still waiting, retrying' });
    w.retryAt(unreachable());
    await clock.advance(OUTAGE_GRACE_MS - 1);
    w.succeeded();
    w.retryAt(unreachable());
    await clock.advance(OUTAGE_GRACE_MS - 1);
    expect(w.retryAt(unreachable())).toBeGreaterThan(0);
    await clock.advance(1);
    expect(() => w.retryAt(unreachable())).toThrow('ECONNREFUSED');
    expect(notices).toEqual([
      'cannot reach the API server (ECONNREFUSED); still waiting, retrying for up to 60s',
      'cannot reach the API server (ECONNREFUSED); still waiting, retrying for up to 60s',
    ]);
  });

  test('retryAfter: a lost write race waits CONFLICT_SETTLE_MS for the watch; anything else is retryAt', () => {
    const clock = new FakeClock();
    const w = new RetryWindow(clock, { deadline: clock.now() + 300 });
    expect(w.retryAfter(new ConflictError())).toBe(clock.now() + CONFLICT_SETTLE_MS);
    expect(w.retryAfter(http(500))).toBeLessThanOrEqual(clock.now() + 300);
    expect(() => w.retryAfter(forbidden())).toThrow('RBAC said no');
  });
});

describe('retryOnConflict', () => {
  test('conflicts: tried again at once, with a fresh attempt number; exhausted after MAX_CONFLICT_RETRIES', async () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    const result = await retryOnConflict({ clock }, async (n) => {
      seen.push(n);
      if (n < 3) throw new ConflictError();
      return 'written';
    });
    expect(result).toBe('written');
    expect(seen).toEqual([0, 1, 2, 3]);
    let tries = 0;
    const exhausted = () => new KoncliError('busy', 'gave up');
    await expect(
      retryOnConflict({ clock, exhausted }, async () => {
        tries++;
        throw new ConflictError();
      }),
    ).rejects.toThrow('gave up');
    expect(tries).toBe(MAX_CONFLICT_RETRIES);
  });

  test('transient failures: backed off within the one-shot budget, then the last failure is thrown', async () => {
    const clock = new FakeClock();
    const startedAt = clock.now();
    const at: number[] = [];
    const result = outcome(
      retryOnConflict({ clock }, async () => {
        at.push(clock.now() - startedAt);
        throw http(500);
      }),
    );
    await flush();
    await clock.advance(ONE_SHOT_RETRY_MS + 1000);
    expect(await result).toBe('error');
    expect(at.length).toBeGreaterThanOrEqual(4);
    expect(at.at(-1)).toBeLessThanOrEqual(ONE_SHOT_RETRY_MS);
    // Each pause is the backoff's step (250 ms doubling, capped at 4 s) plus at most half again; the last one may be cut short by the budget.
    for (let i = 0; i + 2 < at.length; i++) {
      const step = Math.min(DEFAULT_BACKOFF.capMs, DEFAULT_BACKOFF.initialMs * 2 ** i);
      expect(at[i + 1] - at[i]).toBeGreaterThanOrEqual(step);
      expect(at[i + 1] - at[i]).toBeLessThanOrEqual(step * 1.5);
    }
  });

  test('a webhook outage shorter than the budget is ridden out; Retry-After is honoured', async () => {
    const clock = new FakeClock();
    const startedAt = clock.now();
    let calls = 0;
    const result = retryOnConflict({ clock }, async () => {
      calls++;
      if (calls === 1) throw http(429, 2000);
      if (clock.now() - startedAt < 3000) throw http(500);
      return clock.now() - startedAt;
    });
    await flush();
    await clock.advance(9000);
    const tookMs = await result;
    expect(tookMs).toBeGreaterThanOrEqual(3000);
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  test('definite failures end it at once; a past deadline means one try', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await expect(
      retryOnConflict({ clock }, async () => {
        calls++;
        throw forbidden();
      }),
    ).rejects.toThrow('RBAC said no');
    expect(calls).toBe(1);
    await expect(
      retryOnConflict({ clock, deadline: clock.now() }, async () => {
        calls++;
        throw http(503);
      }),
    ).rejects.toThrow('HTTP 503');
    expect(calls).toBe(2);
  });
});

interface Obj extends Versioned {
  n: number;
}

/** One object whose changes `set` pushes to its watchers. */
class MemoryObject implements Watchable<Obj> {
  private watchers = new Set<(o: Obj | null) => void>();
  value: Obj | null = { version: '1', n: 0 };

  async get(): Promise<Obj | null> {
    return this.value;
  }

  async watch(_name: string, _from: string | undefined, handlers: { onChange(o: Obj | null): void }): Promise<() => void> {
    this.watchers.add(handlers.onChange);
    return () => this.watchers.delete(handlers.onChange);
  }

  set(n: number): void {
    this.value = { version: String(Number(this.value?.version ?? 0) + 1), n };
    for (const w of this.watchers) w(this.value);
  }
}

describe('watchUntilDecided', () => {
  function setup() {
    const clock = new FakeClock();
    const store = new MemoryObject();
    const feed = new ChangeFeed(store, 'x', clock, store.value);
    feed.start();
    return { clock, store, feed };
  }

  test('decides again on every change until done', async () => {
    const { clock, store, feed } = setup();
    const looks: number[] = [];
    const done = watchUntilDecided(feed, clock, { deadline: Infinity, startedAt: clock.now() }, async (o) => {
      looks.push(o!.n);
      return o!.n >= 2 ? { done: o!.n } : { until: Infinity, giveUp: () => new Error('gave up') };
    });
    await flush();
    store.set(1);
    await flush();
    store.set(2);
    expect(await done).toBe(2);
    expect(looks).toEqual([0, 1, 2]);
    feed.stop();
  });

  test('gives up at the deadline with how long it waited, and on abort', async () => {
    const { clock, feed } = setup();
    const blocked = async () => ({ until: Infinity, giveUp: (why: string) => new KoncliError('busy', `held${why}`) });
    const timedOut = watchUntilDecided(feed, clock, { deadline: clock.now() + 5000, startedAt: clock.now() }, blocked).catch((e: Error) => e.message);
    await clock.advance(5000);
    expect(await timedOut).toBe('held (waited 5s)');
    const abort = new AbortController();
    const interrupted = watchUntilDecided(feed, clock, { deadline: Infinity, startedAt: clock.now(), signal: abort.signal }, blocked).catch(
      (e: Error) => e.message,
    );
    await flush();
    abort.abort();
    expect(await interrupted).toBe('held (interrupted)');
    feed.stop();
  });

  test('a transient failure is retried after the backoff, a conflict once the watch has news, a definite one thrown', async () => {
    const { clock, store, feed } = setup();
    const failures = [http(503), new ConflictError()];
    const at: number[] = [];
    const startedAt = clock.now();
    const done = watchUntilDecided(feed, clock, { deadline: Infinity, startedAt }, async (o) => {
      at.push(clock.now() - startedAt);
      const failure = failures.shift();
      if (failure) throw failure;
      return { done: o!.n };
    });
    await flush();
    expect(at).toEqual([0]);
    await clock.advance(400); // the backoff after the 503: 250–375 ms
    expect(at).toHaveLength(2);
    store.set(7); // the conflict's winner arrives on the watch: decided at once
    expect(await done).toBe(7);
    const definite = watchUntilDecided(feed, clock, { deadline: Infinity, startedAt }, async () => {
      throw forbidden();
    });
    await expect(definite).rejects.toThrow('RBAC said no');
    feed.stop();
  });

  test('meanwhile (a heartbeat) runs instead of sleeping; its transient failure is retried', async () => {
    const { clock, feed } = setup();
    let beats = 0;
    let failed = false;
    const done = watchUntilDecided(feed, clock, { deadline: Infinity, startedAt: clock.now() }, async () => {
      if (beats >= 2) return { done: beats };
      return {
        until: clock.now(),
        giveUp: () => new Error('gave up'),
        meanwhile: async () => {
          if (!failed) {
            failed = true;
            throw http(500);
          }
          beats++;
        },
      };
    });
    await flush();
    await clock.advance(1000);
    expect(await done).toBe(2);
    feed.stop();
  });
});
