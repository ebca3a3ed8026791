/**
 * The one place koncli arms timers whose length comes from a flag or from data on the cluster
 * (TTLs, --kill-after, renew deadlines, backoffs, expiries, request timeouts).
 *
 * Node takes at most 2^31−1 ms (≈ 24.8 days) in one timer: a longer delay — or Infinity, or NaN —
 * fires after 1 ms and prints a TimeoutOverflowWarning (Node's timers documentation). Here a long
 * delay is served by a chain of capped timers, each re-armed with what is left, measured on the
 * monotonic clock (performance.now()), so a wall-clock step neither shortens nor stretches it.
 */

/** The longest delay one Node timer takes, in ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay one Node timer can be armed with: `ms` clamped to [0, MAX_TIMER_MS] (NaN → 0). */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(MAX_TIMER_MS, ms);
}

/** What `after` needs from the platform; tests substitute a virtual one. */
export interface TimerHost {
  /** Monotonic milliseconds (performance.now()). */
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const nodeTimers: TimerHost = {
  now: () => performance.now(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface TimerOptions {
  /** Let the process exit while only this timer is pending (Node's timer.unref()). */
  unref?: boolean;
  host?: TimerHost;
}

export interface Timer {
  cancel(): void;
}

/**
 * Calls `fn` once, `ms` milliseconds from now, however long that is (Infinity: never). No single
 * Node timer is ever armed with more than MAX_TIMER_MS.
 */
export function after(ms: number, fn: () => void, opts: TimerOptions = {}): Timer {
  const host = opts.host ?? nodeTimers;
  let handle: unknown;
  let cancelled = false;
  const due = host.now() + (Number.isNaN(ms) ? 0 : Math.max(0, ms));
  // Always through a timer, never synchronously (even for 0): callers may not have the handle yet.
  const arm = () => {
    handle = host.set(tick, timerDelay(Math.ceil(due - host.now())));
    if (opts.unref) (handle as { unref?: () => void })?.unref?.();
  };
  const tick = () => {
    if (cancelled) return;
    if (due - host.now() > 0) return arm(); // a capped link of the chain (or a timer that woke a hair early)
    cancelled = true;
    fn();
  };
  arm();
  return {
    cancel: () => {
      cancelled = true;
      if (handle !== undefined) host.clear(handle);
    },
  };
}

/**
 * The reason to give `AbortController.abort()` when it only ends a sleep that is no longer needed:
 * `abort()` without one builds a DOMException, capturing a stack, which a waiter woken by every
 * watch event paid each time (bench/: ~0.1 ms per event).
 */
export const SLEEP_NOT_NEEDED = Object.freeze({ reason: 'sleep no longer needed' });

/** Resolves `ms` from now (see `after`), or at once when `signal` aborts. Never rejects. */
export function sleepFor(ms: number, signal?: AbortSignal, host?: TimerHost): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      timer.cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = after(ms, done, { host });
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * An AbortSignal that aborts `ms` from now with a `TimeoutError` DOMException, as
 * AbortSignal.timeout(ms) does (whose own timer overflows past MAX_TIMER_MS). Does not keep the
 * process alive.
 */
export function timeoutSignal(ms: number, host?: TimerHost): AbortSignal {
  const controller = new AbortController();
  after(ms, () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), { unref: true, host });
  return controller.signal;
}
