import type { Clock } from './clock.js';
import { ChangeFeed } from './feed.js';
import { retryOnConflict, RetryWindow } from './retry.js';
import type { Versioned, Watchable } from './store.js';

/** What one look at the watched object decided. */
export type Decision<T, R> =
  /** Finished: the loop returns `done`. */
  | { done: R }
  /** A write that decides nothing yet (e.g. stale holders pruned): decide again on its result. */
  | { wrote: T }
  /**
   * Not yet. Nothing changes before `until` (local ms) unless the watch brings a change.
   * `meanwhile` (e.g. a waiter's heartbeat) runs instead of sleeping, then the loop decides again.
   * `giveUp(why)` is the error thrown at the deadline or on abort (why: " (waited 90s)", " (interrupted)").
   */
  | { until: number; giveUp: (why: string) => Error; meanwhile?: () => Promise<void> };

export interface WaitLoopOptions {
  /** Local ms (monotonic clock) at which to give up; Infinity waits for ever. */
  deadline: number;
  /** When the caller started waiting (for "waited Ns"). */
  startedAt: number;
  signal?: AbortSignal;
  onNotice?: (message: string) => void;
}

/**
 * The one wait loop (--wait, `lease run`'s keeper, `crd install`): decide on the latest state the
 * watch has, and sleep on the watch until it changes or the decision's own time comes — until
 * decided, the deadline, or `signal` aborts. A failed decision goes through the retry policy
 * (src/core/retry.ts): a lost write race is decided again once the watch brings the winner's state,
 * a transient failure after the backoff (never past the deadline), a definite one is thrown.
 */
export async function watchUntilDecided<T extends Versioned, R>(
  feed: ChangeFeed<T>,
  clock: Clock,
  opts: WaitLoopOptions,
  decide: (state: T | null) => Decision<T, R> | Promise<Decision<T, R>>,
): Promise<R> {
  const retry = new RetryWindow(clock, { deadline: opts.deadline, onNotice: opts.onNotice, verb: 'still waiting, retrying' });
  for (;;) {
    let decision: Decision<T, R>;
    try {
      const decided = decide(feed.current());
      // A decision made without a request is used at once (no extra turn of the event loop).
      decision = decided instanceof Promise ? await decided : decided;
    } catch (err) {
      await feed.waitForChange(retry.retryAfter(err, opts.signal?.aborted), opts.signal);
      continue;
    }
    if ('done' in decision) return decision.done;
    if ('wrote' in decision) {
      retry.succeeded();
      feed.offer(decision.wrote);
      continue;
    }
    const now = clock.now();
    if (now >= opts.deadline || opts.signal?.aborted) {
      throw decision.giveUp(opts.signal?.aborted ? ' (interrupted)' : ` (waited ${Math.round((now - opts.startedAt) / 1000)}s)`);
    }
    if (decision.meanwhile) {
      try {
        await decision.meanwhile();
        retry.succeeded();
      } catch (err) {
        await feed.waitForChange(retry.retryAt(err, opts.signal?.aborted), opts.signal);
      }
      continue;
    }
    await feed.waitForChange(Math.min(decision.until, opts.deadline), opts.signal);
  }
}

export interface WaitOnObjectOptions<T extends Versioned, R> {
  /** When the caller started (local ms); the deadline is this plus `timeoutMs`. */
  startedAt: number;
  /** Give up after this long (ms); undefined waits for ever. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onNotice?: (message: string) => void;
  /** Checks the first read before a watch is opened (e.g. throws not-found). */
  check?: (initial: T | null) => void;
  /** Whether the caller keeps the watch running after `result` (it then stops it itself). */
  keepWatching?: (result: R, feed: ChangeFeed<T>) => boolean;
}

/**
 * Waits on one object (`--wait`): reads it (transient failures retried until the deadline), watches
 * it, and runs `watchUntilDecided` on it until decided, `timeoutMs` or abort. The watch is stopped
 * at the end unless `keepWatching` hands it to the caller.
 */
export async function waitOnObject<T extends Versioned, R>(
  store: Watchable<T>,
  name: string,
  clock: Clock,
  opts: WaitOnObjectOptions<T, R>,
  decide: (state: T | null, feed: ChangeFeed<T>) => Decision<T, R> | Promise<Decision<T, R>>,
): Promise<R> {
  const deadline = opts.timeoutMs === undefined ? Infinity : opts.startedAt + opts.timeoutMs;
  const initial = await retryOnConflict({ clock, deadline, onNotice: opts.onNotice, signal: opts.signal }, () => store.get(name));
  opts.check?.(initial);
  const feed = new ChangeFeed(store, name, clock, initial, opts.onNotice);
  let kept = false;
  feed.start();
  try {
    const result = await watchUntilDecided(feed, clock, { deadline, startedAt: opts.startedAt, signal: opts.signal, onNotice: opts.onNotice }, (state) =>
      decide(state, feed),
    );
    kept = opts.keepWatching?.(result, feed) ?? false;
    return result;
  } finally {
    if (!kept) feed.stop();
  }
}
