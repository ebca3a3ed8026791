import type { ExpiryTracker } from '../expiry.js';
import { judgedDurationSeconds, judgeLease } from './judge.js';
import type { LeasePhase, LeaseRecord } from './model.js';
import { candidateRank, legacyRank, ranksAhead, sortCandidates, type Candidate, type Rank } from './candidates.js';
import { liveWaiters } from './queue.js';

export interface LeaseStatus {
  kind: 'lease';
  name: string;
  namespace: string;
  holder: string;
  /** The one vocabulary's state (docs/json.md): held, free or expired. */
  state: 'held' | 'free' | 'expired';
  /** = expires (docs/json.md's name). */
  expiresAt: string | null;
  phase: LeasePhase;
  acquireTime: string | null;
  renewTime: string | null;
  /** This machine's conservative deadline for the holder's claim (ISO), and seconds left. */
  expires: string | null;
  expiresInSeconds: number | null;
  /** Which rule of docs/clock.md bounds `expires` (observed, server, writer), and why. */
  judgedBy: 'observed' | 'server' | 'writer' | null;
  expiryReason: string | null;
  /** The holder's duration; when the holder left it out, the one it is judged by (docs/clock.md), with `ttlUnset`. */
  ttlSeconds: number;
  /** The Lease has no duration of its own (no leaseDurationSeconds, a konductor spec.ttl of 0s). */
  ttlUnset: boolean;
  renewals: number;
  transitions: number;
  priority: number;
  renewable: boolean;
  reason: string | null;
  waiters: { id: string; priority: number; position: number }[];
  labels: Record<string, string>;
  created: string | null;
  resourceVersion: string;
  /** What koncli could not interpret about this lease, if anything. */
  problem: string | null;
}

/**
 * Everything `lease status` shows about one lease; pure. `now` monotonic ms, `wallNow` wall-clock ms
 * (to show deadlines); `candidates`: the waiters' candidates for it (live ones are listed with the
 * live entries of the legacy queue, in the order the lease will go in).
 */
export function describeLease(record: LeaseRecord, tracker: ExpiryTracker, now: number, wallNow: number, candidates: Candidate[] = []): LeaseStatus {
  const view = judgeLease(record, tracker, now);
  const key = `${record.namespace}/${record.name}`;
  const queue: (Rank & { id: string })[] = [
    ...liveWaiters(record.extras.queue, tracker, key, now).map((w) => ({ ...legacyRank(w), id: w.id })),
    ...sortCandidates(candidates, tracker, now).live.map((c) => ({ ...candidateRank(c), id: c.id })),
  ];
  const waiters = queue.sort((a, b) => (ranksAhead(a, b) ? -1 : ranksAhead(b, a) ? 1 : 0)).map((w, i) => ({ id: w.id, priority: w.priority, position: i + 1 }));
  const expires = view.expiresAt !== undefined && Number.isFinite(view.expiresAt) ? new Date(wallNow + (view.expiresAt - now)).toISOString() : null;
  return {
    kind: 'lease',
    name: record.name,
    namespace: record.namespace,
    holder: record.holding.holder,
    state: view.phase === 'Held' ? 'held' : view.phase === 'Expired' ? 'expired' : 'free',
    expiresAt: expires,
    phase: view.phase,
    acquireTime: record.holding.acquireTime ?? null,
    renewTime: record.holding.renewTime ?? null,
    expires,
    judgedBy: view.expiry?.basis ?? null,
    expiryReason: view.expiry?.why ?? null,
    expiresInSeconds: view.expiresAt !== undefined ? Math.max(0, Math.ceil((view.expiresAt - now) / 1000)) : null,
    ttlSeconds: judgedDurationSeconds(record.holding.durationSeconds),
    ttlUnset: record.holding.durationSeconds <= 0,
    renewals: record.extras.renewals,
    transitions: record.holding.transitions,
    priority: record.extras.priority,
    renewable: record.extras.renewable,
    reason: record.extras.reason ?? null,
    waiters,
    labels: record.labels,
    created: record.createdAt ?? null,
    resourceVersion: record.version,
    problem: record.problem ?? null,
  };
}
