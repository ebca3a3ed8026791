// core/claim/judge.ts: a primitive's claims are judged as a Lease's are (core/expiry.ts): observed
// time, or earlier when the server's time of the record's last write (managedFields) and the
// writer's expiresAt agree; without a server time the writer's alone, and the rule says so.
import { describe, expect, it } from '@jest/globals';
import { judgeClaims, rulesOf } from '../../../src/core/claim/judge.js';
import { ExpiryTracker } from '../../../src/core/expiry.js';
import { ServerClock } from '../../../src/core/server-clock.js';
import { FakeClock } from '../../support/fake-clock.js';

function setup() {
  const clock = new FakeClock();
  const serverClock = new ServerClock();
  serverClock.sample(clock.now(), clock.now(), clock.now()); // the server's clock reads as ours
  const ctx = { tracker: new ExpiryTracker(clock, serverClock, { maxClockSkewMs: 5_000 }) };
  return { clock, ctx };
}

/** A 60 s claim written `agoMs` ago, its writer's expiresAt from then. */
const claimWritten = (clock: FakeClock, agoMs: number) => ({
  holder: 'pod-a',
  acquiredAt: new Date(clock.wallNow() - agoMs).toISOString(),
  ttlSeconds: 60,
  expiresAt: new Date(clock.wallNow() - agoMs + 60_000).toISOString(),
});

describe('judgeClaims with the server time of the record', () => {
  it('without a server write time: the writer rule, and the rule names the missing managedFields', () => {
    const { clock, ctx } = setup();
    const [view] = judgeClaims(ctx, 'ns/m', [claimWritten(clock, 50_000)], clock.now());
    expect(view.expiry!.basis).toBe('writer');
    expect(view.deadline).toBe(clock.now() + 10_000 + 5_000);
    expect(rulesOf([view])).toMatch(/no managedFields/);
  });

  it("server stamp later than the writer's: the server rule, and the rule names the server's stamp", () => {
    const { clock, ctx } = setup();
    // The record's last write (another claim, or this one) 40 s ago: this claim ends by then + 60 s at most.
    const [view] = judgeClaims(ctx, 'ns/m', [claimWritten(clock, 50_000)], clock.now(), clock.now() - 40_000);
    expect(view.expiry!.basis).toBe('server');
    expect(view.deadline).toBe(clock.now() + 20_000);
    expect(rulesOf([view])).toMatch(/^the API server stamped its last write \S+ \(at most\), its writer's own timestamp agrees/);
    expect(rulesOf([view])).not.toMatch(/managedFields/);
  });

  it('server stamp earlier: still the writer bound (both must agree), worded as later than the server says', () => {
    const { clock, ctx } = setup();
    const [view] = judgeClaims(ctx, 'ns/m', [claimWritten(clock, 50_000)], clock.now(), clock.now() - 50_000);
    expect(view.expiry!.basis).toBe('writer');
    expect(view.deadline).toBe(clock.now() + 15_000);
    expect(rulesOf([view])).toMatch(/later than the server's write time says/);
  });

  it('never later than the observed rule: a fresh claim lasts its TTL from when it was first seen, without "no managedFields"', () => {
    const { clock, ctx } = setup();
    const [view] = judgeClaims(ctx, 'ns/m', [claimWritten(clock, 0)], clock.now(), clock.now());
    expect(view.expiry!.basis).toBe('observed');
    expect(view.deadline).toBe(clock.now() + 60_000);
    expect(rulesOf([view])).toMatch(/observed-time rule\)$/);
  });
});
