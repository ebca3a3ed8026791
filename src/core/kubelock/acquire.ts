import { KoncliError, isKind } from '../errors.js';
import { lateAnswer } from '../expiry.js';
import { refuseTerminating, VanishedObjects } from '../identity.js';
import { MAX_CONFLICT_RETRIES, retryOnConflict } from '../retry.js';
import { waitOnObject, type Decision } from '../wait.js';
import { decodeLock, encodeLock, lockAnnotationKey, ttlToMs, type LockData } from './codec.js';
import { busyError, judgeLock, planAcquire, type AcquireLockRequest, type LockView } from './decide.js';
import { lockWriter, type AnnotatedObject, type KubelockContext } from './model.js';
import { releaseLock } from './release.js';

export interface AcquireLockResult {
  outcome: 'acquired' | 'refreshed';
  /** The record koncli wrote. */
  data: LockData;
  /** Who held it before (when it was expired, or ourselves on refresh); null when it was free. */
  previousOwner: string | null;
  /**
   * Monotonic ms (Clock.now) until which we may count on the lock: the TTL from just before our write was sent.
   * Every observer's deadline is later (it cannot have seen the write before it was sent).
   */
  expiresAt: number;
  /** Monotonic ms just before the write was sent: the lock counts from no earlier. */
  sentAt: number;
  object: AnnotatedObject;
  waitedMs: number;
}

export interface AcquireLockOptions {
  wait: boolean;
  /** Give up after this long (ms); undefined waits for ever. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (view: LockView, waitedMs: number) => void;
  onNotice?: (message: string) => void;
}

const notFound = (what: string) => new KoncliError('not-found', `${what} not found; an annotation lock needs an existing object`);

type Attempt = { done: AcquireLockResult } | { blocked: LockView };

/**
 * The lock as it stood on an object that was deleted or re-created (another uid) since we saw it:
 * its last claim stays in force until it would have expired (a deleted lock is not free).
 */
function vanishedLock(ctx: KubelockContext, vanished: VanishedObjects<AnnotatedObject>, obj: AnnotatedObject, req: AcquireLockRequest, now: number) {
  const what = ctx.store.describe(req.name);
  for (const gone of vanished.see(obj)) {
    const view = judgeLock(gone, req.lock, what, ctx.tracker, now);
    if (view.state !== 'held') vanished.forget(gone);
    else if (view.data!.owner !== req.owner) return view;
  }
  return undefined;
}

/** One read-decide-write step. Throws ConflictError when the write lost a race. */
async function attempt(
  ctx: KubelockContext,
  obj: AnnotatedObject,
  req: AcquireLockRequest,
  startedAt: number,
  vanished?: VanishedObjects<AnnotatedObject>,
): Promise<Attempt> {
  const what = ctx.store.describe(req.name);
  refuseTerminating(what, obj);
  const now = ctx.clock.now();
  const ghost = vanished && vanishedLock(ctx, vanished, obj, req, now);
  if (ghost) return { blocked: ghost };
  const view = judgeLock(obj, req.lock, what, ctx.tracker, now);
  const plan = planAcquire(view, req, ctx.clock.wallNow());
  if (plan.kind === 'busy') return { blocked: plan.view };
  const key = lockAnnotationKey(req.lock);
  const written = await ctx.store.setAnnotation(req.name, obj.version, key, encodeLock(plan.value), lockWriter(req.lock));
  return {
    done: {
      outcome: plan.outcome,
      data: decodeLock(key, written.annotations[key]),
      previousOwner: view.data?.owner ?? null,
      expiresAt: now + ttlToMs(plan.value.ttlNs),
      sentAt: now,
      object: written,
      waitedMs: now - startedAt,
    },
  };
}

/**
 * A lock counts from when its write was sent: one whose answer came too late (core/expiry.ts
 * lateAnswer) is given back (a release guarded by resourceVersion) and refused.
 */
async function lockStands(ctx: KubelockContext, req: AcquireLockRequest, result: AcquireLockResult): Promise<AcquireLockResult> {
  const late = lateAnswer(result.sentAt, result.expiresAt - result.sentAt, ctx.clock.now());
  if (late === undefined) return result;
  const back = await releaseLock(ctx, { name: req.name, lock: req.lock, owner: req.owner, force: false }).then(
    () => 'gave the lock back',
    (err: Error) => (isKind(err, 'not-held') ? 'it was no longer ours to give back' : `could not give it back (${err.message})`),
  );
  throw new KoncliError('unreachable', `lock ${req.lock} on ${ctx.store.describe(req.name)}: ${late}; ${back}; try again`, { late: true });
}

/**
 * Tries once (re-deciding on write conflicts, riding out transient failures for ONE_SHOT_RETRY_MS:
 * src/core/retry.ts); throws `busy` when another owner holds the lock.
 */
export async function acquireLockOnce(ctx: KubelockContext, req: AcquireLockRequest, onNotice?: (message: string) => void): Promise<AcquireLockResult> {
  const what = ctx.store.describe(req.name);
  const startedAt = ctx.clock.now();
  const exhausted = () => new KoncliError('busy', `lock ${req.lock} on ${what}: gave up after ${MAX_CONFLICT_RETRIES} write conflicts in a row`);
  return retryOnConflict({ clock: ctx.clock, exhausted, onNotice }, async () => {
    const obj = await ctx.store.get(req.name);
    if (!obj) throw notFound(what);
    const result = await attempt(ctx, obj, req, startedAt);
    if ('done' in result) return lockStands(ctx, req, result.done);
    throw busyError(result.blocked, what, ctx.clock);
  });
}

/**
 * Acquires; with `opts.wait`, watches the object and retries whenever it changes or the holder's
 * time runs out. Transient API failures are ridden out until the timeout (src/core/retry.ts).
 */
export async function acquireLock(ctx: KubelockContext, req: AcquireLockRequest, opts: AcquireLockOptions): Promise<AcquireLockResult> {
  if (!opts.wait) return acquireLockOnce(ctx, req, opts.onNotice);
  const { clock } = ctx;
  const what = ctx.store.describe(req.name);
  const startedAt = clock.now();
  const check = (obj: AnnotatedObject | null) => {
    if (!obj) throw notFound(what);
  };
  const vanished = new VanishedObjects<AnnotatedObject>();
  return waitOnObject(ctx.store, req.name, clock, { ...opts, startedAt, check }, async (obj): Promise<Decision<AnnotatedObject, AcquireLockResult>> => {
    check(obj);
    const outcome = await attempt(ctx, obj!, req, startedAt, vanished);
    if ('done' in outcome) return { done: await lockStands(ctx, req, outcome.done) };
    opts.onProgress?.(outcome.blocked, clock.now() - startedAt);
    return { until: (outcome.blocked.expiresAt ?? Infinity) + 1, giveUp: (why) => busyError(outcome.blocked, what, clock, why) };
  });
}
