import type { ExpiryTracker } from '../expiry.js';
import type { SemaphoreHolder, SemaphoreState } from './model.js';

export interface HolderView {
  id: string;
  holder: SemaphoreHolder;
  /** Local ms after which the slot has certainly lapsed; undefined: held until unlocked. */
  expiresAt?: number;
  expired: boolean;
}

/**
 * When a holder's slot lapses, on this machine's clock: the earlier of (first seen in this form
 * + ttl) and the local deadline of the writer's server-clock `expires` stamp. kube-lock's `date`
 * comes from the holder's machine and is never used.
 */
export function holderDeadline(tracker: ExpiryTracker, semaphoreKey: string, id: string, h: SemaphoreHolder): number | undefined {
  if (h.ttlSeconds === undefined) return undefined;
  const ttlMs = h.ttlSeconds * 1000;
  const stamp = h.expires === undefined ? undefined : Date.parse(h.expires);
  return tracker.deadline(`semaphore/${semaphoreKey}/${id}`, `${h.ttlSeconds}|${h.expires ?? ''}`, ttlMs, stamp === undefined ? undefined : stamp - ttlMs);
}

/** Every holder with its deadline, in name order. */
export function judgeHolders(state: SemaphoreState, tracker: ExpiryTracker, semaphoreKey: string, now: number): HolderView[] {
  return Object.keys(state.holders)
    .sort()
    .map((id) => {
      const holder = state.holders[id];
      const expiresAt = holderDeadline(tracker, semaphoreKey, id, holder);
      return { id, holder, expiresAt, expired: expiresAt !== undefined && now >= expiresAt };
    });
}

export const liveHolders = (views: HolderView[]) => views.filter((v) => !v.expired);

/** The earliest moment one of the live holders lapses (Infinity when none has a TTL). */
export const nextExpiry = (views: HolderView[]) => Math.min(Infinity, ...liveHolders(views).map((v) => v.expiresAt ?? Infinity));
