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

/**
 * Frees one slot, guarded by resourceVersion so a concurrent change is never overwritten. A write
 * whose answer was lost is resolved by the next read: a slot no longer listed was freed (exit 0).
 */
export async function unlockSemaphore(ctx: SemaphoreContext, req: UnlockRequest): Promise<UnlockResult> {
  const exhausted = () => new KoncliError('error', `semaphore ${req.name}: unlock kept conflicting with other writers`);
  let sent: { reason: string; expired: boolean } | undefined;
  return retryOnConflict({ clock: ctx.clock, exhausted }, async () => {
    const { object, state } = await readSemaphore(ctx, req.name, req.namespace);
    if (sent && !(req.holder in state.holders)) return unlocked(ctx, req, { object, state, ...sent, forced: req.force });
    const views = judgeHolders(state, ctx.tracker, semaphoreKey(object), ctx.clock.now());
    const next = planUnlock(req.name, state, views, req.holder);
    const freeing = { reason: state.holders[req.holder].reason, expired: views.some((v) => v.id === req.holder && v.expired) };
    let written: SemaphoreObject;
    try {
      written = await ctx.store.write(object, encodeSemaphore(next));
    } catch (err) {
      if (isKind(err, 'not-found')) throw new ConflictError('the ConfigMap was deleted since it was read'); // read again
      if (!isKind(err, 'conflict')) sent = freeing; // it may have landed: the next read tells
      throw err;
    }
    return unlocked(ctx, req, { object: written, state: next, ...freeing, forced: req.force });
  });
}

/** The result of an unlock that landed; --force records its Event. */
async function unlocked(ctx: SemaphoreContext, req: UnlockRequest, result: UnlockResult): Promise<UnlockResult> {
  if (req.force) {
    await ctx.store
      .recordEvent(result.object, 'ForceUnlocked', `${req.by} force-removed holder ${req.holder} from semaphore ${req.name} (koncli)`)
      .catch((err: Error) => (result.eventError = err.message));
  }
  return result;
}
