import { KoncliError, usageError } from '../errors.js';
import { retryOnConflict } from '../retry.js';
import { decodeSemaphore, encodeSemaphore } from './codec.js';
import { judgeHolders, liveHolders } from './judge.js';
import { otherPrimitive } from './lock.js';
import { semaphoreKey, type SemaphoreContext, type SemaphoreObject, type SemaphoreState } from './model.js';

/**
 * The default TTL of a semaphore's slots (konductor's `semaphore create --ttl`), kept as the
 * top-level `ttlSeconds` of the kube-lock annotation (kube-lock's decoder ignores it); undefined when unset.
 */
export function defaultSlotTtl(state: SemaphoreState): number | undefined {
  const v = state.unknown.ttlSeconds;
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

export interface CreateSemaphoreRequest {
  name: string;
  namespace: string;
  max: number;
  ttlSeconds?: number;
}

/**
 * `semaphore create --permits N`: a new empty semaphore (creating the ConfigMap, or annotating one
 * that has no kube-lock annotation). An existing semaphore with the same max (and --ttl, when
 * given) is left as it is (`exists`); another max or TTL is refused, nothing changed.
 */
export async function createSemaphore(ctx: SemaphoreContext, req: CreateSemaphoreRequest): Promise<{ outcome: 'created' | 'exists'; object: SemaphoreObject }> {
  const fresh: SemaphoreState = { max: req.max, holders: {}, unknown: req.ttlSeconds === undefined ? {} : { ttlSeconds: req.ttlSeconds } };
  return retryOnConflict({ clock: ctx.clock }, async () => {
    const obj = await ctx.store.get(req.name);
    if (!obj) return { outcome: 'created', object: await ctx.store.create(req.name, encodeSemaphore(fresh)) };
    if (obj.labelledKind) throw otherPrimitive(obj);
    if (obj.annotation === undefined) return { outcome: 'created', object: await ctx.store.write(obj, encodeSemaphore(fresh)) };
    const state = decodeSemaphore(req.name, obj.annotation);
    const ttl = defaultSlotTtl(state);
    if (state.max !== req.max || (req.ttlSeconds !== undefined && ttl !== req.ttlSeconds)) {
      const has = `max ${state.max}${ttl === undefined ? '' : ` and a slot TTL of ${ttl}s`}`;
      throw usageError(`semaphore ${req.name} already exists with ${has}; change its max with semaphore lock --max N --set-max, or delete it first`);
    }
    return { outcome: 'exists', object: obj };
  });
}

/**
 * `semaphore delete`: deletes the ConfigMap koncli created for it (guarded by its resourceVersion),
 * refused while a slot is live unless `force`. A ConfigMap koncli did not create is someone else's
 * data: refused (corrupt, exit 9), the fix named.
 */
export async function deleteSemaphore(ctx: SemaphoreContext, req: { name: string; namespace: string; force: boolean }): Promise<void> {
  await retryOnConflict({ clock: ctx.clock }, async () => {
    const obj = await ctx.store.get(req.name);
    if (!obj || obj.annotation === undefined)
      throw new KoncliError('not-found', `semaphore ${req.name} (a ConfigMap) does not exist in namespace ${req.namespace}`);
    const state = decodeSemaphore(req.name, obj.annotation);
    const live = liveHolders(judgeHolders(state, ctx.tracker, semaphoreKey(obj), ctx.clock.now())).map((v) => v.id);
    if (live.length > 0 && !req.force)
      throw new KoncliError('busy', `semaphore ${req.name} is held by ${live.join(', ')}; not deleting it (add --force)`, { holders: live });
    if (!obj.createdByKoncli)
      throw new KoncliError(
        'corrupt',
        `ConfigMap ${req.name} was not created by koncli (no app.kubernetes.io/managed-by=koncli label); koncli will not delete it: remove only the semaphore with kubectl annotate configmap ${req.name} kube-lock-`,
      );
    await ctx.store.delete(obj);
  });
}
