// The three expiry rules of docs/clock.md, each with the clock failure it must survive.
import { ExpiryTracker, type ClaimSighting } from '../../../src/core/expiry.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { FakeClock } from '../../support/fake-clock.js';

const SKEW = 10_000;

/** A server clock that reads `offsetMs` ahead of this machine's wall clock, learnt from one exact Date header. */
function serverAt(clock: FakeClock, offsetMs: number): ServerClock {
  const sc = new ServerClock();
  sc.sample(clock.wallNow() + offsetMs, clock.now(), clock.now());
  return sc;
}

const claim = (over: Partial<ClaimSighting> = {}): ClaimSighting => ({ key: 'k', fingerprint: 'v1', durationMs: 20_000, ...over });

describe('ExpiryTracker', () => {
  test('observed: any change of the claim restarts the count; an unchanged one ends after its duration', async () => {
    const clock = new FakeClock();
    const t = new ExpiryTracker(clock, new ServerClock());
    const first = t.judge(claim());
    expect(first).toMatchObject({ basis: 'observed', deadline: clock.now() + 20_000 });
    await clock.advance(15_000);
    // Same holder and times, another counter (a konductor renewal bumps renewals, moves expires).
    expect(t.judge(claim({ fingerprint: 'v2' })).deadline).toBe(clock.now() + 20_000);
    await clock.advance(15_000);
    expect(t.judge(claim({ fingerprint: 'v2' })).deadline).toBe(clock.now() + 5_000);
  });

  test('observed: a wall-clock step changes nothing (monotonic)', async () => {
    const clock = new FakeClock();
    const t = new ExpiryTracker(clock, new ServerClock());
    const d = t.judge(claim()).deadline;
    clock.stepWall(120_000);
    expect(t.judge(claim()).deadline).toBe(d);
    clock.stepWall(-240_000);
    expect(t.judge(claim()).deadline).toBe(d);
  });

  test('server stamp alone never ends a claim early: the writer stamp must agree (a Date header 40 s ahead)', () => {
    const clock = new FakeClock();
    // The Date header reads 40 s ahead of the server that stamped the renewal 2 s ago.
    const server = serverAt(clock, 40_000);
    const t = new ExpiryTracker(clock, server, { maxClockSkewMs: SKEW });
    const renewedAt = clock.wallNow() - 2000;
    const e = t.judge(claim({ serverWrittenAtMost: renewedAt + 1000, writerExpiresAt: renewedAt + 20_000 }));
    // By the skewed Date the claim ended 21 s ago; the holder's own renewTime (checked on our wall
    // clock too) says it lasts 18 s more (+ skew): not early.
    expect(e.deadline).toBeGreaterThanOrEqual(clock.now() + 18_000);
    // Without a writer stamp to corroborate, only the observed rule.
    expect(new ExpiryTracker(clock, server).judge(claim({ serverWrittenAtMost: renewedAt + 1000 })).basis).toBe('observed');
  });

  test('server stamp and writer stamp agree: a dead holder is taken at once by a one-shot', () => {
    const clock = new FakeClock();
    const t = new ExpiryTracker(clock, serverAt(clock, 0), { maxClockSkewMs: SKEW });
    const renewedAt = clock.wallNow() - 3600_000;
    const e = t.judge(claim({ serverWrittenAtMost: renewedAt + 1000, writerExpiresAt: renewedAt + 20_000 }));
    expect(e.deadline).toBeLessThanOrEqual(clock.now());
    expect(e.basis).toBe('writer');
  });

  test('no server stamp (no managedFields): the writer stamp plus the allowed skew decides, and the message says so', () => {
    const clock = new FakeClock();
    const t = new ExpiryTracker(clock, serverAt(clock, 0), { maxClockSkewMs: SKEW });
    // A giantswarm lock written an hour ago with a 1 s TTL.
    const old = t.judge(claim({ key: 'old', durationMs: 1000, writerExpiresAt: clock.wallNow() - 3600_000 + 1000 }));
    expect(old.deadline).toBeLessThanOrEqual(clock.now());
    expect(old.why).toMatch(/writer's own expiry .* plus the 10s allowed clock skew .*no managedFields/);
    // A claim that ended 5 s ago by its writer's clock: within the skew, still held for 5 s more.
    const recent = t.judge(claim({ key: 'recent', durationMs: 30_000, writerExpiresAt: clock.wallNow() - 5000 }));
    expect(recent.deadline).toBe(clock.now() + 5000);
    expect(recent.basis).toBe('writer');
  });

  test('no server stamp, and our wall clock stepped 120 s forward: the server clock still disagrees, so not early', () => {
    const clock = new FakeClock();
    const server = serverAt(clock, 0);
    clock.stepWall(120_000);
    const t = new ExpiryTracker(clock, server, { maxClockSkewMs: SKEW });
    const renewedAt = clock.wallNow() - 120_000 - 2000; // 2 s ago on the real (server) clock
    const e = t.judge(claim({ writerExpiresAt: renewedAt + 20_000 }));
    expect(e.deadline).toBeGreaterThanOrEqual(clock.now() + 18_000);
  });
});
