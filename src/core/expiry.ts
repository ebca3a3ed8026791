import type { Clock } from './clock.js';
import type { ServerClock } from './server-clock.js';

/**
 * Decides when a holder's claim runs out, judged on this machine's clock only.
 *
 * Two bounds, both never early, and the earlier one wins:
 * 1. Observed time (client-go's rule): a claim we first saw in its current form at local time T
 *    was written no later than T, so it ends no later than T + duration.
 * 2. Server time: when the store knows an upper bound S of the server-clock time of the claim's
 *    last write (managedFields, or a stamp a koncli writer derived from `Date` headers), the
 *    claim ends no later than the local deadline of S + duration.
 * The claim-holder's own timestamps (renewTime, createdAt, date) are never used.
 */
export class ExpiryTracker {
  private readonly firstSeen = new Map<string, { fingerprint: string; at: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly serverClock: ServerClock,
  ) {}

  /**
   * @param key         which claim (lease name, semaphore holder, lock name)
   * @param fingerprint changes whenever the claim is renewed or changes hands
   * @param durationMs  how long the claim lasts after its last write
   * @param serverWrittenAtMost upper bound of the server-clock time of the last write, if known
   * @returns the local time (ms) after which the claim has certainly expired
   */
  deadline(key: string, fingerprint: string, durationMs: number, serverWrittenAtMost?: number): number {
    const now = this.clock.now();
    let seen = this.firstSeen.get(key);
    if (!seen || seen.fingerprint !== fingerprint) {
      seen = { fingerprint, at: now };
      this.firstSeen.set(key, seen);
    }
    let deadline = seen.at + durationMs;
    if (serverWrittenAtMost !== undefined) {
      const local = this.serverClock.localDeadlineOf(serverWrittenAtMost + durationMs);
      if (local !== undefined) deadline = Math.min(deadline, local);
    }
    return deadline;
  }

  forget(key: string): void {
    this.firstSeen.delete(key);
  }
}
