// ChangeFeed: the watch-kept state every waiter sleeps on. Its reconnect and polling paths are the
// ones a real API server exercises only under faults, so they are driven here by hand.
import { KoncliError } from '../../../src/core/errors.js';
import { ChangeFeed } from '../../../src/core/feed.js';
import type { Versioned, Watchable, WatchHandlers } from '../../../src/core/store.js';
import { WATCH_CHECK_TIMEOUT_MS, WATCH_SILENCE_CHECK_MS } from '../../../src/core/timing.js';
import { FakeClock, flush } from '../../support/fake-clock.js';

interface Obj extends Versioned {
  value: string;
}

/** One object behind get/watch, whose watches the test can feed, close or forbid. */
class ScriptedStore implements Watchable<Obj> {
  obj: Obj | null = null;
  gets = 0;
  /** While set, reads never answer (a connection that went silent). */
  frozen = false;
  /** The bounds `withRequestTimeout` was asked for. */
  bounds: number[] = [];
  watches: { from: string | undefined; handlers: WatchHandlers<Obj>; stopped: boolean }[] = [];
  forbidWatch = false;
  private rv = 0;

  async get(): Promise<Obj | null> {
    this.gets++;
    if (this.frozen) return new Promise<never>(() => {});
    return this.obj;
  }

  withRequestTimeout<R>(timeoutMs: number, fn: () => Promise<R>): Promise<R> {
    this.bounds.push(timeoutMs);
    return fn();
  }

  async watch(_name: string, from: string | undefined, handlers: WatchHandlers<Obj>): Promise<() => void> {
    if (this.forbidWatch) throw new KoncliError('forbidden', 'watch leases is forbidden');
    const w = { from, handlers, stopped: false };
    this.watches.push(w);
    return () => {
      w.stopped = true;
    };
  }

  /** A write by someone else: stored, and delivered to open watches unless `silently`. */
  write(value: string, silently = false): Obj {
    this.obj = { version: String(++this.rv), value };
    if (!silently) for (const w of this.live()) w.handlers.onChange(this.obj);
    return this.obj;
  }

  live() {
    return this.watches.filter((w) => !w.stopped);
  }
}

function setup(initial: Obj | null = null) {
  const clock = new FakeClock();
  const store = new ScriptedStore();
  store.obj = initial;
  const notices: string[] = [];
  const feed = new ChangeFeed(store, 'job', clock, initial, (m) => notices.push(m));
  return { clock, store, feed, notices };
}

describe('ChangeFeed', () => {
  test('a change on the watch wakes a waiter and becomes current()', async () => {
    const { clock, store, feed } = setup();
    feed.start();
    await flush();
    expect(store.watches).toHaveLength(1);
    let woke = false;
    const waiting = feed.waitForChange(clock.now() + 60_000).then(() => (woke = true));
    await flush();
    expect(woke).toBe(false);
    store.write('a');
    await waiting;
    expect(woke).toBe(true);
    expect(feed.current()?.value).toBe('a');
    feed.stop();
  });

  test('waitForChange returns at its deadline when nothing changes, and at once on abort', async () => {
    const { clock, feed } = setup();
    feed.start();
    await flush();
    let done = false;
    const waiting = feed.waitForChange(clock.now() + 5000).then(() => (done = true));
    await clock.advance(4999);
    expect(done).toBe(false);
    await clock.advance(1);
    await waiting;
    expect(done).toBe(true);

    const abort = new AbortController();
    let aborted = false;
    const w2 = feed.waitForChange(clock.now() + 60_000, abort.signal).then(() => (aborted = true));
    await flush();
    expect(aborted).toBe(false);
    abort.abort();
    await w2;
    expect(aborted).toBe(true);
    feed.stop();
  });

  test('a change nobody has read yet makes the next wait return at once', async () => {
    const { clock, store, feed } = setup();
    feed.start();
    await flush();
    store.write('a');
    let done = false;
    await feed.waitForChange(clock.now() + 60_000).then(() => (done = true));
    expect(done).toBe(true);
  });

  test('a watch that fails is re-opened after a re-read: a change made while it was down is seen', async () => {
    const { clock, store, feed } = setup(null);
    feed.start();
    await flush();
    const first = store.watches[0];
    first.stopped = true;
    store.write('missed', true); // lands while no watch is open
    first.handlers.onClose(new KoncliError('unreachable', 'connection reset'));
    await flush();
    expect(store.gets).toBe(0); // backs off before re-reading
    await clock.advance(199);
    expect(store.gets).toBe(0); // at least RETRY_MIN_MS * 2 after the first failure
    await clock.advance(101); // plus at most half of it again (jitter)
    expect(store.gets).toBe(1);
    expect(feed.current()?.value).toBe('missed');
    expect(store.live()).toHaveLength(1);
    expect(store.live()[0].from).toBe(store.obj?.version); // resumes from the re-read version
    feed.stop();
  });

  test('failures in a row back off exponentially, capped at 5 s', async () => {
    const { clock, store, feed } = setup();
    feed.start();
    await flush();
    const gaps: number[] = [];
    let last = clock.now();
    for (let i = 0; i < 8; i++) {
      const w = store.live()[0];
      w.stopped = true;
      w.handlers.onClose(new Error('boom'));
      const before = store.gets;
      while (store.gets === before) await clock.advance(50);
      gaps.push(clock.now() - last);
      last = clock.now();
    }
    // Each delay is the exponential base plus up to half of it again (jitter; clock steps of 50 ms).
    expect(gaps[0]).toBeGreaterThanOrEqual(200);
    expect(gaps[0]).toBeLessThan(350);
    expect(gaps[1]).toBeGreaterThanOrEqual(400);
    expect(gaps[1]).toBeLessThan(650);
    expect(gaps.slice(-2).every((g) => g >= 5000 && g < 7550)).toBe(true);
    feed.stop();
  });

  test('a clean close of a long-lived watch resumes at once, without a re-read', async () => {
    const { clock, store, feed } = setup({ version: '7', value: 'x' });
    feed.start();
    await flush();
    await clock.advance(30_000);
    const reads = store.gets; // the liveness checks of a quiet watch (below)
    const w = store.watches[0];
    w.stopped = true;
    w.handlers.onClose(); // the server ended the watch (timeoutSeconds)
    await flush();
    expect(store.gets).toBe(reads);
    expect(store.live()).toHaveLength(1);
    expect(store.live()[0].from).toBe('7');
    feed.stop();
  });

  test('a watch that closes cleanly at once is treated as a failure (no hot loop)', async () => {
    const { clock, store, feed } = setup();
    feed.start();
    await flush();
    const w = store.watches[0];
    w.stopped = true;
    w.handlers.onClose();
    await flush();
    expect(store.live()).toHaveLength(0);
    await clock.advance(300); // the first failure's backoff: 200 ms plus at most half again
    expect(store.gets).toBe(1);
    expect(store.live()).toHaveLength(1);
    feed.stop();
  });

  test('when watching is forbidden it polls with backoff, says so once, and resets on a change', async () => {
    const { clock, store, feed, notices } = setup();
    store.forbidWatch = true;
    feed.start();
    await flush();
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/forbidden.*polling instead/);
    const at: number[] = [];
    const t0 = clock.now();
    for (let i = 0; i < 5; i++) {
      const before = store.gets;
      while (store.gets === before) await clock.advance(50);
      at.push(clock.now() - t0);
    }
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    // 500 ms, then doubling while nothing changes (up to POLL_MAX_MS)
    expect(gaps[1]).toBeGreaterThan(gaps[0]);
    expect(gaps[2]).toBeGreaterThan(gaps[1]);
    store.write('b', true);
    // each poll is a fresh read, so a waiter wakes on it and re-decides; within a poll period it sees 'b'
    const wroteAt = clock.now();
    while (feed.current()?.value !== 'b') {
      let woke = false;
      const waiting = feed.waitForChange(clock.now() + 60_000).then(() => (woke = true));
      while (!woke) await clock.advance(100);
      await waiting;
    }
    expect(clock.now() - wroteAt).toBeLessThanOrEqual(5100);
    const before = store.gets;
    const changedAt = clock.now();
    while (store.gets === before) await clock.advance(50);
    expect(clock.now() - changedAt).toBeLessThanOrEqual(550); // back to the shortest poll
    expect(notices).toHaveLength(1);
    expect(store.watches).toHaveLength(0);
    feed.stop();
  });

  test('offer() never steps back to an older version, and stop() wakes waiters and closes the watch', async () => {
    const { clock, store, feed } = setup({ version: '10', value: 'new' });
    feed.start();
    await flush();
    feed.offer({ version: '9', value: 'old' });
    expect(feed.current()?.value).toBe('new');
    feed.offer({ version: '11', value: 'newer' });
    expect(feed.current()?.value).toBe('newer');
    let woke = false;
    const waiting = feed.waitForChange(clock.now() + 60_000).then(() => (woke = true));
    await flush();
    feed.stop();
    await waiting;
    expect(woke).toBe(true);
    expect(store.live()).toHaveLength(0);
  });

  describe('a watch whose connection went silent', () => {
    test('a quiet watch is checked by a read every WATCH_SILENCE_CHECK_MS and kept while the read agrees', async () => {
      const { clock, store, feed } = setup({ version: '7', value: 'x' });
      store.write('x', true);
      feed.offer(store.obj);
      feed.start();
      await flush();
      await clock.advance(WATCH_SILENCE_CHECK_MS - 1);
      expect(store.gets).toBe(0);
      await clock.advance(1);
      expect(store.gets).toBe(1);
      expect(store.bounds).toEqual([WATCH_CHECK_TIMEOUT_MS]); // each check's GET bounded by the store too
      await clock.advance(3 * WATCH_SILENCE_CHECK_MS);
      expect(store.gets).toBe(4);
      expect(store.watches).toHaveLength(1); // never re-opened: quiet, not dead
      feed.stop();
    });

    test('events and BOOKMARKs postpone the check', async () => {
      const { clock, store, feed } = setup();
      feed.start();
      await flush();
      for (let i = 0; i < 5; i++) {
        await clock.advance(WATCH_SILENCE_CHECK_MS - 1000);
        if (i % 2) store.write(`v${i}`);
        else store.live()[0].handlers.onProgress?.();
      }
      expect(store.gets).toBe(0);
      feed.stop();
    });

    test('a change the watch never delivered is seen by the check: the waiter wakes and the watch is re-opened from it', async () => {
      const { clock, store, feed } = setup({ version: '0', value: 'held' });
      feed.start();
      await flush();
      const first = store.watches[0];
      const t0 = clock.now();
      await clock.advance(2000);
      store.write('free', true); // the release, on a connection that no longer carries bytes
      let wokeAt: number | undefined;
      const waiting = feed.waitForChange(clock.now() + 600_000).then(() => (wokeAt = clock.now()));
      while (wokeAt === undefined) await clock.advance(100);
      await waiting;
      expect(feed.current()?.value).toBe('free');
      expect(wokeAt - t0).toBeLessThanOrEqual(WATCH_SILENCE_CHECK_MS);
      expect(first.stopped).toBe(true);
      expect(store.live()).toHaveLength(1);
      expect(store.live()[0].from).toBe(store.obj?.version);
      feed.stop();
    });

    test('a check whose read does not answer gives the watch up; it is re-opened from a fresh read within the documented bound', async () => {
      const { clock, store, feed } = setup({ version: '0', value: 'held' });
      feed.start();
      await flush();
      const first = store.watches[0];
      store.frozen = true; // every request on the old connection hangs
      store.write('free', true);
      const t0 = clock.now();
      await clock.advance(WATCH_SILENCE_CHECK_MS + WATCH_CHECK_TIMEOUT_MS - 1);
      expect(first.stopped).toBe(false);
      store.frozen = false; // the bounded read dropped the connection: a new one works
      await clock.advance(1);
      expect(first.stopped).toBe(true);
      let wokeAt: number | undefined;
      const waiting = feed.waitForChange(clock.now() + 600_000).then(() => (wokeAt = clock.now()));
      while (wokeAt === undefined) await clock.advance(50);
      await waiting;
      expect(feed.current()?.value).toBe('free');
      // silence + the read's bound + the first re-watch backoff (200 ms plus at most half again)
      expect(wokeAt - t0).toBeLessThanOrEqual(WATCH_SILENCE_CHECK_MS + WATCH_CHECK_TIMEOUT_MS + 300);
      expect(store.live()).toHaveLength(1);
      feed.stop();
    });

    test('a watch that hangs while being opened is checked too', async () => {
      const { clock, store, feed } = setup({ version: '0', value: 'held' });
      const watch = store.watch.bind(store);
      let hang = true;
      store.watch = (name, from, handlers) => (hang ? new Promise<never>(() => {}) : watch(name, from, handlers));
      feed.start();
      await flush();
      hang = false;
      store.write('free', true);
      await clock.advance(WATCH_SILENCE_CHECK_MS);
      expect(feed.current()?.value).toBe('free');
      await clock.advance(1);
      expect(store.live()).toHaveLength(1);
      feed.stop();
    });

    test('stop() ends the checks', async () => {
      const { clock, store, feed } = setup();
      feed.start();
      await flush();
      feed.stop();
      await clock.advance(5 * WATCH_SILENCE_CHECK_MS);
      expect(store.gets).toBe(0);
    });
  });
});
