import { wallTimeOf, type Clock } from '../clock.js';
import type { FencingToken } from './fencing.js';
import type { ClaimView } from './judge.js';
import type { Claim, RecordObject } from './model.js';

/** A claim's state in the shared `--json` vocabulary (issue 22): held, expired (lapsed, takeable) or free. */
export type ClaimState = 'held' | 'free' | 'expired';

/** One claim in the shared vocabulary: who, since when, until when on this machine's clock. */
export interface ClaimDoc {
  holder: string;
  state: ClaimState;
  acquiredAt: string;
  renewedAt: string | null;
  reason: string | null;
  ttlSeconds: number | null;
  /** When the claim can be taken over by this machine's judgement (RFC 3339), or null without a TTL. */
  expiresAt: string | null;
}

export function claimDoc(view: ClaimView, clock: Clock): ClaimDoc {
  const { claim } = view;
  return {
    holder: claim.holder,
    state: view.expired ? 'expired' : 'held',
    acquiredAt: claim.acquiredAt,
    renewedAt: claim.renewedAt ?? null,
    reason: claim.reason ?? null,
    ttlSeconds: claim.ttlSeconds ?? null,
    expiresAt: view.deadline === undefined ? null : new Date(wallTimeOf(clock, view.deadline)).toISOString(),
  };
}

/** The state of a primitive that has at most one holder: its claim's, or free. */
export const singleState = (view: ClaimView | undefined): ClaimState => (view === undefined ? 'free' : view.expired ? 'expired' : 'held');

/** What a verb that took or kept a claim got (a mutex lock, an rwmutex rlock/lock). */
export interface Held {
  outcome: string;
  object: RecordObject;
  claim: Claim;
  fencingToken: FencingToken;
  /** Monotonic ms the write was sent: the claim counts from here. */
  sentAt: number;
}

/**
 * The result document of a verb that took or kept a claim, in the shared vocabulary (docs/json.md's
 * `held`): `expiresAt` is the holder's own deadline, its TTL from when its write was sent.
 */
export function heldDoc(who: { kind: string; namespace: string; name: string; holder: string }, held: Held, waitedMs: number, clock: Clock) {
  const ttl = held.claim.ttlSeconds ?? null;
  return {
    ...who,
    outcome: held.outcome,
    state: 'held' as ClaimState,
    ttlSeconds: ttl,
    expiresAt: ttl === null ? null : new Date(wallTimeOf(clock, held.sentAt + ttl * 1000)).toISOString(),
    fencingToken: held.fencingToken,
    resourceVersion: held.object.version,
    waitedMs: Math.round(waitedMs),
  };
}
