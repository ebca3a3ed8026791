import type { Expiry, ExpiryTracker } from '../expiry.js';
import type { LeasePhase, LeaseRecord } from './model.js';

export interface LeaseView {
  phase: LeasePhase;
  holder: string;
  /** Monotonic ms after which the holder's claim has certainly run out (only when held or expired). */
  expiresAt?: number;
  /** How that deadline was reached (which rule, and why), for messages. */
  expiry?: Expiry;
}

/** The writer's own end of the claim (ms since the epoch, its clock): the latest its timestamps allow. */
export function writerExpiresAt(record: LeaseRecord): number | undefined {
  const { renewTime, acquireTime, durationSeconds } = record.holding;
  const stamps = [renewTime, acquireTime].map((t) => (t === undefined ? NaN : Date.parse(t))).filter((t) => !Number.isNaN(t));
  const ends = stamps.map((t) => t + Math.max(0, durationSeconds) * 1000);
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
 * monotonic clock. `now` is monotonic ms.
 */
export function judgeLease(record: LeaseRecord | null, tracker: ExpiryTracker, now: number): LeaseView {
  if (!record || record.holding.holder === '') return { phase: 'Available', holder: '' };
  const { holder, durationSeconds } = record.holding;
  const expiry = tracker.judge({
    key: `lease/${record.namespace}/${record.name}`,
    fingerprint: record.claim ?? holdingFingerprint(record),
    durationMs: Math.max(0, durationSeconds) * 1000,
    serverWrittenAtMost: record.serverWrittenAtMost,
    writerExpiresAt: writerExpiresAt(record),
  });
  return { phase: now >= expiry.deadline ? 'Expired' : 'Held', holder, expiresAt: expiry.deadline, expiry };
}

export const isFree = (view: LeaseView) => view.phase !== 'Held';
