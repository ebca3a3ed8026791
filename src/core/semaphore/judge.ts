import type { Expiry, ExpiryTracker } from '../expiry.js';
import type { SemaphoreHolder, SemaphoreState } from './model.js';

export interface HolderView {
  id: string;
  holder: SemaphoreHolder;
  /** Monotonic ms after which the slot has certainly lapsed; undefined: held until unlocked. */
  expiresAt?: number;
  expiry?: Expiry;
  expired: boolean;
}

/**
 * When a holder's slot lapses (ExpiryTracker's rules, docs/clock.md): observed since its entry
 * last changed in any way, or earlier when the writer's own `expires` stamp (an upper bound of the
 * server clock its writer learnt from `Date` headers) plus the allowed clock skew has passed on
 * both our clock and the server's. All holders share one annotation, so the server's per-field
 * write time cannot date one holder: there is no server-stamp rule here.
 */
export function holderExpiry(tracker: ExpiryTracker, semaphoreKey: string, id: string, h: SemaphoreHolder): Expiry | undefined {
  if (h.ttlSeconds === undefined) return undefined;
  const ttlMs = h.ttlSeconds * 1000;
  const expires = h.expires === undefined ? NaN : Date.parse(h.expires);
  const date = Date.parse(h.date);
  const writerExpiresAt = !Number.isNaN(expires) ? expires : !Number.isNaN(date) ? date + ttlMs : undefined;
  const { unknown, ...known } = h;
  return tracker.judge({
    key: `semaphore/${semaphoreKey}/${id}`,
    fingerprint: JSON.stringify([known, unknown]),
    durationMs: ttlMs,
    writerExpiresAt,
    noServerStamp: 'a slot has no server write time of its own (its holders share one annotation: docs/clock.md)',
  });
}

/** holderExpiry's deadline only (monotonic ms). */
export const holderDeadline = (tracker: ExpiryTracker, semaphoreKey: string, id: string, h: SemaphoreHolder) =>
  holderExpiry(tracker, semaphoreKey, id, h)?.deadline;

/** Every holder with its deadline, in name order. */
export function judgeHolders(state: SemaphoreState, tracker: ExpiryTracker, semaphoreKey: string, now: number): HolderView[] {
  return Object.keys(state.holders)
    .sort()
    .map((id) => {
      const holder = state.holders[id];
      const expiry = holderExpiry(tracker, semaphoreKey, id, holder);
      const expiresAt = expiry?.deadline;
      return { id, holder, expiresAt, expiry, expired: expiresAt !== undefined && now >= expiresAt };
    });
}

export const liveHolders = (views: HolderView[]) => views.filter((v) => !v.expired);

/** The earliest moment one of the live holders lapses (Infinity when none has a TTL). */
export const nextExpiry = (views: HolderView[]) => Math.min(Infinity, ...liveHolders(views).map((v) => v.expiresAt ?? Infinity));
