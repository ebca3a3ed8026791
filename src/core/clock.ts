import { sleepFor } from './timer.js';

/**
 * Time sources; injectable so core algorithms can be tested deterministically.
 *
 * Two clocks, never mixed: `now()` is monotonic and measures every elapsed time (the observed-time
 * rule, renew deadlines, --timeout, heartbeats, --kill-after, backoffs); `wallNow()` is the wall
 * clock and serves only to read and write timestamps (renewTime, createdAt, kube-lock's date) and to
 * show deadlines to people. A wall-clock step (NTP, a resumed VM) moves `wallNow()` and nothing
 * else. Rule of the brief ("elapsed time is measured on a monotonic clock"); client-go does the
 * same (Go's time.Now carries a monotonic reading that time.Since uses).
 */
export interface Clock {
  /** Monotonic milliseconds (an arbitrary origin; only differences mean anything). */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch: only for reading and writing timestamps. */
  wallNow(): number;
  /** Resolves `ms` from now however long that is (never early: see timer.ts), or when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  // performance.now() reads CLOCK_MONOTONIC (libuv's uv_hrtime); Date.now() reads CLOCK_REALTIME.
  now: () => performance.now(),
  wallNow: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, signal),
};

/**
 * The wall-clock time (ms since the epoch) that a monotonic instant corresponds to right now: for
 * showing a deadline to people ("expires 12:00:03Z"), never for deciding anything.
 */
export const wallTimeOf = (clock: Clock, monotonicMs: number): number => clock.wallNow() + (monotonicMs - clock.now());
