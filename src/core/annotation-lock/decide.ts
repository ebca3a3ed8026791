import { KoncliError } from '../errors.js';
import type { ExpiryTracker } from '../expiry.js';
import { DEFAULT_TTL_NS, decodeLock, lockAnnotationKey, msToNs, ttlToMs, type LockData } from './codec.js';
import type { AnnotatedObject } from './model.js';

export type LockState = 'free' | 'held' | 'expired';

export interface LockView {
  lock: string;
  state: LockState;
  /** The record on the object (absent when free). */
  data?: LockData;
  /** Local ms after which the owner's claim has certainly run out (when held or expired). */
  expiresAt?: number;
}

/** Distinguishes one lock on one object for the ExpiryTracker. */
export const trackerKey = (what: string, lock: string) => `kubelock/${what}/${lock}`;

/**
 * Free, held or expired, judged on this machine's clock: the claim runs `ttl` from the server's
 * own time of the annotation's last write (or from when we first saw this record, if earlier).
 * The owner's createdAt is never used. Throws `corrupt` for a record koncli cannot read.
 */
export function judgeLock(obj: AnnotatedObject, lock: string, what: string, tracker: ExpiryTracker, now: number): LockView {
  const key = lockAnnotationKey(lock);
  const value = obj.annotations[key];
  if (value === undefined) return { lock, state: 'free' };
  const data = decodeLock(key, value);
  const fingerprint = [data.owner, data.createdAt, data.ttlNs].join('|');
  const expiresAt = tracker.deadline(trackerKey(what, lock), fingerprint, ttlToMs(data.ttlNs), obj.writtenAtMost[key]);
  return { lock, state: now >= expiresAt ? 'expired' : 'held', data, expiresAt };
}

export interface AcquireLockRequest {
  /** The object's name. */
  name: string;
  lock: string;
  owner: string;
  /** Omitted: giantswarm/kubelock's default, 5 minutes. */
  ttlNs?: bigint;
}

export type AcquirePlan =
  | { kind: 'write'; outcome: 'acquired' | 'refreshed'; value: { owner: string; createdAtNs: bigint; ttlNs: bigint } }
  | { kind: 'busy'; view: LockView };

/**
 * Takes a free or expired lock; refreshes one the same owner still holds (new createdAt, the
 * requested TTL); refuses one another owner holds. Pure.
 */
export function planAcquire(view: LockView, req: AcquireLockRequest, now: number): AcquirePlan {
  if (view.state === 'held' && view.data!.owner !== req.owner) return { kind: 'busy', view };
  return {
    kind: 'write',
    outcome: view.state === 'held' ? 'refreshed' : 'acquired',
    value: { owner: req.owner, createdAtNs: msToNs(now), ttlNs: req.ttlNs ?? DEFAULT_TTL_NS },
  };
}

export interface ReleaseLockRequest {
  name: string;
  lock: string;
  owner: string;
  /** Remove a lock another owner holds (recorded as an Event). */
  force: boolean;
}

/**
 * Whether a release may remove the annotation: the owner may, also after it expired; anyone may
 * with `force`. A lock that is not there is `not-held` (details.reason "absent"), as is another
 * owner's lock without force (details.reason "other-owner"). Pure.
 */
export function planRelease(view: LockView, req: ReleaseLockRequest, what: string): { forced: boolean } {
  if (view.state === 'free') {
    throw new KoncliError('not-held', `there is no lock ${req.lock} on ${what}; nothing to release`, { reason: 'absent', lock: req.lock });
  }
  const owner = view.data!.owner;
  if (owner === req.owner) return { forced: false };
  if (req.force) return { forced: true };
  throw new KoncliError(
    'not-held',
    `lock ${req.lock} on ${what} is ${view.state === 'expired' ? 'an expired lock of' : 'held by'} ${JSON.stringify(owner)}, not ${JSON.stringify(req.owner)}; add --force to remove it`,
    { reason: 'other-owner', lock: req.lock, owner },
  );
}

export function busyError(view: LockView, what: string, now: number, extra = ''): KoncliError {
  const owner = view.data?.owner ?? '';
  const expires = view.expiresAt !== undefined && Number.isFinite(view.expiresAt) ? view.expiresAt : undefined;
  const when = expires === undefined ? '' : `, expiring by ${new Date(expires).toISOString()} on this machine's clock (in ${Math.max(0, Math.ceil((expires - now) / 1000))}s)`;
  return new KoncliError('busy', `lock ${view.lock} on ${what} is held by ${JSON.stringify(owner)}${when}${extra}`, {
    lock: view.lock,
    owner,
    expiresAt: expires === undefined ? null : new Date(expires).toISOString(),
  });
}
