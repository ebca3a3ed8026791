import { ConflictError, KoncliError, isKind } from '../errors.js';
import { lateAnswer } from '../expiry.js';
import { refuseTerminating, VanishedObjects } from '../identity.js';
import { MAX_CONFLICT_RETRIES, retryOnConflict } from '../retry.js';
import { waitOnObject, type Decision } from '../wait.js';
import { decodeSemaphore, encodeSemaphore } from './codec.js';
import { busyError, planLock, type LockOutcome, type LockRequest, type Stamp } from './decide.js';
import { judgeHolders, liveHolders, type HolderView } from './judge.js';
import { kubeLockDate, semaphoreKey, type SemaphoreContext, type SemaphoreObject, type SemaphoreState } from './model.js';
import { unlockSemaphore } from './unlock.js';

export interface LockResult {
  outcome: LockOutcome;
  object: SemaphoreObject;
  state: SemaphoreState;
  created: boolean;
  /** With a TTL: the monotonic time (Clock.now) until which the caller may count on its slot. */
  heldUntil?: number;
  /** Monotonic time (Clock.now) just before the write was sent: the slot counts from no earlier. */
  sentAt: number;
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

/**
 * The live holders of semaphores that were deleted (or re-created: another uid) while we waited:
 * a deleted lock is not free, each last claim seen stays in force until it would have expired
 * (without a TTL: for as long as we wait). Our own entries do not count.
 */
function vanishedHolders(ctx: SemaphoreContext, vanished: VanishedObjects<SemaphoreObject>, current: SemaphoreObject | null, req: LockRequest, now: number) {
  const live: HolderView[] = [];
  for (const gone of vanished.see(current)) {
    const views =
      gone.annotation === undefined ? [] : liveHolders(judgeHolders(decodeSemaphore(req.name, gone.annotation), ctx.tracker, semaphoreKey(gone), now));
    const others = views.filter((v) => v.id !== req.holder && !live.some((l) => l.id === v.id));
    if (others.length === 0) vanished.forget(gone);
    live.push(...others);
  }
  return live;
}

/** One read-decide-write step against `obj`; throws ConflictError when the write lost a race. */
async function attempt(
  ctx: SemaphoreContext,
  obj: SemaphoreObject | null,
  req: LockRequest,
  startedAt: number,
  vanished?: VanishedObjects<SemaphoreObject>,
): Promise<Attempt> {
  if (!obj && !req.create) throw notFound(req);
  refuseTerminating(`semaphore ${req.name} (ConfigMap ${req.name} in namespace ${req.namespace})`, obj);
  const now = ctx.clock.now();
  const state = obj?.annotation === undefined ? undefined : decodeSemaphore(req.name, obj.annotation);
  const ghosts = vanished ? vanishedHolders(ctx, vanished, obj, req, now).filter((v) => !state || !(v.id in state.holders)) : [];
  const views = [...(state ? judgeHolders(state, ctx.tracker, semaphoreKey(obj!), now) : []), ...ghosts];
  const plan = planLock(state, views, req, () => stamp(ctx, req, now));
  const heldUntil = req.ttlSeconds === undefined ? undefined : now + req.ttlSeconds * 1000;
  const done = (outcome: LockOutcome, object: SemaphoreObject, next: SemaphoreState): Attempt => ({
    done: { outcome, object, state: next, created: !obj, heldUntil, sentAt: now, waitedMs: now - startedAt },
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
      if (plan.state && obj) return { wrote: await ctx.store.write(obj, encodeSemaphore(plan.state)) };
      return { blocked: { max: plan.max, holders: plan.holders, retryAt: plan.retryAt } };
  }
}

/**
 * A slot with a TTL counts from when its write was sent: one whose answer came too late
 * (core/expiry.ts lateAnswer) is given back (an unlock guarded by resourceVersion) and refused.
 */
async function slotStands(ctx: SemaphoreContext, req: LockRequest, result: LockResult): Promise<LockResult> {
  if (req.ttlSeconds === undefined || result.outcome === 'already-held') return result;
  const late = lateAnswer(result.sentAt, req.ttlSeconds * 1000, ctx.clock.now());
  if (late === undefined) return result;
  const back = await unlockSemaphore(ctx, { name: req.name, namespace: req.namespace, holder: req.holder, force: false, by: req.holder }).then(
    () => 'gave the slot back',
    (err: Error) => (isKind(err, 'not-held') ? 'it was no longer ours to give back' : `could not give it back (${err.message})`),
  );
  throw new KoncliError('unreachable', `semaphore ${req.name}: ${late}; ${back}; try again`, { late: true });
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
    if ('done' in result) return slotStands(ctx, req, result.done);
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
  const { clock } = ctx;
  const startedAt = clock.now();
  const vanished = new VanishedObjects<SemaphoreObject>();
  return waitOnObject(ctx.store, req.name, clock, { ...opts, startedAt }, async (obj): Promise<Decision<SemaphoreObject, LockResult>> => {
    const outcome = await attempt(ctx, obj, req, startedAt, vanished);
    if ('done' in outcome) return { done: await slotStands(ctx, req, outcome.done) };
    if (!('blocked' in outcome)) return outcome;
    const { max, holders, retryAt } = outcome.blocked;
    opts.onProgress?.({ max, holders, waitedMs: clock.now() - startedAt });
    return { until: retryAt + 1, giveUp: (why) => busyError(req.name, max, holders, clock, why) };
  });
}
