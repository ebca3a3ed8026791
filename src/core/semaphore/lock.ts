import { ConflictError, KoncliError } from '../errors.js';
import { MAX_CONFLICT_RETRIES, retryOnConflict } from '../retry.js';
import { decodeSemaphore, encodeSemaphore } from './codec.js';
import { busyError, planLock, type LockOutcome, type LockRequest, type Stamp } from './decide.js';
import { judgeHolders, type HolderView } from './judge.js';
import { kubeLockDate, semaphoreKey, type SemaphoreContext, type SemaphoreObject, type SemaphoreState } from './model.js';

export interface LockResult {
  outcome: LockOutcome;
  object: SemaphoreObject;
  state: SemaphoreState;
  created: boolean;
  /** With a TTL: the monotonic time (Clock.now) until which the caller may count on its slot. */
  heldUntil?: number;
  waitedMs: number;
}

export interface LockProgress {
  max: number;
  holders: HolderView[];
  waitedMs: number;
}

export interface LockOptions {
  wait: boolean;
  /** Give up after this long (ms); undefined waits for ever. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (progress: LockProgress) => void;
  onNotice?: (message: string) => void;
}

type Attempt = { done: LockResult } | { wrote: SemaphoreObject } | { blocked: { max: number; holders: HolderView[]; retryAt: number } };

export const notFound = (req: LockRequest) =>
  new KoncliError('not-found', `semaphore ${req.name} (a ConfigMap) does not exist in namespace ${req.namespace}; add --create to create it`);

/**
 * `expires` is an upper bound of the server clock at `now` (monotonic; it precedes the write) plus
 * the TTL, learnt from `Date` headers: observers then never end the slot before the holder does.
 * `date` is kube-lock's, from the wall clock.
 */
function stamp(ctx: SemaphoreContext, req: LockRequest, now: number): Stamp {
  const date = kubeLockDate(ctx.clock.wallNow());
  if (req.ttlSeconds === undefined) return { date };
  const server = ctx.serverClock.serverTimeAtMost(now);
  if (server === undefined) {
    throw new KoncliError('error', `cannot stamp the --ttl of semaphore ${req.name}: the API server's clock is unknown (no Date header seen)`);
  }
  return { date, expires: new Date(server + req.ttlSeconds * 1000).toISOString() };
}

/** One read-decide-write step against `obj`; throws ConflictError when the write lost a race. */
async function attempt(ctx: SemaphoreContext, obj: SemaphoreObject | null, req: LockRequest, startedAt: number): Promise<Attempt> {
  if (!obj && !req.create) throw notFound(req);
  const now = ctx.clock.now();
  const state = obj?.annotation === undefined ? undefined : decodeSemaphore(req.name, obj.annotation);
  const views = state ? judgeHolders(state, ctx.tracker, semaphoreKey(req), now) : [];
  const plan = planLock(state, views, req, () => stamp(ctx, req, now));
  const heldUntil = req.ttlSeconds === undefined ? undefined : now + req.ttlSeconds * 1000;
  const done = (outcome: LockOutcome, object: SemaphoreObject, next: SemaphoreState): Attempt => ({
    done: { outcome, object, state: next, created: !obj, heldUntil, waitedMs: now - startedAt },
  });
  switch (plan.kind) {
    case 'none':
      return done(plan.outcome, obj!, state!);
    case 'write': {
      const annotation = encodeSemaphore(plan.state);
      const written = obj ? await ctx.store.write(obj, annotation) : await ctx.store.create(req.name, annotation);
      return done(plan.outcome, written, plan.state);
    }
    case 'busy':
      if (plan.state) return { wrote: await ctx.store.write(obj!, encodeSemaphore(plan.state)) };
      return { blocked: { max: plan.max, holders: plan.holders, retryAt: plan.retryAt } };
  }
}

/**
 * Tries once (re-deciding on write conflicts, riding out transient failures for ONE_SHOT_RETRY_MS:
 * src/core/retry.ts); throws `busy` when the semaphore is full.
 */
export async function lockOnce(ctx: SemaphoreContext, req: LockRequest, onNotice?: (message: string) => void): Promise<LockResult> {
  const startedAt = ctx.clock.now();
  const exhausted = () => new KoncliError('busy', `semaphore ${req.name}: gave up after ${MAX_CONFLICT_RETRIES} write conflicts in a row`);
  return retryOnConflict({ clock: ctx.clock, exhausted, onNotice }, async () => {
    const result = await attempt(ctx, await ctx.store.get(req.name), req, startedAt);
    if ('done' in result) return result.done;
    if ('blocked' in result) throw busyError(req.name, result.blocked.max, result.blocked.holders, ctx.clock);
    throw new ConflictError('stale holders pruned: decide again'); // 'wrote': read again
  });
}

/**
 * Takes a slot, waiting (by watching the ConfigMap) when `opts.wait`; throws `busy` on timeout.
 * Transient API failures are ridden out until the timeout (src/core/retry.ts).
 */
export async function lockSemaphore(ctx: SemaphoreContext, req: LockRequest, opts: LockOptions): Promise<LockResult> {
  if (!opts.wait) return lockOnce(ctx, req, opts.onNotice);
  const { waitOnObject } = await import('../wait.js'); // only a waiting lock evaluates the watch machinery
  const { clock } = ctx;
  const startedAt = clock.now();
  return waitOnObject(ctx.store, req.name, clock, { ...opts, startedAt }, async (obj) => {
    const outcome = await attempt(ctx, obj, req, startedAt);
    if (!('blocked' in outcome)) return outcome;
    const { max, holders, retryAt } = outcome.blocked;
    opts.onProgress?.({ max, holders, waitedMs: clock.now() - startedAt });
    return { until: retryAt + 1, giveUp: (why) => busyError(req.name, max, holders, clock, why) };
  });
}
