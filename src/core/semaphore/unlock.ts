import { ConflictError, KoncliError, isKind } from '../errors.js';
import { checkIfHolder, forceMessage } from '../if-holder.js';
import { retryOnConflict } from '../retry.js';
import { encodeSemaphore } from './codec.js';
import { planUnlock } from './decide.js';
import { judgeHolders } from './judge.js';
import { semaphoreKey, type SemaphoreContext, type SemaphoreObject, type SemaphoreState } from './model.js';
import { readSemaphore } from './read.js';

export interface UnlockRequest {
  name: string;
  namespace: string;
  /** The slot to free: the caller's own, or (with force) someone else's. */
  holder: string;
  /** An operator removes another holder's slot; recorded as an Event. */
  force: boolean;
  /** Who is unlocking (the Kubernetes user, or the --holder), for the Event. */
  by: string;
  /** Why, for the Event. */
  reason?: string;
  /**
   * With force: remove exactly these holders, only while every one of them still holds a slot
   * (--if-holder, repeatable; --dead fills it with the holders judged dead). Replaces `holder`.
   */
  ifHolder?: string[];
}

export interface UnlockResult {
  object: SemaphoreObject;
  state: SemaphoreState;
  /** The holders removed. */
  removed: string[];
  /** The (first removed) slot had already lapsed (its TTL ran out) before it was freed. */
  expired: boolean;
  reason: string;
  forced: boolean;
  /** Set when the force-unlock Event could not be recorded (the unlock itself happened). */
  eventError?: string;
}

/** Frees one slot, guarded by resourceVersion so a concurrent change is never overwritten. */
export async function unlockSemaphore(ctx: SemaphoreContext, req: UnlockRequest): Promise<UnlockResult> {
  const exhausted = () => new KoncliError('error', `semaphore ${req.name}: unlock kept conflicting with other writers`);
  return retryOnConflict({ clock: ctx.clock, exhausted }, async () => {
    const { object, state } = await readSemaphore(ctx, req.name, req.namespace);
    const views = judgeHolders(state, ctx.tracker, semaphoreKey(req), ctx.clock.now());
    const victims = req.force && req.ifHolder?.length ? req.ifHolder : [req.holder];
    if (req.force) checkIfHolder(`semaphore ${req.name}`, req.ifHolder, Object.keys(state.holders));
    const next = planUnlock(req.name, state, views, victims);
    let written: SemaphoreObject;
    try {
      written = await ctx.store.write(object, encodeSemaphore(next));
    } catch (err) {
      throw isKind(err, 'not-found') ? new ConflictError('the ConfigMap was deleted since it was read') : err; // read again
    }
    const result: UnlockResult = {
      object: written,
      state: next,
      removed: victims,
      expired: views.some((v) => v.id === victims[0] && v.expired),
      reason: state.holders[victims[0]].reason,
      forced: req.force,
    };
    if (req.force) {
      await ctx.store
        .recordEvent(
          written,
          'ForceUnlocked',
          forceMessage({ by: req.by, reason: req.reason }, `force-removed holder ${victims.join(', ')} from semaphore ${req.name}`),
        )
        .catch((err: Error) => (result.eventError = err.message));
    }
    return result;
  });
}
