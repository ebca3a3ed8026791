import type { ExpiryTracker } from '../expiry.js';
import { lockAnnotationKey, lockNameOf, ttlToMs } from './codec.js';
import { judgeLock, type LockState } from './decide.js';
import type { AnnotatedObject } from './model.js';

export interface LockStatus {
  lock: string;
  annotation: string;
  state: LockState | 'corrupt';
  owner: string | null;
  /** = owner (docs/json.md's name). */
  holder: string | null;
  /** The owner's own timestamp, as written (never used for expiry). */
  createdAt: string | null;
  ttlSeconds: number | null;
  /** This machine's conservative deadline (ISO) and seconds left. */
  expires: string | null;
  /** = expires (docs/json.md's name). */
  expiresAt: string | null;
  expiresInSeconds: number | null;
  error?: string;
}

/** Every kubelock on an object, sorted by lock name; pure. `now` monotonic ms, `wallNow` wall-clock ms (to show deadlines). */
export function describeLocks(obj: AnnotatedObject, what: string, tracker: ExpiryTracker, now: number, wallNow: number): LockStatus[] {
  const locks = Object.keys(obj.annotations)
    .map(lockNameOf)
    .filter((l): l is string => l !== undefined && l !== '')
    .sort();
  return locks.map((lock) => {
    const annotation = lockAnnotationKey(lock);
    try {
      const view = judgeLock(obj, lock, what, tracker, now);
      const data = view.data!;
      const expires = Number.isFinite(view.expiresAt!) ? new Date(wallNow + (view.expiresAt! - now)).toISOString() : null;
      return {
        lock,
        annotation,
        state: view.state,
        owner: data.owner,
        holder: data.owner,
        createdAt: data.createdAt || null,
        ttlSeconds: ttlToMs(data.ttlNs) / 1000,
        expires,
        expiresAt: expires,
        expiresInSeconds: Math.max(0, Math.ceil((view.expiresAt! - now) / 1000)),
      };
    } catch (err) {
      return {
        lock,
        annotation,
        state: 'corrupt',
        owner: null,
        holder: null,
        createdAt: null,
        ttlSeconds: null,
        expires: null,
        expiresAt: null,
        expiresInSeconds: null,
        error: (err as Error).message,
      };
    }
  });
}
