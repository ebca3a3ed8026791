import type { Clock } from './clock.js';
import { KoncliError } from './errors.js';
import { ChangeFeed } from './feed.js';
import { isTransient, retryOnConflict, RetryWindow } from './retry.js';
import type { Versioned, Watchable } from './store.js';
import { SLEEP_NOT_NEEDED } from './timer.js';
import { WAIT_CLEANUP_MS, WAIT_DEADLINE_GRACE_MS } from './timing.js';

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
  /** What is waited for, for the timeout's message when no decision was made yet (e.g. "lease nightly"). */
  what?: string;
}

const PAST_DEADLINE = Symbol('past the deadline');

/**
 * A waiter's --timeout: the whole wait ends there, requests in flight included. An answer still
 * outstanding at the deadline is awaited at most WAIT_DEADLINE_GRACE_MS more (a write sent just
 * before it may have landed: better to know); then the waiter gives up without it. A transient
 * failure at the deadline is a timeout too: busy (exit 3, docs/exit-codes.md), saying what failed.
 */
export class WaitDeadline {
  /** The latest decision's own "not yet" error (it names who holds the object). */
  giveUp: ((why: string) => Error) | undefined;

  constructor(
    private readonly clock: Clock,
    readonly at: number,
    private readonly startedAt: number,
    private readonly what = 'the object',
  ) {}

  /** `work`'s result, unless the deadline plus the grace comes first: then the timeout error. */
  async race<X>(work: Promise<X>): Promise<X> {
    if (!Number.isFinite(this.at)) return work;
    const bound = new AbortController();
    try {
      const first = await Promise.race([work, this.clock.sleep(this.at + WAIT_DEADLINE_GRACE_MS - this.clock.now(), bound.signal).then(() => PAST_DEADLINE)]);
      if (first === PAST_DEADLINE) throw this.error();
      return first as X;
    } finally {
      bound.abort(SLEEP_NOT_NEEDED);
      work.catch(() => {}); // given up on: its failure no longer matters
    }
  }

  /** `err` (from a retry window) as the timeout when it is transient and the deadline has come; else `err`. */
  reason(err: unknown): unknown {
    return Number.isFinite(this.at) && this.clock.now() >= this.at && isTransient(err) ? this.error(err) : err;
  }

  /** The timeout: busy, with the holder when a decision named one, and the last failure when there was one. */
  error(failure?: unknown): Error {
    const why = ` (waited ${Math.round((this.clock.now() - this.startedAt) / 1000)}s)`;
    const failed = failure instanceof Error ? `; the last request failed: ${failure.message}` : '';
    if (this.giveUp) {
      const base = this.giveUp(why);
      return failed ? new KoncliError('busy', `${base.message}${failed}`, base instanceof KoncliError ? base.details : {}) : base;
    }
    return new KoncliError('busy', `gave up waiting for ${this.what} at --timeout${why}, before it could be read${failed}`);
  }
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
  deadline = new WaitDeadline(clock, opts.deadline, opts.startedAt, opts.what),
): Promise<R> {
  const retry = new RetryWindow(clock, { deadline: opts.deadline, onNotice: opts.onNotice, verb: 'still waiting, retrying' });
  // At the deadline a transient failure is the timeout (busy), not the failure itself.
  const bounded = (next: () => number) => {
    try {
      return next();
    } catch (failure) {
      throw deadline.reason(failure);
    }
  };
  for (;;) {
    let decision: Decision<T, R>;
    try {
      const decided = decide(feed.current());
      // A decision made without a request is used at once (no extra turn of the event loop).
      decision = decided instanceof Promise ? await deadline.race(decided) : decided;
    } catch (err) {
      await feed.waitForChange(
        bounded(() => retry.retryAfter(err, opts.signal?.aborted)),
        opts.signal,
      );
      continue;
    }
    if ('done' in decision) return decision.done;
    if ('wrote' in decision) {
      retry.succeeded();
      feed.offer(decision.wrote);
      continue;
    }
    deadline.giveUp = decision.giveUp;
    const now = clock.now();
    if (now >= opts.deadline || opts.signal?.aborted) {
      throw decision.giveUp(opts.signal?.aborted ? ' (interrupted)' : ` (waited ${Math.round((now - opts.startedAt) / 1000)}s)`);
    }
    if (decision.meanwhile) {
      try {
        await deadline.race(decision.meanwhile());
        retry.succeeded();
      } catch (err) {
        await feed.waitForChange(
          bounded(() => retry.retryAt(err, opts.signal?.aborted)),
          opts.signal,
        );
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
  /** What is waited for, in the timeout's message before the first decision (default: `name`). */
  what?: string;
  /** Told of every state the watch delivers, in order (the loop itself decides on the latest only); with it, the watch opening wakes the loop too (ChangeFeed.opened). */
  onState?: (state: T | null) => void;
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
  const bound = new WaitDeadline(clock, deadline, opts.startedAt, opts.what ?? name);
  const read = retryOnConflict({ clock, deadline, onNotice: opts.onNotice, signal: opts.signal }, () => store.get(name));
  const initial = await bound.race(read).catch((err: unknown) => {
    throw bound.reason(err);
  });
  opts.check?.(initial);
  const feed = new ChangeFeed(store, name, clock, initial, opts.onNotice, opts.onState, opts.onState !== undefined);
  let kept = false;
  feed.start();
  try {
    const loop = { deadline, startedAt: opts.startedAt, signal: opts.signal, onNotice: opts.onNotice };
    const result = await watchUntilDecided(feed, clock, loop, (state) => decide(state, feed), bound);
    kept = opts.keepWatching?.(result, feed) ?? false;
    return result;
  } finally {
    if (!kept) feed.stop();
  }
}

/**
 * Runs a waiter's cleanup on its way out (leaving a queue: best effort, its entry goes stale by
 * itself otherwise) within WAIT_CLEANUP_MS: each request bounded by it where `withRequestTimeout`
 * is given, and the whole abandoned at that bound. Never throws.
 */
export async function boundedCleanup(
  clock: Clock,
  cleanup: () => Promise<void>,
  withRequestTimeout?: <X>(timeoutMs: number, fn: () => Promise<X>) => Promise<X>,
): Promise<void> {
  const work = (withRequestTimeout ? withRequestTimeout(WAIT_CLEANUP_MS, cleanup) : cleanup()).catch(() => {});
  const bound = new AbortController();
  await Promise.race([work, clock.sleep(WAIT_CLEANUP_MS, bound.signal)]);
  bound.abort(SLEEP_NOT_NEEDED);
}
