import { KoncliError, isKind } from '../errors.js';
import { retryOnConflict } from '../retry.js';
import { lockAnnotationKey } from './codec.js';
import { judgeLock, planRelease, type LockView, type ReleaseLockRequest } from './decide.js';
import { lockWriter, type AnnotatedObject, type KubelockContext } from './model.js';

export interface ReleaseLockResult {
  outcome: 'released';
  previousOwner: string;
  /** The lock had already expired when it was removed. */
  expired: boolean;
  forced: boolean;
  /** Set when the force-release Event could not be recorded (the release itself happened). */
  eventError?: string;
}

/** An unreadable record: only --force may remove it. */
const UNREADABLE = '<unreadable record>';

/**
 * Removes the lock's annotation, guarded by resourceVersion so a new owner is never displaced. A
 * write whose answer was lost is resolved by the next read: a record no longer there (or replaced)
 * was removed (exit 0), and a force records its Event.
 */
export async function releaseLock(ctx: KubelockContext, req: ReleaseLockRequest): Promise<ReleaseLockResult> {
  const what = ctx.store.describe(req.name);
  const key = lockAnnotationKey(req.lock);
  const exhausted = () => new KoncliError('error', `lock ${req.lock} on ${what}: release kept conflicting with other writers`);
  let sent: { value: string; result: ReleaseLockResult; obj: AnnotatedObject } | undefined;
  return retryOnConflict({ clock: ctx.clock, exhausted }, async () => {
    const obj = await ctx.store.get(req.name);
    if (!obj) throw new KoncliError('not-found', `${what} not found`);
    if (sent && obj.annotations[key] !== sent.value) return released(ctx, req, sent.obj, sent.result);
    let view: LockView;
    try {
      view = judgeLock(obj, req.lock, what, ctx.tracker, ctx.clock.now());
    } catch (err) {
      if (!isKind(err, 'corrupt') || !req.force) throw err;
      view = { lock: req.lock, state: 'held', data: { owner: UNREADABLE, createdAt: '', ttlNs: 0n } };
    }
    const { forced } = planRelease(view, req, what);
    const result: ReleaseLockResult = { outcome: 'released', previousOwner: view.data!.owner, expired: view.state === 'expired', forced };
    try {
      await ctx.store.setAnnotation(req.name, obj.version, key, null, lockWriter(req.lock));
    } catch (err) {
      if (!isKind(err, 'conflict')) sent = { value: obj.annotations[key], result, obj }; // it may have landed: the next read tells
      throw err;
    }
    return released(ctx, req, obj, result);
  });
}

/** A release that landed; a force records its Event. */
async function released(ctx: KubelockContext, req: ReleaseLockRequest, obj: AnnotatedObject, result: ReleaseLockResult): Promise<ReleaseLockResult> {
  if (result.forced) {
    await ctx.store
      .recordEvent(obj, 'KubelockForceReleased', `${req.owner} force-released kubelock ${req.lock} held by ${result.previousOwner} (koncli)`)
      .catch((err: Error) => (result.eventError = err.message));
  }
  return result;
}
