import { KoncliError, isKind } from '../errors.js';
import { MAX_CONFLICT_RETRIES } from '../lease/context.js';
import { decodeSemaphore, encodeSemaphore } from './codec.js';
import { planUnlock } from './decide.js';
import { judgeHolders } from './judge.js';
import { semaphoreKey } from './lock.js';
import { SEMAPHORE_ANNOTATION, type SemaphoreContext, type SemaphoreObject, type SemaphoreState } from './model.js';

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

/** Reads the semaphore's object and state; not-found when there is no semaphore by that name. */
export async function readSemaphore(ctx: SemaphoreContext, name: string, namespace: string) {
  const object = await ctx.store.get(name);
  if (!object) throw new KoncliError('not-found', `semaphore ${name} (a ConfigMap) does not exist in namespace ${namespace}`);
  if (object.annotation === undefined) {
    throw new KoncliError('not-found', `ConfigMap ${name} in namespace ${namespace} is not a semaphore (it has no ${SEMAPHORE_ANNOTATION} annotation)`);
  }
  return { object, state: decodeSemaphore(name, object.annotation) };
}

/** Frees one slot, guarded by resourceVersion so a concurrent change is never overwritten. */
export async function unlockSemaphore(ctx: SemaphoreContext, req: UnlockRequest): Promise<UnlockResult> {
  for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
    const { object, state } = await readSemaphore(ctx, req.name, req.namespace);
    const views = judgeHolders(state, ctx.tracker, semaphoreKey(req), ctx.clock.now());
    const next = planUnlock(req.name, state, views, req.holder);
    let written: SemaphoreObject;
    try {
      written = await ctx.store.write(object, encodeSemaphore(next));
    } catch (err) {
      if (isKind(err, 'conflict') || isKind(err, 'not-found')) continue;
      throw err;
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
  }
  throw new KoncliError('error', `semaphore ${req.name}: unlock kept conflicting with other writers`);
}
