import { ConflictError, KoncliError, isKind } from '../errors.js';
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
  /** Who is unlocking, for the Event. */
  by: string;
}

export interface UnlockResult {
  object: SemaphoreObject;
  state: SemaphoreState;
  /** The slot had already lapsed (its TTL ran out) before it was freed. */
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
    const next = planUnlock(req.name, state, views, req.holder);
    let written: SemaphoreObject;
    try {
      written = await ctx.store.write(object, encodeSemaphore(next));
    } catch (err) {
      throw isKind(err, 'not-found') ? new ConflictError('the ConfigMap was deleted since it was read') : err; // read again
    }
    const result: UnlockResult = {
      object: written,
      state: next,
      expired: views.some((v) => v.id === req.holder && v.expired),
      reason: state.holders[req.holder].reason,
      forced: req.force,
    };
    if (req.force) {
      await ctx.store
        .recordEvent(written, 'ForceUnlocked', `${req.by} force-removed holder ${req.holder} from semaphore ${req.name} (koncli)`)
        .catch((err: Error) => (result.eventError = err.message));
    }
    return result;
  });
}
