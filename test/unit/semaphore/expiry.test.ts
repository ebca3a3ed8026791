import { describe, expect, it } from '@jest/globals';
import { ExpiryTracker } from '../../../src/core/expiry.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { holderDeadline, judgeHolders } from '../../../src/core/semaphore/judge.js';
import type { SemaphoreHolder } from '../../../src/core/semaphore/model.js';
import { FakeClock } from '../../support/fake-clock.js';

const HOUR = 3_600_000;

/** A ServerClock that learnt, from one response with 100 ms round trip, that the server is `offset` ahead. */
function serverClockAt(clock: FakeClock, offset: number): ServerClock {
  const sc = new ServerClock();
  const now = clock.now();
  sc.sample(Math.floor((now + offset) / 1000) * 1000, now - 50, now + 50);
  return sc;
}

/** The entry a koncli writer stamps: expires = upper bound of server time at send + ttl. */
function written(writerClock: ServerClock, localSend: number, ttlSeconds: number): SemaphoreHolder {
  return {
    date: '2018-08-19T19:14:24Z',
    reason: '',
    ttlSeconds,
    expires: new Date(writerClock.serverTimeAtMost(localSend)! + ttlSeconds * 1000).toISOString(),
    unknown: {},
  };
}

describe('semaphore holder expiry', () => {
  it('never expires a holder without a TTL, however old its kube-lock date', async () => {
    const clock = new FakeClock();
    const tracker = new ExpiryTracker(clock, new ServerClock());
    const h: SemaphoreHolder = { date: '2001-01-01T00:00:00Z', reason: '', unknown: {} };
    expect(holderDeadline(tracker, 'ns/s', 'h', h)).toBeUndefined();
    await clock.advance(365 * 24 * HOUR);
    expect(judgeHolders({ max: 1, holders: { h }, unknown: {} }, tracker, 'ns/s', clock.now())[0].expired).toBe(false);
  });

  it('expires a TTL holder after its TTL, judged from when this machine first saw it', async () => {
    const clock = new FakeClock();
    const tracker = new ExpiryTracker(clock, new ServerClock()); // no Date header seen: first-seen bound only
    const h: SemaphoreHolder = { date: '', reason: '', ttlSeconds: 30, unknown: {} };
    const state = { max: 1, holders: { h }, unknown: {} };
    expect(judgeHolders(state, tracker, 'ns/s', clock.now())[0].expired).toBe(false);
    await clock.advance(29_999);
    expect(judgeHolders(state, tracker, 'ns/s', clock.now())[0].expired).toBe(false);
    await clock.advance(1);
    expect(judgeHolders(state, tracker, 'ns/s', clock.now())[0].expired).toBe(true);
  });

  it("converts the writer's server-clock stamp to local time, even with the server an hour behind", async () => {
    const clock = new FakeClock();
    const serverClock = serverClockAt(clock, -HOUR);
    const h = written(serverClock, clock.now(), 30);
    // Compared naively with the local clock, this stamp lies an hour in the past.
    expect(Date.parse(h.expires!)).toBeLessThan(clock.now());
    await clock.advance(20_000); // an observer that starts 20 s after the write
    const observer = new ExpiryTracker(clock, serverClock);
    const deadline = holderDeadline(observer, 'ns/s', 'h', h)!;
    // Not first-seen + 30 s (50 s after the write), but the stamp: 30 s after the write plus the
    // uncertainty of the Date header (1 s) and the round trip (100 ms), plus the allowed clock skew
    // between the writer's view of the server clock and ours (5 s by default, docs/clock.md).
    expect(deadline - (clock.now() - 20_000)).toBe(36_100);
    expect(clock.now()).toBeLessThan(deadline);
    await clock.advance(deadline - clock.now());
    expect(judgeHolders({ max: 1, holders: { h }, unknown: {} }, observer, 'ns/s', clock.now())[0].expired).toBe(true);
  });

  it('caps a holder whose stamp is skewed far into the future at first-seen + TTL', async () => {
    const clock = new FakeClock();
    const tracker = new ExpiryTracker(clock, serverClockAt(clock, 0));
    const h: SemaphoreHolder = { date: '', reason: '', ttlSeconds: 10, expires: new Date(clock.now() + 24 * HOUR).toISOString(), unknown: {} };
    expect(holderDeadline(tracker, 'ns/s', 'h', h)).toBe(clock.now() + 10_000);
    await clock.advance(10_000);
    expect(judgeHolders({ max: 1, holders: { h }, unknown: {} }, tracker, 'ns/s', clock.now())[0].expired).toBe(true);
  });

  it('restarts the clock when the holder refreshes (a new stamp)', async () => {
    const clock = new FakeClock();
    const serverClock = serverClockAt(clock, 5 * HOUR);
    const tracker = new ExpiryTracker(clock, serverClock);
    const first = written(serverClock, clock.now(), 10);
    const firstDeadline = holderDeadline(tracker, 'ns/s', 'h', first)!;
    await clock.advance(8_000);
    const refreshed = written(serverClock, clock.now(), 10);
    const secondDeadline = holderDeadline(tracker, 'ns/s', 'h', refreshed)!;
    expect(secondDeadline).toBe(firstDeadline + 8_000);
    await clock.advance(firstDeadline - clock.now());
    expect(judgeHolders({ max: 1, holders: { h: refreshed }, unknown: {} }, tracker, 'ns/s', clock.now())[0].expired).toBe(false);
  });
  it('says a slot has no server write time of its own, never that the server recorded none', async () => {
    const clock = new FakeClock();
    const sc = serverClockAt(clock, 0);
    const tracker = new ExpiryTracker(clock, sc);
    const [view] = judgeHolders({ max: 1, holders: { h: written(sc, clock.now(), 60) }, unknown: {} }, tracker, 'ns/s', clock.now());
    expect(view.expiry!.why).toMatch(/a slot has no server write time of its own/);
    expect(view.expiry!.why).not.toMatch(/no managedFields/);
  });
});
