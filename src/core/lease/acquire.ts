import type { ChangeFeed } from '../feed.js';
import { KoncliError, isKind } from '../errors.js';
import { lateAnswer } from '../expiry.js';
import { refuseTerminating, VanishedObjects } from '../identity.js';
import { MAX_CONFLICT_RETRIES, retryOnConflict } from '../retry.js';
import type { LeaseContext } from './context.js';
import { judgeLease, type LeaseView } from './judge.js';
import type { LeaseRecord } from './model.js';
import { queueMember, viewQueue, type QueueMember } from './queue.js';
import { releaseLease } from './release.js';
import { WaiterSeat } from './seat.js';
import { WATCH_CHECK_TIMEOUT_MS as REGISTER_UNWATCHED_MS } from '../timing.js';
import { busyError, planTake, type AcquireRequest } from './take.js';

export type { AcquireRequest } from './take.js';

export interface AcquireResult {
  outcome: 'acquired' | 'extended' | 'already-held';
  record: LeaseRecord;
  /** The resourceVersion of the write that gave us the lease: strictly increases across holders. */
  fencingToken: string;
  previousHolder: string;
  waitedMs: number;
  /** Local time just before the winning write was sent: the holder's claim runs from no earlier. */
  sentAt: number;
  /** With `keepWatching`: the watch that waited, still running, for the caller to keep and stop. */
  feed?: ChangeFeed<LeaseRecord>;
}

export interface WaitProgress {
  view: LeaseView;
  /** Live waiters ahead of us in the queue. */
  ahead: number;
  waitedMs: number;
}

export interface AcquireOptions {
  wait: boolean;
  /** Give up after this long (ms); undefined waits for ever. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (progress: WaitProgress) => void;
  onNotice?: (message: string) => void;
  /** Hand the waiting watch over with the result (LeaseKeeper adopts it: one watch, not two). */
  keepWatching?: boolean;
}

type Attempt = { done: AcquireResult } | { blocked: LeaseView; ahead: number; retryAt: number };

/**
 * One read-decide-write step against `record` (client-go's tryAcquireOrRenew). Honours the waiter
 * queue only for a waiter (`seat`; one-shot acquirers compete like any other tool): the candidates
 * are read only when the lease is free. Throws ConflictError when the write lost a race.
 */
async function attempt(
  ctx: LeaseContext,
  record: LeaseRecord | null,
  req: AcquireRequest,
  me: QueueMember,
  seat: WaiterSeat | undefined,
  startedAt: number,
  vanished?: VanishedObjects<LeaseRecord>,
): Promise<Attempt> {
  // 1. Never write a claim into a Lease that is going away; judge the lease and look at its legacy queue (koncli.dev/waiters), once.
  refuseTerminating(`lease ${req.name} in namespace ${req.namespace}`, record);
  const now = ctx.clock.now();
  const view = judgeLease(record, ctx.tracker, now);
  const queue = record && viewQueue(record.extras.queue, me, ctx.tracker, now);
  const ahead = (queue?.ahead.length ?? 0) + (seat?.last.ahead ?? 0);
  const ghost = vanished && vanishedClaim(ctx, vanished, vanished.see(record), req.holder, now);
  if (ghost) return { blocked: ghost, ahead, retryAt: ghost.expiresAt! };
  // 2. A free lease goes to the first live waiter in priority order: are we it?
  if (seat && view.phase === 'Held') seat.held(view.holder, record!.version);
  if (record && seat && view.phase !== 'Held' && record.holding.holder !== req.holder) {
    if (queue!.ahead.length > 0) return { blocked: view, ahead, retryAt: queue!.nextStaleAt };
    const known = (await seat.whenFree()) ?? (await seat.lookAround());
    if (known.ahead > 0) return { blocked: view, ahead: known.ahead, retryAt: known.nextStaleAt };
  }
  // 3. Decide (dead waiters drop out of the queue with the next write we make), then write.
  const plan = planTake(
    record && { ...record, extras: { ...record.extras, queue: { ...record.extras.queue, waiters: queue!.live } } },
    req,
    view,
    ctx.clock.wallNow(),
  );
  const done = (outcome: AcquireResult['outcome'], written: LeaseRecord): Attempt => ({
    done: { outcome, record: written, fencingToken: written.version, previousHolder: record?.holding.holder ?? '', waitedMs: now - startedAt, sentAt: now },
  });
  switch (plan.kind) {
    case 'create':
      return done('acquired', await ctx.store.create(plan.draft));
    case 'update':
      return done(plan.outcome, await ctx.store.writeClaim(plan.next));
    case 'held-not-renewable':
      return done('already-held', record!);
    case 'busy':
      return { blocked: view, ahead, retryAt: view.expiresAt ?? Infinity };
  }
}

/**
 * A Lease deleted (or re-created: another uid) while someone held it is not free: the last claim
 * seen on it stays in force until it would have expired, judged as if it were still there.
 */
function vanishedClaim(ctx: LeaseContext, vanished: VanishedObjects<LeaseRecord>, gone: readonly LeaseRecord[], holder: string, now: number) {
  for (const state of gone) {
    const view = judgeLease(state, ctx.tracker, now);
    if (view.phase !== 'Held') vanished.forget(state);
    else if (view.holder !== holder) return { ...view, vanished: true };
  }
  return undefined;
}

/**
 * A claim counts from when its write was sent: one whose answer came too late (core/expiry.ts
 * lateAnswer) is given back, guarded by the resourceVersion our write produced, and refused.
 */
async function claimStands(ctx: LeaseContext, req: AcquireRequest, result: AcquireResult): Promise<AcquireResult> {
  if (result.outcome === 'already-held') return result;
  const late = lateAnswer(result.sentAt, result.record.holding.durationSeconds * 1000, ctx.clock.now());
  if (late === undefined) return result;
  const back = await releaseLease(ctx, { name: req.name, holder: req.holder, delete: false, force: false }, result.record).then(
    () => 'gave the lease back',
    (err: Error) =>
      isKind(err, 'not-held') ? `someone else has written it since (held by ${String(err.details.holder)})` : `could not give it back (${err.message})`,
  );
  throw new KoncliError('unreachable', `lease ${req.name}: ${late}; ${back}; try again`, { late: true });
}

/**
 * Tries once (re-deciding on write conflicts, riding out transient failures for ONE_SHOT_RETRY_MS:
 * src/core/retry.ts); throws `busy` when someone else holds the lease.
 */
export async function acquireOnce(ctx: LeaseContext, req: AcquireRequest, onNotice?: (message: string) => void): Promise<AcquireResult> {
  const startedAt = ctx.clock.now();
  const me = queueMember(req);
  const exhausted = () => new KoncliError('busy', `lease ${req.name}: gave up after ${MAX_CONFLICT_RETRIES} write conflicts in a row`);
  return retryOnConflict({ clock: ctx.clock, exhausted, onNotice }, async () => {
    const step = await attempt(ctx, await ctx.store.get(req.name), req, me, undefined, startedAt);
    if ('done' in step) return claimStands(ctx, req, step.done);
    throw busyError(req.name, step.blocked, ctx.clock);
  });
}

/**
 * Acquires, waiting (by watch, in priority order) when `opts.wait`; throws `busy` on timeout.
 * Transient API failures are ridden out until the timeout (src/core/retry.ts).
 */
export async function acquireLease(ctx: LeaseContext, req: AcquireRequest, opts: AcquireOptions): Promise<AcquireResult> {
  if (!opts.wait) return acquireOnce(ctx, req, opts.onNotice);
  const { boundedCleanup, waitOnObject } = await import('../wait.js'); // only a waiting acquire evaluates the watch machinery
  const { clock } = ctx;
  const startedAt = clock.now();
  const seat = new WaiterSeat(ctx, queueMember(req), req.name, opts.onNotice);
  const vanished = new VanishedObjects<LeaseRecord>();
  // 3. Hand the watch over with the lease when asked (LeaseKeeper adopts it: one watch, not two).
  const keepWatching = (result: AcquireResult, feed: ChangeFeed<LeaseRecord>) => {
    if (!opts.keepWatching) return false;
    feed.offer(result.record);
    result.feed = feed;
    return true;
  };
  try {
    // 1. Watch the lease, from a fresh read.
    // Every holder the watch shows has stopped waiting (a short hold may come and go between two decisions).
    const onState = (state: LeaseRecord | null) => state && seat.took(state.holding.holder, state.version);
    return await waitOnObject(ctx.store, req.name, clock, { ...opts, startedAt, keepWatching, onState }, async (record, feed) => {
      // 2. Until we hold it: try on every change; while blocked, keep our seat (our candidate) alive.
      const step = await attempt(ctx, record, req, seat.member, seat, startedAt, vanished);
      if ('done' in step) return { done: await claimStands(ctx, req, step.done) };
      const now = clock.now();
      opts.onProgress?.({ view: step.blocked, ahead: step.ahead, waitedMs: now - startedAt });
      const giveUp = (why: string) => busyError(req.name, step.blocked, clock, why);
      // Register (or renew) once the watch is open — a registered waiter sees the release it waits for —
      // or after REGISTER_UNWATCHED_MS without it (a watch whose answer never comes: the feed's silence check deals with it).
      const registerAt = feed.opened ? seat.beatAt : Math.max(seat.beatAt, startedAt + REGISTER_UNWATCHED_MS);
      if (now < registerAt) return { until: Math.min(step.retryAt + 1, registerAt), giveUp };
      return { until: now, giveUp, meanwhile: () => seat.beat() };
    });
  } finally {
    // 4. Stopped waiting, with or without the lease: give up our seat (bounded: --timeout bounds the whole command).
    await boundedCleanup(clock, () => seat.leave(), ctx.withRequestTimeout);
  }
}
