import type { LockStatus } from '../kubelock/describe.js';
import type { LeaseStatus } from '../lease/describe.js';
import type { SemaphoreStatus } from '../semaphore/describe.js';
import type { HolderRow, LockRow, LockState } from './model.js';

const holderRow = (holder: string, state: HolderRow['state'], expiresAt: string | null): HolderRow => ({
  holder,
  state,
  expiresAt,
  alive: null,
  aliveReason: null,
});

/** Filled in by the listing loop (core/status/list.ts). */
const undecided = { alive: null, aliveReason: null, stuck: false, breakCommand: null };

const LEASE_STATES: Record<LeaseStatus['phase'], LockState> = { Available: 'free', Held: 'held', Expired: 'expired' };

/** A Lease (native or konductor) as described by core/lease/describe.ts. */
export function leaseRow(s: LeaseStatus, kind: string): LockRow {
  const state = LEASE_STATES[s.phase];
  return {
    kind,
    namespace: s.namespace,
    name: s.name,
    holder: s.holder,
    holders: s.holder ? [holderRow(s.holder, state === 'expired' ? 'expired' : 'held', s.expires)] : [],
    state,
    expiresAt: state === 'free' ? null : s.expires,
    ttlSeconds: s.ttlSeconds,
    lastRenewed: s.renewTime ?? s.acquireTime,
    waiters: s.waiters.length,
    createdAt: s.created,
    ...undecided,
    ...(s.problem ? { problem: s.problem } : {}),
  };
}

/** A kube-lock semaphore as described by core/semaphore/describe.ts: held while a slot is live. */
export function semaphoreRow(s: SemaphoreStatus): LockRow {
  const holders = s.holders.map((h) => holderRow(h.holder, h.expired ? 'expired' : 'held', h.expires));
  const live = s.holders.filter((h) => !h.expired);
  const state: LockState = live.length ? 'held' : holders.length ? 'expired' : 'free';
  // It frees entirely when the last live slot lapses; never, while one lasts until unlocked.
  // Expired: when the last slot lapsed.
  const ends = (state === 'expired' ? s.holders : live).map((h) => h.expires);
  const expiresAt = ends.length === 0 || ends.includes(null) ? null : ends.sort().at(-1)!;
  const dates = s.holders.map((h) => h.date).filter(Boolean);
  return {
    kind: 'semaphore',
    namespace: s.namespace,
    name: s.name,
    holders,
    state,
    expiresAt: state === 'free' ? null : expiresAt,
    ttlSeconds: null,
    lastRenewed: dates.length ? dates.sort().at(-1)! : null,
    waiters: 0,
    max: s.max,
    createdAt: s.created,
    ...undecided,
  };
}

/** A semaphore whose annotation koncli cannot read: listed, never judged. */
export function corruptRow(kind: string, namespace: string | null, name: string, problem: string, createdAt: string | null): LockRow {
  return {
    kind,
    namespace,
    name,
    holders: [],
    state: 'held',
    expiresAt: null,
    ttlSeconds: null,
    lastRenewed: null,
    waiters: 0,
    createdAt,
    ...undecided,
    problem,
  };
}

/** One kubelock annotation on `object` ("configmaps/x") as described by core/kubelock/describe.ts. */
export function kubelockRow(l: LockStatus, object: string, namespace: string | null, createdAt: string | null): LockRow {
  if (l.state === 'corrupt') return { ...corruptRow('kubelock', namespace, l.lock, l.error ?? 'unreadable record', createdAt), object };
  const state: LockState = l.state;
  return {
    kind: 'kubelock',
    namespace,
    name: l.lock,
    object,
    holder: l.owner ?? '',
    holders: l.owner !== null && state !== 'free' ? [holderRow(l.owner, state === 'expired' ? 'expired' : 'held', l.expires)] : [],
    state,
    expiresAt: state === 'free' ? null : l.expires,
    ttlSeconds: l.ttlSeconds,
    lastRenewed: l.createdAt,
    waiters: 0,
    createdAt,
    ...undecided,
  };
}
