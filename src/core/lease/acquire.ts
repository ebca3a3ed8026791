import { ChangeFeed } from '../feed.js';
import { ConflictError, KoncliError, isKind } from '../errors.js';
import { OutageRide } from '../outage.js';
import type { LeaseContext } from './context.js';
import { MAX_CONFLICT_RETRIES } from './context.js';
import { judgeLease, type LeaseView } from './judge.js';
import type { LeaseRecord } from './model.js';
import { CONFLICT_BACKOFF_BASE_MS, CONFLICT_BACKOFF_MAX_MS, HEARTBEAT_JITTER, HEARTBEAT_MS } from '../timing.js';
import { isQueued, liveWaiters, nextStaleAt, waitersAhead, withWaiter, withoutWaiter } from './queue.js';
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

const leaseKey = (req: AcquireRequest) => `${req.namespace}/${req.name}`;

/**
 * One read-decide-write step against `record`. Honours the waiter queue only when `queued`
 * (one-shot acquirers compete like any other tool). Throws ConflictError when the write lost a race.
 */
async function attempt(
  ctx: LeaseContext,
  record: LeaseRecord | null,
  req: AcquireRequest,
  queued: boolean,
  startedAt: number,
): Promise<Attempt> {
  const now = ctx.clock.now();
  const view = judgeLease(record, ctx.tracker, now);
  if (record && queued && view.phase !== 'Held') {
    const ahead = waitersAhead(record.extras.queue, { id: req.holder, priority: req.priority }, ctx.tracker, leaseKey(req), now);
    if (ahead.length > 0 && record.holding.holder !== req.holder) {
      return { blocked: view, ahead: ahead.length, retryAt: nextStaleAt(ahead, ctx.tracker, leaseKey(req)) };
    }
  }
  const plan = planTake(record && withoutStaleWaiters(ctx, record, req, now), req, view, ctx.clock.wallNow());
  const previousHolder = record?.holding.holder ?? '';
  const done = (outcome: AcquireResult['outcome'], written: LeaseRecord): Attempt => ({
    done: { outcome, record: written, fencingToken: written.version, previousHolder, waitedMs: now - startedAt, sentAt: now },
  });
  switch (plan.kind) {
    case 'create':
      return done('acquired', await ctx.store.create(plan.draft));
    case 'update':
      return done(plan.outcome, await ctx.store.update(plan.next, 'holder'));
    case 'held-not-renewable':
      return done('already-held', record!);
    case 'busy': {
      const ahead = record ? waitersAhead(record.extras.queue, { id: req.holder, priority: req.priority }, ctx.tracker, leaseKey(req), now).length : 0;
      return { blocked: view, ahead, retryAt: view.expiresAt ?? Infinity };
    }
  }
}

/** Dead waiters drop out of the queue on the next write we make. */
const withoutStaleWaiters = (ctx: LeaseContext, record: LeaseRecord, req: AcquireRequest, now: number): LeaseRecord => ({
  ...record,
  extras: { ...record.extras, queue: { ...record.extras.queue, waiters: liveWaiters(record.extras.queue, ctx.tracker, leaseKey(req), now, req.holder) } },
});

/** Tries once (re-deciding on write conflicts); throws `busy` when someone else holds the lease. */
export async function acquireOnce(ctx: LeaseContext, req: AcquireRequest): Promise<AcquireResult> {
  const startedAt = ctx.clock.now();
  for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
    const record = await ctx.store.get(req.name);
    try {
      const result = await attempt(ctx, record, req, false, startedAt);
      if ('done' in result) return result.done;
      throw busyError(req.name, result.blocked, ctx.clock);
    } catch (err) {
      if (!isKind(err, 'conflict')) throw err;
    }
  }
  throw new KoncliError('busy', `lease ${req.name}: gave up after ${MAX_CONFLICT_RETRIES} write conflicts in a row`);
}

/** Acquires, waiting (by watch, in priority order) when `opts.wait`; throws `busy` on timeout. */
export async function acquireLease(ctx: LeaseContext, req: AcquireRequest, opts: AcquireOptions): Promise<AcquireResult> {
  if (!opts.wait) return acquireOnce(ctx, req);
  const startedAt = ctx.clock.now();
  const deadline = opts.timeoutMs === undefined ? Infinity : startedAt + opts.timeoutMs;
  const feed = new ChangeFeed(ctx.store, req.name, ctx.clock, await ctx.store.get(req.name), opts.onNotice);
  feed.start();
  let nextBeatAt = 0; // when to register, or refresh our queue entry
  let conflicts = 0; // heartbeats lost to other writers in a row
  let registered = false;
  let acquired = false;
  const outage = new OutageRide(ctx.clock, opts.onNotice);
  try {
    for (;;) {
      const record = feed.current();
      const now = ctx.clock.now();
      let outcome: Attempt;
      try {
        outcome = await attempt(ctx, record, req, true, startedAt);
      } catch (err) {
        // A lost race: re-decide on the newer state the watch delivers. An unreachable server: retry shortly.
        await feed.waitForChange(outage.retryAfter(err, deadline, opts.signal?.aborted), opts.signal);
        continue;
      }
      if ('done' in outcome) {
        acquired = true;
        if (!opts.keepWatching) return outcome.done;
        feed.offer(outcome.done.record);
        return { ...outcome.done, feed };
      }
      opts.onProgress?.({ view: outcome.blocked, ahead: outcome.ahead, waitedMs: now - startedAt });
      if (now >= deadline || opts.signal?.aborted) {
        throw busyError(req.name, outcome.blocked, ctx.clock, opts.signal?.aborted ? ' (interrupted)' : ` (waited ${Math.round((now - startedAt) / 1000)}s)`);
      }
      // Dropped from the queue (judged stale, or the lease re-created): register again at once,
      // unless we are backing off after lost heartbeats.
      if (record && conflicts === 0 && !isQueued(record.extras.queue, req.holder)) nextBeatAt = Math.min(nextBeatAt, now);
      if (record && now >= nextBeatAt) {
        let beat: boolean;
        try {
          beat = await heartbeat(ctx, feed, record, req);
          outage.ok();
        } catch (err) {
          await feed.waitForChange(outage.retryAt(err, deadline, opts.signal?.aborted), opts.signal);
          continue;
        }
        if (beat) {
          registered = true;
          conflicts = 0;
          nextBeatAt = now + heartbeatPeriod();
        } else {
          // Another waiter wrote first. Retrying at once makes N waiters that beat together cost
          // ~N²/2 writes (and wake every waiter each time); a random, growing pause spreads them.
          conflicts++;
          nextBeatAt = now + conflictBackoff(conflicts);
        }
        continue;
      }
      await feed.waitForChange(Math.min(outcome.retryAt + 1, nextBeatAt, deadline), opts.signal);
    }
  } finally {
    if (!acquired || !opts.keepWatching) feed.stop();
    if (registered && !acquired) await leaveQueue(ctx, req).catch(() => {});
  }
}

/** A heartbeat period in [1 − HEARTBEAT_JITTER, 1] × HEARTBEAT_MS, random, so waiters that started together drift apart. */
const heartbeatPeriod = () => HEARTBEAT_MS * (1 - HEARTBEAT_JITTER + HEARTBEAT_JITTER * Math.random());

/** Pause after the n-th heartbeat in a row lost to another writer: random, up to CONFLICT_BACKOFF_BASE_MS × 2^n (at most CONFLICT_BACKOFF_MAX_MS). */
export const conflictBackoff = (n: number) => Math.random() * Math.min(CONFLICT_BACKOFF_MAX_MS, CONFLICT_BACKOFF_BASE_MS * 2 ** Math.min(n, 10));

/** Registers us in (or refreshes our entry of) the lease's waiter queue. */
async function heartbeat(ctx: LeaseContext, feed: ChangeFeed<LeaseRecord>, record: LeaseRecord, req: AcquireRequest): Promise<boolean> {
  const queue = withWaiter(record.extras.queue, { id: req.holder, priority: req.priority }, ctx.tracker, leaseKey(req), ctx.clock.now());
  try {
    feed.offer(await ctx.store.update({ ...record, extras: { ...record.extras, queue } }, 'queue'));
    return true;
  } catch (err) {
    if (isKind(err, 'conflict') || isKind(err, 'not-found')) return false;
    throw err;
  }
}

/** Best effort: take our entry out of the queue when we stop waiting without the lease. */
async function leaveQueue(ctx: LeaseContext, req: AcquireRequest): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const record = await ctx.store.get(req.name);
    if (!record || !isQueued(record.extras.queue, req.holder)) return;
    try {
      await ctx.store.update({ ...record, extras: { ...record.extras, queue: withoutWaiter(record.extras.queue, req.holder) } }, 'queue');
      return;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
}
