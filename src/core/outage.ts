import type { Clock } from './clock.js';
import { isKind } from './errors.js';
import { CONFLICT_SETTLE_MS, OUTAGE_GRACE_MS, OUTAGE_RETRY_MS as RETRY_MS } from './timing.js';

export { CONFLICT_SETTLE_MS, OUTAGE_GRACE_MS } from './timing.js';

/**
 * Lets a waiting loop (--wait) ride out a short API-server outage — a restart, a failover — instead
 * of failing on the first request that cannot reach the server. Only `unreachable` failures are
 * forgiven, for OUTAGE_GRACE_MS in a row and never past the caller's own deadline; anything else,
 * or a longer outage, is rethrown as it was.
 */
export class OutageRide {
  private since: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly notice?: (message: string) => void,
  ) {}

  /** A request got through: the outage, if any, is over. */
  ok(): void {
    this.since = undefined;
  }

  /** Rethrows `err` unless it is forgivable; otherwise returns the local time to try again at. */
  retryAt(err: unknown, deadline: number, aborted = false): number {
    if (!isKind(err, 'unreachable') || aborted) throw err;
    const now = this.clock.now();
    if (this.since === undefined) {
      this.since = now;
      this.notice?.(`${err.message}; still waiting, retrying for up to ${OUTAGE_GRACE_MS / 1000}s`);
    }
    if (now - this.since >= OUTAGE_GRACE_MS || now >= deadline) throw err;
    return Math.min(now + RETRY_MS, deadline);
  }

  /**
   * When a waiting loop tries again after a failed attempt: a lost write race once the watch brings
   * the winner's state (at most CONFLICT_SETTLE_MS), an unreachable server as `retryAt`; anything
   * else is rethrown.
   */
  retryAfter(err: unknown, deadline: number, aborted = false): number {
    return isKind(err, 'conflict') ? this.clock.now() + CONFLICT_SETTLE_MS : this.retryAt(err, deadline, aborted);
  }
}
