import { KoncliError, isKind } from '../errors.js';
import { checkIfHolder, forceMessage, type ForceAuthor } from '../if-holder.js';
import { retryOnConflict } from '../retry.js';
import { lockAnnotationKey } from './codec.js';
import { judgeLock, planRelease, type LockView, type ReleaseLockRequest } from './decide.js';
import { lockWriter, type AnnotatedObject, type KubelockContext } from './model.js';

export interface ReleaseLockResult {
  /** already-free: the lock (or the object) was not there: releasing one's own lock is idempotent. */
  outcome: 'released' | 'already-free';
  /** Who held it; null when already free. */
  previousOwner: string | null;
  /** The lock had already expired when it was removed. */
  expired: boolean;
  forced: boolean;
  /** Set when the force-release Event could not be recorded (the release itself happened). */
  eventError?: string;
}

const ALREADY_FREE: ReleaseLockResult = { outcome: 'already-free', previousOwner: null, expired: false, forced: false };

/** An unreadable record: only --force may remove it. */
const UNREADABLE = '<unreadable record>';

/**
 * Removes the lock's annotation, guarded by resourceVersion so a new owner is never displaced. A
 * write whose answer was lost is resolved by the next read: a record no longer there (or replaced)
 * was removed (exit 0), and a force records its Event (by `author`, default the --owner).
 */
export async function releaseLock(ctx: KubelockContext, req: ReleaseLockRequest, author?: ForceAuthor): Promise<ReleaseLockResult> {
  const what = ctx.store.describe(req.name);
  const key = lockAnnotationKey(req.lock);
  const exhausted = () => new KoncliError('error', `lock ${req.lock} on ${what}: release kept conflicting with other writers`);
  let sent: { value: string; result: ReleaseLockResult; obj: AnnotatedObject } | undefined;
  return retryOnConflict({ clock: ctx.clock, exhausted }, async () => {
    const obj = await ctx.store.get(req.name);
    // One rule for absent things (issue 22): one's own release of what is gone is done; a force that breaks nothing is not.
    if (!obj && req.force) throw new KoncliError('not-found', `${what} not found: nothing was broken`);
    if (!obj) return sent ? released(ctx, req, sent.obj, sent.result, author) : ALREADY_FREE;
    if (sent && obj.annotations[key] !== sent.value) return released(ctx, req, sent.obj, sent.result, author);
    let view: LockView;
    try {
      view = judgeLock(obj, req.lock, what, ctx.tracker, ctx.clock.now());
    } catch (err) {
      if (!isKind(err, 'corrupt') || !req.force) throw err;
      view = { lock: req.lock, state: 'held', data: { owner: UNREADABLE, createdAt: '', ttlNs: 0n } };
    }
    if (req.force) checkIfHolder(`lock ${req.lock} on ${what}`, req.ifHolder, view.state === 'free' ? [] : [view.data!.owner]);
    if (view.state === 'free' && !req.force) return ALREADY_FREE;
    const { forced } = planRelease(view, req, what);
    const result: ReleaseLockResult = { outcome: 'released', previousOwner: view.data!.owner, expired: view.state === 'expired', forced };
    try {
      await ctx.store.setAnnotation(req.name, obj.version, key, null, lockWriter(req.lock));
    } catch (err) {
      if (!isKind(err, 'conflict')) sent = { value: obj.annotations[key], result, obj }; // it may have landed: the next read tells
      throw err;
    }
    return released(ctx, req, obj, result, author);
  });
}

/** A release that landed; a force records its Event. */
async function released(
  ctx: KubelockContext,
  req: ReleaseLockRequest,
  obj: AnnotatedObject,
  result: ReleaseLockResult,
  author?: ForceAuthor,
): Promise<ReleaseLockResult> {
  if (result.forced) {
    await ctx.store
      .recordEvent(
        obj,
        'KubelockForceReleased',
        forceMessage(author ?? { by: req.owner }, `force-released kubelock ${req.lock} held by ${result.previousOwner}`),
      )
      .catch((err: Error) => (result.eventError = err.message));
  }
  return result;
}
