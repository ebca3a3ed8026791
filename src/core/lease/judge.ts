import type { Expiry, ExpiryTracker } from '../expiry.js';
import { withUid } from '../identity.js';
import { UNSET_LEASE_DURATION_SECONDS } from '../timing.js';
import type { LeasePhase, LeaseRecord } from './model.js';

export interface LeaseView {
  phase: LeasePhase;
  holder: string;
  /** Monotonic ms after which the holder's claim has certainly run out (only when held or expired). */
  expiresAt?: number;
  /** How that deadline was reached (which rule, and why), for messages. */
  expiry?: Expiry;
  /** The claim of a Lease that was deleted or re-created since (core/identity.ts VanishedObjects). */
  vanished?: boolean;
}

/**
 * The duration (s) a claim is judged by: the holder's own, or, when the holder left it out (a Lease
 * without leaseDurationSeconds, a konductor spec.ttl of 0s), UNSET_LEASE_DURATION_SECONDS — never
 * "free at first sight" (docs/clock.md). One rule for one-shots, waiters and status.
 */
export const judgedDurationSeconds = (durationSeconds: number) => (durationSeconds > 0 ? durationSeconds : UNSET_LEASE_DURATION_SECONDS);

/** The writer's own end of the claim (ms since the epoch, its clock): the latest its timestamps allow. */
export function writerExpiresAt(record: LeaseRecord): number | undefined {
  const { renewTime, acquireTime, durationSeconds } = record.holding;
  const stamps = [renewTime, acquireTime].map((t) => (t === undefined ? NaN : Date.parse(t))).filter((t) => !Number.isNaN(t));
  const ends = stamps.map((t) => t + judgedDurationSeconds(durationSeconds) * 1000);
  if (record.writerExpiresAt !== undefined) ends.push(record.writerExpiresAt);
  return ends.length ? Math.max(...ends) : undefined;
}

/** The whole claim, when the store did not say: every holding field. */
const holdingFingerprint = (record: LeaseRecord) => {
  const { holder, durationSeconds, renewTime, acquireTime, transitions } = record.holding;
  return [holder, renewTime ?? '', acquireTime ?? '', durationSeconds, transitions].join('|');
};

/**
 * Free, held or expired, judged by ExpiryTracker's rules (docs/clock.md) on this machine's
 * monotonic clock. `now` is monotonic ms. A re-created Lease (another uid) is another claim.
 */
export function judgeLease(record: LeaseRecord | null, tracker: ExpiryTracker, now: number): LeaseView {
  if (!record || record.holding.holder === '') return { phase: 'Available', holder: '' };
  const { holder, durationSeconds } = record.holding;
  const expiry = tracker.judge({
    key: withUid(`lease/${record.namespace}/${record.name}`, record),
    fingerprint: record.claim ?? holdingFingerprint(record),
    durationMs: judgedDurationSeconds(durationSeconds) * 1000,
    serverWrittenAtMost: record.serverWrittenAtMost,
    writerExpiresAt: writerExpiresAt(record),
  });
  return { phase: now >= expiry.deadline ? 'Expired' : 'Held', holder, expiresAt: expiry.deadline, expiry };
}

export const isFree = (view: LeaseView) => view.phase !== 'Held';
