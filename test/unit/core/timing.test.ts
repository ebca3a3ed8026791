import { checkTimingRelations, holderTiming, holderTimingProblem, DEFAULT_REQUEST_TIMEOUT_MS } from '../../../src/core/timing.js';

describe('timing rules', () => {
  test('the fixed constants keep their relations', () => {
    expect(() => checkTimingRelations()).not.toThrow();
  });

  test("client-go's proportions: 15 s TTL renews every 5 s, deadline 10 s, and each renewal request leaves room for another", () => {
    const t = holderTiming(15);
    expect(t).toMatchObject({ ttlMs: 15_000, renewEveryMs: 5000, renewDeadlineMs: 10_000, retryMs: 1000 });
    // The old bound was the 10 s request timeout: one hung request used the whole 5 s window.
    expect(t.attemptTimeoutMs).toBeLessThan(DEFAULT_REQUEST_TIMEOUT_MS);
    expect(2 * t.attemptTimeoutMs + t.retryMs).toBeLessThanOrEqual(t.renewDeadlineMs - t.renewEveryMs);
  });

  test.each([1, 2, 3, 15, 300, 86_400, 2_147_483_647])('a TTL of %i s gives a valid holder timing', (ttl) => {
    expect(holderTimingProblem(holderTiming(ttl))).toBeUndefined();
  });

  test('a shorter --request-timeout bounds renewals too', () => {
    expect(holderTiming(300, 2000).attemptTimeoutMs).toBe(2000);
  });

  test('broken relations are named', () => {
    const ok = holderTiming(15);
    expect(holderTimingProblem({ ...ok, renewDeadlineMs: 16_000 })).toMatch(/lease duration must exceed the renew deadline/);
    expect(holderTimingProblem({ ...ok, attemptTimeoutMs: 10_000 })).toMatch(/room for another try/);
    expect(holderTimingProblem({ ...ok, retryMs: 9000 })).toMatch(/room for another try|1.2/);
  });
});
