import { claim, claimOnce, type Claimant } from '../claim/claimant.js';
import { KoncliError, isKind } from '../errors.js';
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

/**
 * Our claim on an annotation lock as the claim engine drives it (core/claim/claimant.ts): the rules
 * are giantswarm's, `planAcquire` (core/kubelock/decide.ts) on the lock judged now; the lock as it
 * stood on an object deleted or re-created since we saw it stays in force until it would have expired.
 */
export function lockClaimant(ctx: KubelockContext, req: AcquireLockRequest): Claimant<AnnotatedObject, AcquireLockResult, LockView, LockView> {
  const what = ctx.store.describe(req.name);
  const startedAt = ctx.clock.now();
  return {
    what: `lock ${req.lock} on ${what}`,
    where: what,
    store: ctx.store,
    name: req.name,
    check: (obj) => {
      if (!obj) throw notFound(what);
    },
    ghostsIn: (gone, now) => {
      const view = judgeLock(gone, req.lock, what, ctx.tracker, now);
      return view.state === 'held' && view.data!.owner !== req.owner ? [view] : [];
    },
    step: async ({ obj, now, ghosts }) => {
      if (ghosts.length) return { blocked: ghosts[0], retryAt: ghosts[0].expiresAt ?? Infinity };
      const view = judgeLock(obj!, req.lock, what, ctx.tracker, now);
      const plan = planAcquire(view, req, ctx.clock.wallNow());
      if (plan.kind === 'busy') return { blocked: plan.view, retryAt: plan.view.expiresAt ?? Infinity };
      const key = lockAnnotationKey(req.lock);
      const written = await ctx.store.setAnnotation(req.name, obj!.version, key, encodeLock(plan.value), lockWriter(req.lock));
      const data = decodeLock(key, written.annotations[key]);
      const expiresAt = now + ttlToMs(plan.value.ttlNs);
      return {
        done: { outcome: plan.outcome, data, previousOwner: view.data?.owner ?? null, expiresAt, sentAt: now, object: written, waitedMs: now - startedAt },
      };
    },
    busy: (view, why) => busyError(view, what, ctx.clock, why),
    sent: (r) => ({ sentAt: r.sentAt, durationMs: r.expiresAt - r.sentAt }),
    giveBack: () =>
      releaseLock(ctx, { name: req.name, lock: req.lock, owner: req.owner, force: false }).then(
        () => 'gave the lock back',
        (err: Error) => (isKind(err, 'not-held') ? 'it was no longer ours to give back' : `could not give it back (${err.message})`),
      ),
  };
}

/** Tries once through the claim engine; throws `busy` when another owner holds the lock. */
export const acquireLockOnce = (ctx: KubelockContext, req: AcquireLockRequest, onNotice?: (message: string) => void): Promise<AcquireLockResult> =>
  claimOnce(ctx.clock, lockClaimant(ctx, req), { onNotice });

/**
 * Acquires through the claim engine; with `opts.wait`, watches the object and decides again whenever
 * it changes or the holder's time runs out. Transient API failures are ridden out until the timeout.
 */
export const acquireLock = (ctx: KubelockContext, req: AcquireLockRequest, opts: AcquireLockOptions): Promise<AcquireLockResult> =>
  claim(ctx.clock, lockClaimant(ctx, req), { ...opts, onBlocked: opts.onProgress });
