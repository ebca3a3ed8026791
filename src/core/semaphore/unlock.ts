import { ConflictError, KoncliError, isKind, usageError } from '../errors.js';
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
  /** The caller: its own slot to free, or (with force) the operator. */
  holder: string;
  /** An operator removes another holder's slot; recorded as an Event. */
  force: boolean;
  /** Who is unlocking (the Kubernetes user, or the --holder), for the Event. */
  by: string;
  /** Why, for the Event. */
  reason?: string;
  /**
   * With force: remove exactly these holders, only while every one of them still holds a slot
   * (--if-holder, repeatable; --dead fills it with the holders judged dead).
   */
  ifHolder?: string[];
}

export interface UnlockResult {
  /** already-free: the caller's own slot was not there (or the semaphore does not exist): releasing it is idempotent. */
  outcome: 'unlocked' | 'already-free';
  /** The ConfigMap after the unlock; null when it does not exist (already-free). */
  object: SemaphoreObject | null;
  /** The semaphore after the unlock; null when it does not exist (already-free). */
  state: SemaphoreState | null;
  /** The holders removed. */
  removed: string[];
  /** The (first removed) slot had already lapsed (its TTL ran out) before it was freed. */
  expired: boolean;
  reason: string;
  forced: boolean;
  /** Set when the force-unlock Event could not be recorded (the unlock itself happened). */
  eventError?: string;
}

/**
 * Frees one slot (with force and --if-holder: exactly the named ones), guarded by resourceVersion so
 * a concurrent change is never overwritten. A write whose answer was lost is resolved by the next
 * read: slots no longer listed were freed (exit 0).
 */
export async function unlockSemaphore(ctx: SemaphoreContext, req: UnlockRequest): Promise<UnlockResult> {
  const exhausted = () => new KoncliError('error', `semaphore ${req.name}: unlock kept conflicting with other writers`);
  // Under force the victims are named (--if-holder, --dead); `holder` is the operator (issue 22: --holder is always the claimant or you).
  const victims = req.force ? (req.ifHolder ?? []) : [req.holder];
  if (victims.length === 0) throw usageError('--force needs --if-holder X (the holders to remove) or --dead');
  let sent: { reason: string; expired: boolean } | undefined;
  return retryOnConflict({ clock: ctx.clock, exhausted }, async () => {
    const read = await readSemaphore(ctx, req.name, req.namespace).catch((err: unknown) => {
      if (req.force || sent || !isKind(err, 'not-found')) throw err; // a force that finds nothing breaks nothing: exit 6
      return undefined;
    });
    if (!read) return alreadyFree(null, null);
    const { object, state } = read;
    if (sent && victims.every((v) => !(v in state.holders)))
      return unlocked(ctx, req, { outcome: 'unlocked', object, state, removed: victims, ...sent, forced: req.force });
    // One rule for absent things (issue 22): one's own slot already gone is done (a force naming an absent holder is not: exit 5).
    if (!req.force && !(req.holder in state.holders)) return alreadyFree(object, state);
    const views = judgeHolders(state, ctx.tracker, semaphoreKey(object), ctx.clock.now());
    if (req.force) checkIfHolder(`semaphore ${req.name}`, req.ifHolder, Object.keys(state.holders));
    const next = planUnlock(req.name, state, views, victims);
    const freeing = { reason: state.holders[victims[0]].reason, expired: views.some((v) => v.id === victims[0] && v.expired) };
    let written: SemaphoreObject;
    try {
      written = await ctx.store.write(object, encodeSemaphore(next));
    } catch (err) {
      if (isKind(err, 'not-found')) throw new ConflictError('the ConfigMap was deleted since it was read'); // read again
      if (!isKind(err, 'conflict')) sent = freeing; // it may have landed: the next read tells
      throw err;
    }
    return unlocked(ctx, req, { outcome: 'unlocked', object: written, state: next, removed: victims, ...freeing, forced: req.force });
  });
}

const alreadyFree = (object: SemaphoreObject | null, state: SemaphoreState | null): UnlockResult => ({
  outcome: 'already-free',
  object,
  state,
  removed: [],
  expired: false,
  reason: '',
  forced: false,
});

/** The result of an unlock that landed; --force records its Event. */
async function unlocked(ctx: SemaphoreContext, req: UnlockRequest, result: UnlockResult): Promise<UnlockResult> {
  if (req.force) {
    await ctx.store
      .recordEvent(
        result.object!,
        'ForceUnlocked',
        forceMessage({ by: req.by, reason: req.reason }, `force-removed holder ${result.removed.join(', ')} from semaphore ${req.name}`),
      )
      .catch((err: Error) => (result.eventError = err.message));
  }
  return result;
}
