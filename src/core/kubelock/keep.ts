import type { KeptClaim } from '../claim/keeper.js';
import { KoncliError } from '../errors.js';
import { encodeLock, lockAnnotationKey, msToNs } from './codec.js';
import { judgeLock } from './decide.js';
import { lockWriter, type AnnotatedObject, type KubelockContext } from './model.js';

export interface KeptLock {
  /** The object's name. */
  name: string;
  lock: string;
  owner: string;
  ttlNs: bigint;
  /** The object as the acquiring write left it. */
  written: AnnotatedObject;
  /** Monotonic ms the acquiring write was sent. */
  sentAt: number;
}

/**
 * Why the lock is no longer `owner`'s on `obj` (null: the object was deleted): its annotation was
 * removed or replaced by someone else (a release --force, a GitOps re-apply), the object was
 * re-created, or the lock lapsed; undefined while it holds. Throws `corrupt` for an unreadable record.
 */
export function lockLost(ctx: KubelockContext, kept: KeptLock, obj: AnnotatedObject | null): string | undefined {
  const what = ctx.store.describe(kept.name);
  if (!obj) return `${what} was deleted`;
  if (kept.written.uid !== undefined && obj.uid !== undefined && obj.uid !== kept.written.uid) return `${what} was deleted and created again`;
  const view = judgeLock(obj, kept.lock, what, ctx.tracker, ctx.clock.now());
  if (view.state === 'free') return `lock ${kept.lock} on ${what} was removed by someone else`;
  if (view.data!.owner !== kept.owner) return `lock ${kept.lock} on ${what} now belongs to ${JSON.stringify(view.data!.owner)}`;
  return view.state === 'expired' ? `lock ${kept.lock} on ${what} lapsed` : undefined;
}

/**
 * A held lock for the claim keeper (core/claim/keeper.ts): lost as `lockLost` says; renewed as
 * giantswarm/kubelock refreshes a lock (a new createdAt, the same ttl), written only while the
 * object is at the version read.
 */
export function keptLock(ctx: KubelockContext, kept: KeptLock): KeptClaim<AnnotatedObject> {
  return {
    what: `lock ${kept.lock} on ${ctx.store.describe(kept.name)}`,
    store: ctx.store,
    name: kept.name,
    written: kept.written,
    sentAt: kept.sentAt,
    lostIn: (obj) => lockLost(ctx, kept, obj),
    renew: async (current) => {
      const why = lockLost(ctx, kept, current);
      if (why !== undefined) throw new KoncliError('lost', why);
      const value = encodeLock({ owner: kept.owner, createdAtNs: msToNs(ctx.clock.wallNow()), ttlNs: kept.ttlNs });
      return ctx.store.setAnnotation(kept.name, current!.version, lockAnnotationKey(kept.lock), value, lockWriter(kept.lock));
    },
    withRequestTimeout: ctx.store.withRequestTimeout?.bind(ctx.store),
  };
}
