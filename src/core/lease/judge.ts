import type { ExpiryTracker } from '../expiry.js';
import type { LeasePhase, LeaseRecord } from './model.js';

export interface LeaseView {
  phase: LeasePhase;
  holder: string;
  /** Local ms after which the holder's claim has certainly run out (only when held or expired). */
  expiresAt?: number;
}

/**
 * Free, held or expired, judged on this machine's clock (see ExpiryTracker): the holder's own
 * renewTime is shown to people but never trusted for expiry.
 */
export function judgeLease(record: LeaseRecord | null, tracker: ExpiryTracker, now: number): LeaseView {
  if (!record || record.holding.holder === '') return { phase: 'Available', holder: '' };
  const { holder, durationSeconds, renewTime, acquireTime } = record.holding;
  const fingerprint = [holder, renewTime ?? '', acquireTime ?? '', durationSeconds].join('|');
  const expiresAt = tracker.deadline(
    `lease/${record.namespace}/${record.name}`,
    fingerprint,
    Math.max(0, durationSeconds) * 1000,
    record.serverWrittenAtMost,
  );
  return { phase: now >= expiresAt ? 'Expired' : 'Held', holder, expiresAt };
}

export const isFree = (view: LeaseView) => view.phase !== 'Held';
