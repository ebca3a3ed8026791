import type { Clock } from '../../src/core/clock.js';

/**
 * A clock tests move by hand; sleepers wake when time passes their deadline. The wall clock starts
 * equal to the monotonic one and moves with it; `stepWall` steps the wall clock alone (an NTP step).
 */
export class FakeClock implements Clock {
  private sleepers: { until: number; resolve: () => void }[] = [];
  private wallOffset = 0;

  constructor(private time = 1_700_000_000_000) {}

  now(): number {
    return this.time;
  }

  wallNow(): number {
    return this.time + this.wallOffset;
  }

  /** Steps the wall clock by `ms` (positive: forward); the monotonic clock does not move. */
  stepWall(ms: number): void {
    this.wallOffset += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper = { until: this.time + Math.max(0, ms), resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** Moves time forward, waking sleepers (and letting promise chains run) as it goes. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      const due = this.sleepers.filter((s) => s.until <= target).sort((a, b) => a.until - b.until)[0];
      if (!due) break;
      this.time = Math.max(this.time, due.until);
      this.sleepers = this.sleepers.filter((s) => s !== due);
      due.resolve();
      await flush();
    }
    this.time = target;
    await flush();
  }
}

export const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
};

/** Moves `clock` by `ms` in steps of `stepMs`, so sleepers registered on the way (retries, re-decisions) wake too. */
export async function advanceInSteps(clock: FakeClock, ms: number, stepMs = 500): Promise<void> {
  for (let left = ms; left > 0; left -= stepMs) await clock.advance(Math.min(stepMs, left));
}
