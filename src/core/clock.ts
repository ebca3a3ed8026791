/** Local time source; injectable so core algorithms can be tested deterministically. */
export interface Clock {
  /** Milliseconds since the epoch on this machine. */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The longest delay a Node timer takes; longer ones (and Infinity) fire after 1 ms with a TimeoutOverflowWarning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      // Capped: an over-long sleep just wakes early and its caller re-checks (never a busy loop).
      const timer = setTimeout(done, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};
