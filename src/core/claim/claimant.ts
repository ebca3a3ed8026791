import type { Clock } from '../clock.js';
import { ConflictError, KoncliError } from '../errors.js';
import { lateAnswer } from '../expiry.js';
import type { ChangeFeed } from '../feed.js';
import { refuseTerminating, VanishedObjects, type ObjectIdentity } from '../identity.js';
import { MAX_CONFLICT_RETRIES, retryOnConflict } from '../retry.js';
import type { Versioned, Watchable } from '../store.js';

/** What a claimant's step sees: the latest read of its object, the decision's time, and what vanished. */
export interface Look<O, G> {
  /** The object as read or watched; null when it does not exist. */
  obj: O | null;
  /** Monotonic ms of the decision: a write made on it counts from here (send-time claims). */
  now: number;
  /**
   * Others' claims still in force on objects that vanished (deleted, or re-created with another uid)
   * while we waited: a deleted lock is not free (docs/clock.md). Always empty for a one-shot try.
   */
  ghosts: G[];
}

/** One decision on one look. */
export type Step<O, R, B> =
  /** Decided, with or without a write (resourceVersion-guarded). */
  | { done: R }
  /** A preliminary write (lapsed claims pruned): decide again on the object it left. */
  | { wrote: O }
  /** Not now: who is in the way (`blocked`); nothing changes before `retryAt` (monotonic ms) unless the object does. */
  | { blocked: B; retryAt: number };

/** The claim a result's write made, for the send-time rule (core/expiry.ts lateAnswer). All ms. */
export interface SentClaim {
  /** Monotonic ms just before the claiming write was sent. */
  sentAt: number;
  /** How long the claim lasts from then. */
  durationMs: number;
}

/**
 * One kind's claim on one object, as the engine drives it (issue 22's descriptor): the kind reads,
 * judges and plans in `step`; the engine owns everything every kind shares — try once or wait by
 * watch, conflicts and transient failures (core/retry.ts), objects going away (refused, exit 10),
 * objects that vanished while we waited, and answers that came too late to count.
 * `O` is the stored object, `R` the result, `B` what blocks the claim, `G` a claim on a vanished object.
 */
export interface Claimant<O extends Versioned & ObjectIdentity, R, B, G = never> {
  /** How messages name the claim: "semaphore nightly", "lock deploy on configmap/app in namespace jobs". */
  what: string;
  /** The object for the terminating refusal (every look is refused); undefined: the step refuses before its own writes. */
  where?: string;
  store: Watchable<O>;
  /** The object's name in `store`. */
  name: string;
  /** Throws when this read cannot be claimed at all (an annotation lock on an object that does not exist). */
  check?: (obj: O | null) => void;
  step: (look: Look<O, G>) => Promise<Step<O, R, B>> | Step<O, R, B>;
  /** The `busy` error of a blocked step; `why` (" (waited 3s)", " (interrupted)") ends its message. */
  busy: (blocked: B, why?: string) => KoncliError;
  /** Others' claims on a vanished object still in force at `now`; empty once they have all run out. */
  ghostsIn?: (gone: O, now: number) => G[];
  /** The claim a result's write made; undefined when it made none (already held). */
  sent?: (result: R) => SentClaim | undefined;
  /** Gives back a claim whose answer came too late; resolves to what happened ("gave the slot back"). */
  giveBack?: (result: R) => Promise<string>;
}

/**
 * A waiter's place in a queue (the lease's priority queue, docs/queue.md: the one kind-specific
 * addition to the wait). Told of every state the watch shows; while blocked, says when to look again
 * or runs its heartbeat; left on the way out, with or without the claim.
 */
export interface WaitQueue<O> {
  onState(state: O | null): void;
  whileBlocked(now: number, watchOpen: boolean): { until: number } | { meanwhile: () => Promise<void> };
  leave(): Promise<void>;
}

export interface ClaimOptions<O extends Versioned, R, B> {
  /** Wait by watching the object while blocked; otherwise try once (re-deciding on conflicts). */
  wait: boolean;
  /** Give up waiting after this long (ms); undefined waits for ever. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onNotice?: (message: string) => void;
  /** Told each time a wait is blocked (for a progress line), with how long it has waited (ms). */
  onBlocked?: (blocked: B, waitedMs: number) => void;
  queue?: WaitQueue<O>;
  /** Whether the caller keeps the waiting watch running after `result` (a keeper adopts it). */
  keepWatching?: (result: R, feed: ChangeFeed<O>) => boolean;
  /** Bounds each request of the queue's cleanup, when the store can. */
  withRequestTimeout?: <X>(ms: number, fn: () => Promise<X>) => Promise<X>;
}

function look<O extends Versioned & ObjectIdentity, R, B, G>(c: Claimant<O, R, B, G>, clock: Clock, obj: O | null, vanished?: VanishedObjects<O>): Look<O, G> {
  c.check?.(obj);
  if (c.where) refuseTerminating(c.where, obj);
  const now = clock.now();
  const ghosts: G[] = [];
  for (const gone of vanished && c.ghostsIn ? vanished.see(obj) : []) {
    const live = c.ghostsIn!(gone, now);
    if (live.length === 0) vanished!.forget(gone);
    ghosts.push(...live);
  }
  return { obj, now, ghosts };
}

/** A claim counts from when its write was sent: one answered too late is given back and refused (`unreachable`, details.late). */
async function stands<O extends Versioned & ObjectIdentity, R, B, G>(c: Claimant<O, R, B, G>, clock: Clock, result: R): Promise<R> {
  const sent = c.sent?.(result);
  const late = sent && lateAnswer(sent.sentAt, sent.durationMs, clock.now());
  if (late === undefined) return result;
  const back = c.giveBack ? await c.giveBack(result) : 'left it to expire';
  throw new KoncliError('unreachable', `${c.what}: ${late}; ${back}; try again`, { late: true });
}

/**
 * Tries once: read, decide, write (re-deciding on write conflicts, riding out transient failures
 * for ONE_SHOT_RETRY_MS: core/retry.ts). Throws the claimant's `busy` when blocked.
 */
export async function claimOnce<O extends Versioned & ObjectIdentity, R, B, G>(
  clock: Clock,
  c: Claimant<O, R, B, G>,
  opts: Pick<ClaimOptions<O, R, B>, 'onNotice' | 'signal'> = {},
): Promise<R> {
  const exhausted = () => new KoncliError('busy', `${c.what}: gave up after ${MAX_CONFLICT_RETRIES} write conflicts in a row`);
  return retryOnConflict({ clock, exhausted, onNotice: opts.onNotice, signal: opts.signal }, async () => {
    const s = await c.step(look(c, clock, await c.store.get(c.name)));
    if ('done' in s) return stands(c, clock, s.done);
    if ('blocked' in s) throw c.busy(s.blocked);
    throw new ConflictError('wrote a preliminary change: decide again');
  });
}

/**
 * Waits for the claim by watching its object (core/wait.ts waitOnObject): decides on every change
 * and whenever a blocking claim's time runs out, until done, `timeoutMs` (the claimant's `busy`
 * plus "(waited Ns)") or abort. Transient API failures are ridden out until the timeout.
 */
export async function claimWaiting<O extends Versioned & ObjectIdentity, R, B, G>(
  clock: Clock,
  c: Claimant<O, R, B, G>,
  opts: ClaimOptions<O, R, B>,
): Promise<R> {
  const { boundedCleanup, waitOnObject } = await import('../wait.js'); // only a waiting claim evaluates the watch machinery
  const startedAt = clock.now();
  const vanished = new VanishedObjects<O>();
  const { queue } = opts;
  const onState = queue && ((state: O | null) => queue.onState(state));
  try {
    return await waitOnObject(c.store, c.name, clock, { ...opts, startedAt, check: c.check, onState, what: c.what }, async (obj, feed) => {
      const s = await c.step(look(c, clock, obj, vanished));
      if ('done' in s) return { done: await stands(c, clock, s.done) };
      if ('wrote' in s) return s;
      const now = clock.now();
      opts.onBlocked?.(s.blocked, now - startedAt);
      const giveUp = (why: string) => c.busy(s.blocked, why);
      const turn = queue?.whileBlocked(now, feed.opened);
      if (turn && 'meanwhile' in turn) return { until: now, giveUp, meanwhile: turn.meanwhile };
      return { until: Math.min(s.retryAt + 1, turn?.until ?? Infinity), giveUp };
    });
  } finally {
    if (queue) await boundedCleanup(clock, () => queue.leave(), opts.withRequestTimeout);
  }
}

/** The engine's entry for every claim kind: `claimWaiting` with `opts.wait`, else `claimOnce`. */
export function claim<O extends Versioned & ObjectIdentity, R, B, G>(clock: Clock, c: Claimant<O, R, B, G>, opts: ClaimOptions<O, R, B>): Promise<R> {
  return opts.wait ? claimWaiting(clock, c, opts) : claimOnce(clock, c, opts);
}
