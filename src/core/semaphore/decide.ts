import type { Clock } from '../clock.js';
import { KoncliError, usageError } from '../errors.js';
import { holdersUntilText, ruleOf } from '../expiry.js';
import { liveHolders, nextExpiry, type HolderView } from './judge.js';
import { DEFAULT_MAX, type SemaphoreHolder, type SemaphoreState } from './model.js';

export interface LockRequest {
  name: string;
  namespace: string;
  holder: string;
  /** The max the caller expects (and uses for a new semaphore); omitted: whatever is stored. */
  max?: number;
  /** Change the stored max to `max` instead of refusing a mismatch. */
  setMax: boolean;
  reason?: string;
  ttlSeconds?: number;
  /** Create the ConfigMap when it does not exist. */
  create: boolean;
}

export type LockOutcome = 'acquired' | 'refreshed' | 'already-held';

/** Values a new or refreshed holder entry is stamped with (computed by the caller). */
export interface Stamp {
  /** kube-lock's `date` (local clock, whole seconds). */
  date: string;
  /** Server-clock upper bound of the slot's end; set when the request has a TTL. */
  expires?: string;
}

export type LockPlan =
  | { kind: 'write'; state: SemaphoreState; outcome: LockOutcome }
  | { kind: 'none'; outcome: 'already-held' }
  /** Full. `state` is set when a --set-max change should be written anyway. */
  | { kind: 'busy'; max: number; holders: HolderView[]; retryAt: number; state?: SemaphoreState };

/** The state without holders whose slot has lapsed. */
export function prune(state: SemaphoreState, views: HolderView[]): SemaphoreState {
  const expired = new Set(views.filter((v) => v.expired).map((v) => v.id));
  return { ...state, holders: Object.fromEntries(Object.entries(state.holders).filter(([id]) => !expired.has(id))) };
}

const maxMismatch = (name: string, stored: number, asked: number) =>
  usageError(
    `semaphore ${name} has max ${stored} (the max stored in the semaphore is authoritative), but --max ${asked} was given; ` +
      `omit --max, pass --max ${stored}, or add --set-max to change it to ${asked}`,
  );

/**
 * Decides one lock attempt on the semaphore as read; pure. `state` is undefined when the
 * ConfigMap has no annotation yet (or is about to be created). `stamp` is called only when a
 * holder entry is written.
 */
export function planLock(state: SemaphoreState | undefined, views: HolderView[], req: LockRequest, stamp: () => Stamp): LockPlan {
  const base = state ?? { max: req.max ?? DEFAULT_MAX, holders: {}, unknown: {} };
  if (req.max !== undefined && req.max !== base.max && !req.setMax) throw maxMismatch(req.name, base.max, req.max);
  const max = req.max ?? base.max;
  const changed = state === undefined || max !== base.max;
  const pruned = { ...prune(base, views), max };
  const live = liveHolders(views);
  const mine = live.find((v) => v.id === req.holder);
  const withHolder = (h: SemaphoreHolder): SemaphoreState => ({ ...pruned, holders: { ...pruned.holders, [req.holder]: h } });
  const ttl = (s: Stamp) => (req.ttlSeconds === undefined ? {} : { ttlSeconds: req.ttlSeconds, expires: s.expires });

  if (mine) {
    if (req.ttlSeconds === undefined)
      return changed ? { kind: 'write', state: withHolder(mine.holder), outcome: 'already-held' } : { kind: 'none', outcome: 'already-held' };
    return { kind: 'write', state: withHolder({ ...mine.holder, ...ttl(stamp()) }), outcome: 'refreshed' };
  }
  if (live.length < max) {
    const s = stamp();
    return { kind: 'write', state: withHolder({ date: s.date, reason: req.reason ?? '', ...ttl(s), unknown: {} }), outcome: 'acquired' };
  }
  return { kind: 'busy', max, holders: live, retryAt: nextExpiry(views), ...(changed && { state: pruned }) };
}

/** The state after `holders` leave (and lapsed holders are pruned); not-held when one of them is not there. */
export function planUnlock(name: string, state: SemaphoreState, views: HolderView[], holders: string[]): SemaphoreState {
  const ids = Object.keys(state.holders);
  const missing = holders.find((h) => !(h in state.holders));
  if (missing !== undefined) {
    throw new KoncliError(
      'not-held',
      `semaphore ${name} has no holder ${JSON.stringify(missing)}; nothing to unlock (holders: ${ids.length ? ids.join(', ') : 'none'})`,
      { holders: ids },
    );
  }
  const next = prune(state, views);
  return { ...next, holders: Object.fromEntries(Object.entries(next.holders).filter(([id]) => !holders.includes(id))) };
}

/** `busy`: who holds the slots, and for each when its slot could be taken and why (docs/clock.md). */
export function busyError(name: string, max: number, holders: HolderView[], clock: Clock, extra = ''): KoncliError {
  const now = clock.now();
  const wallNow = clock.wallNow();
  const who = holdersUntilText(
    holders.map((v) => ({ holder: v.id, reason: v.holder.reason, deadline: v.expiresAt })),
    now,
    wallNow,
  );
  return new KoncliError('busy', `semaphore ${name} is full: ${holders.length}/${max} held by ${who || 'nobody'}${extra}`, {
    max,
    holders: holders.map((v) => v.id),
    rule: ruleOf(holders.map((v) => ({ holder: v.id, expiry: v.expiry }))),
  });
}
