import type { ExpiryTracker } from '../expiry.js';
import { judgeHolders, liveHolders } from './judge.js';
import { semaphoreKey, type SemaphoreObject, type SemaphoreState } from './model.js';

export interface HolderStatus {
  holder: string;
  reason: string;
  /** kube-lock's `date`, as the holder's machine wrote it. */
  date: string;
  /** Seconds since `date` by this machine's clock: for people only, never for expiry. */
  ageSeconds: number | null;
  ttlSeconds: number | null;
  /** This machine's conservative deadline for the slot (ISO), and seconds left. */
  expires: string | null;
  /** = expires (docs/json.md's name). */
  expiresAt: string | null;
  expiresInSeconds: number | null;
  expired: boolean;
}

export interface SemaphoreStatus {
  kind: 'semaphore';
  /** held while any slot is held (docs/json.md). */
  state: 'held' | 'free';
  name: string;
  namespace: string;
  max: number;
  /** Holders whose slot has not lapsed. */
  inUse: number;
  free: number;
  holders: HolderStatus[];
  created: string | null;
  resourceVersion: string;
}

/** Everything `semaphore status` shows about one semaphore; pure. `now` monotonic ms, `wallNow` wall-clock ms. */
export function describeSemaphore(obj: SemaphoreObject, state: SemaphoreState, tracker: ExpiryTracker, now: number, wallNow: number): SemaphoreStatus {
  const views = judgeHolders(state, tracker, semaphoreKey(obj), now);
  const inUse = liveHolders(views).length;
  return {
    kind: 'semaphore',
    state: inUse > 0 ? 'held' : 'free',
    name: obj.name,
    namespace: obj.namespace,
    max: state.max,
    inUse,
    free: Math.max(0, state.max - inUse),
    holders: views.map(({ id, holder, expiresAt, expired }) => {
      const date = Date.parse(holder.date);
      return {
        holder: id,
        reason: holder.reason,
        date: holder.date,
        ageSeconds: Number.isNaN(date) ? null : Math.max(0, Math.floor((wallNow - date) / 1000)),
        ttlSeconds: holder.ttlSeconds ?? null,
        expires: expiresAt === undefined ? null : new Date(wallNow + (expiresAt - now)).toISOString(),
        expiresAt: expiresAt === undefined ? null : new Date(wallNow + (expiresAt - now)).toISOString(),
        expiresInSeconds: expiresAt === undefined ? null : Math.max(0, Math.ceil((expiresAt - now) / 1000)),
        expired,
      };
    }),
    created: obj.createdAt ?? null,
    resourceVersion: obj.version,
  };
}
