import type { ChangeFeed } from '../feed.js';
import { claimOnce, claimWaiting, type Claimant, type WaitQueue } from '../claim/claimant.js';
import { isKind } from '../errors.js';
import type { LeaseContext } from './context.js';
import { judgeLease, type LeaseView } from './judge.js';
import type { LeaseRecord } from './model.js';
import { queueMember, viewQueue } from './queue.js';
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
  /** Hand the waiting watch over with the result (the claim keeper adopts it: one watch, not two). */
  keepWatching?: boolean;
}

/** What blocks a lease claim: who holds it, and how many live waiters are ahead of us. */
type Blocked = { view: LeaseView; ahead: number };

/**
 * Our claim on a lease as the claim engine drives it (core/claim/claimant.ts; client-go's
 * tryAcquireOrRenew is its step): judge the lease, look at its legacy queue (koncli.dev/waiters)
 * once; a free lease goes to the first live waiter in priority order (`seat`, a waiter's only: one-shot
 * acquirers compete like any other tool; the candidates are read only when the lease is free); then
 * `planTake` and the write. A Lease deleted or re-created while someone held it is not free.
 */
export function leaseClaimant(ctx: LeaseContext, req: AcquireRequest, seat?: WaiterSeat): Claimant<LeaseRecord, AcquireResult, Blocked, LeaseView> {
  const startedAt = ctx.clock.now();
  const me = seat?.member ?? queueMember(req);
  return {
    what: `lease ${req.name}`,
    where: `lease ${req.name} in namespace ${req.namespace}`,
    store: ctx.store,
    name: req.name,
    ghostsIn: (gone, now) => {
      const view = judgeLease(gone, ctx.tracker, now);
      return view.phase === 'Held' && view.holder !== req.holder ? [{ ...view, vanished: true }] : [];
    },
    step: async ({ obj: record, now, ghosts }) => {
      const view = judgeLease(record, ctx.tracker, now);
      const queue = record && viewQueue(record.extras.queue, me, ctx.tracker, now);
      const ahead = (queue?.ahead.length ?? 0) + (seat?.last.ahead ?? 0);
      if (ghosts.length) return { blocked: { view: ghosts[0], ahead }, retryAt: ghosts[0].expiresAt! };
      if (seat && view.phase === 'Held') seat.held(view.holder, record!.version);
      if (record && seat && view.phase !== 'Held' && record.holding.holder !== req.holder) {
        if (queue!.ahead.length > 0) return { blocked: { view, ahead }, retryAt: queue!.nextStaleAt };
        const known = (await seat.whenFree()) ?? (await seat.lookAround());
        if (known.ahead > 0) return { blocked: { view, ahead: known.ahead }, retryAt: known.nextStaleAt };
      }
      // Dead waiters drop out of the legacy queue with the next write we make.
      const plan = planTake(
        record && { ...record, extras: { ...record.extras, queue: { ...record.extras.queue, waiters: queue!.live } } },
        req,
        view,
        ctx.clock.wallNow(),
      );
      const done = (outcome: AcquireResult['outcome'], written: LeaseRecord) => ({
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
          return { blocked: { view, ahead }, retryAt: view.expiresAt ?? Infinity };
      }
    },
    busy: ({ view }, why) => busyError(req.name, view, ctx.clock, why),
    sent: (r) => (r.outcome === 'already-held' ? undefined : { sentAt: r.sentAt, durationMs: r.record.holding.durationSeconds * 1000 }),
    giveBack: (r) =>
      releaseLease(ctx, { name: req.name, holder: req.holder, delete: false, force: false }, r.record).then(
        () => 'gave the lease back',
        (err: Error) =>
          isKind(err, 'not-held') ? `someone else has written it since (held by ${String(err.details.holder)})` : `could not give it back (${err.message})`,
      ),
  };
}

/** Tries once through the claim engine; throws `busy` when someone else holds the lease. */
export const acquireOnce = (ctx: LeaseContext, req: AcquireRequest, onNotice?: (message: string) => void): Promise<AcquireResult> =>
  claimOnce(ctx.clock, leaseClaimant(ctx, req), { onNotice });

/**
 * The waiter's seat as the engine's queue: every holder the watch shows has stopped waiting (a short
 * hold may come and go between two decisions); while blocked, the seat registers (or renews) once the
 * watch is open — a registered waiter sees the release it waits for — or after REGISTER_UNWATCHED_MS
 * without it (a watch whose answer never comes: the feed's silence check deals with it).
 */
function seatQueue(seat: WaiterSeat, startedAt: number): WaitQueue<LeaseRecord> {
  return {
    onState: (state) => state && seat.took(state.holding.holder, state.version),
    whileBlocked: (now, watchOpen) => {
      const registerAt = watchOpen ? seat.beatAt : Math.max(seat.beatAt, startedAt + REGISTER_UNWATCHED_MS);
      return now < registerAt ? { until: registerAt } : { meanwhile: () => seat.beat() };
    },
    leave: () => seat.leave(),
  };
}

/**
 * Acquires through the claim engine, waiting (by watch, in priority order: core/lease/seat.ts) when
 * `opts.wait`; throws `busy` on timeout. With `keepWatching` the waiting watch is handed over with
 * the result (the claim keeper adopts it: one watch, not two).
 */
export async function acquireLease(ctx: LeaseContext, req: AcquireRequest, opts: AcquireOptions): Promise<AcquireResult> {
  if (!opts.wait) return acquireOnce(ctx, req, opts.onNotice);
  const seat = new WaiterSeat(ctx, queueMember(req), req.name, opts.onNotice);
  const keepWatching = (result: AcquireResult, feed: ChangeFeed<LeaseRecord>) => {
    if (!opts.keepWatching) return false;
    feed.offer(result.record);
    result.feed = feed;
    return true;
  };
  return claimWaiting(ctx.clock, leaseClaimant(ctx, req, seat), {
    ...opts,
    keepWatching,
    queue: seatQueue(seat, ctx.clock.now()),
    withRequestTimeout: ctx.withRequestTimeout,
    onBlocked: ({ view, ahead }, waitedMs) => opts.onProgress?.({ view, ahead, waitedMs }),
  });
}
