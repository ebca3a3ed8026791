import { KoncliError } from '../errors.js';
import type { Clock } from '../clock.js';
import { ruleOf, takeableText, type Expiry, type ExpiryTracker } from '../expiry.js';
import { DEFAULT_TTL_NS, decodeLock, lockAnnotationKey, msToNs, ttlToMs, type LockData } from './codec.js';
import type { AnnotatedObject } from './model.js';
import { withUid } from '../identity.js';

export type LockState = 'free' | 'held' | 'expired';

export interface LockView {
  lock: string;
  state: LockState;
  /** The record on the object (absent when free). */
  data?: LockData;
  /** Monotonic ms after which the owner's claim has certainly run out (when held or expired). */
  expiresAt?: number;
  expiry?: Expiry;
}

/** Distinguishes one lock on one object for the ExpiryTracker. */
export const trackerKey = (what: string, lock: string) => `kubelock/${what}/${lock}`;

/**
 * Free, held or expired, by ExpiryTracker's rules (docs/clock.md): `ttl` from when we first saw the
 * record as it is (any change of the value restarts it), or earlier when the server's time of the
 * annotation's last write and the owner's createdAt + ttl (plus the allowed clock skew) agree that
 * it ended. Throws `corrupt` for a record koncli cannot read.
 */
export function judgeLock(obj: AnnotatedObject, lock: string, what: string, tracker: ExpiryTracker, now: number): LockView {
  const key = lockAnnotationKey(lock);
  const value = obj.annotations[key];
  if (value === undefined) return { lock, state: 'free' };
  const data = decodeLock(key, value);
  const durationMs = ttlToMs(data.ttlNs);
  const expiry = tracker.judge({
    key: withUid(trackerKey(what, lock), obj),
    fingerprint: value,
    durationMs,
    serverWrittenAtMost: obj.writtenAtMost[key],
    writerExpiresAt: data.createdAtNs === undefined ? undefined : Number(data.createdAtNs / 1_000_000n) + durationMs,
  });
  const expiresAt = expiry.deadline;
  return { lock, state: now >= expiresAt ? 'expired' : 'held', data, expiresAt, expiry };
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
  { kind: 'write'; outcome: 'acquired' | 'refreshed'; value: { owner: string; createdAtNs: bigint; ttlNs: bigint } } | { kind: 'busy'; view: LockView };

/**
 * Takes a free or expired lock; refreshes one the same owner still holds (new createdAt, the
 * requested TTL); refuses one another owner holds. Pure. `wallNow`: wall-clock ms for createdAt.
 */
export function planAcquire(view: LockView, req: AcquireLockRequest, wallNow: number): AcquirePlan {
  if (view.state === 'held' && view.data!.owner !== req.owner) return { kind: 'busy', view };
  return {
    kind: 'write',
    outcome: view.state === 'held' ? 'refreshed' : 'acquired',
    value: { owner: req.owner, createdAtNs: msToNs(wallNow), ttlNs: req.ttlNs ?? DEFAULT_TTL_NS },
  };
}

export interface ReleaseLockRequest {
  name: string;
  lock: string;
  owner: string;
  /** Remove a lock another owner holds (recorded as an Event). */
  force: boolean;
  /** With force: only while one of these owns it (--if-holder). */
  ifHolder?: string[];
}

/**
 * Whether a release may remove the annotation: the owner may, also after it expired; anyone may
 * with `force`. A lock that is not there is `not-held` for a force (details.reason "absent"; one's own
 * release of it is already-free before this is asked), as is another
 * owner's lock without force (details.reason "other-owner"). Pure.
 */
export function planRelease(view: LockView, req: ReleaseLockRequest, what: string): { forced: boolean } {
  if (view.state === 'free') {
    throw new KoncliError('not-held', `there is no lock ${req.lock} on ${what}: nothing was broken`, { reason: 'absent', lock: req.lock });
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

/** `busy`, saying who holds the lock, why it is judged held and from when it could be taken. */
export function busyError(view: LockView, what: string, clock: Clock, extra = ''): KoncliError {
  const owner = view.data?.owner ?? '';
  const now = clock.now();
  const wallNow = clock.wallNow();
  const expires = view.expiresAt !== undefined && Number.isFinite(view.expiresAt) ? view.expiresAt : undefined;
  return new KoncliError('busy', `lock ${view.lock} on ${what} is held by ${JSON.stringify(owner)}${takeableText(expires, now, wallNow)}${extra}`, {
    lock: view.lock,
    owner,
    expiresAt: expires === undefined ? null : new Date(wallNow + (expires - now)).toISOString(),
    judgedBy: view.expiry?.basis ?? null,
    rule: ruleOf([{ holder: owner, expiry: view.expiry }]),
  });
}
