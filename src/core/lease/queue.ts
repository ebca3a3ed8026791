/**
 * The legacy waiter queue: the koncli.dev/waiters annotation that koncli before per-waiter
 * candidates (core/lease/candidates.ts) wrote into the lease itself. koncli no longer registers
 * there, but honours the live entries it finds (an older koncli waiting on the same lease) and drops
 * dead ones and its own with its claim writes (docs/lease.md, "Waiting").
 */
import type { ExpiryTracker } from '../expiry.js';
import { STALE_AFTER_MS } from '../timing.js';
import type { Waiter, WaiterQueue } from './model.js';

/** Higher priority first; equal priorities in arrival order. */
export const aheadOf = (a: Pick<Waiter, 'priority' | 'seq'>, b: Pick<Waiter, 'priority' | 'seq'>) =>
  a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;

/**
 * Local ms after which a waiter that has not beaten since we first saw its beat counts as gone.
 * The entry's seq is part of what we saw: a waiter dropped and registered again starts over at
 * beat 0 with a new seq, and must not inherit the deadline of its first registration's beat 0
 * (that made waiters on a loaded machine drop out over and over: bench/, 100 idle waiters).
 */
export const staleAt = (tracker: ExpiryTracker, leaseKey: string, w: Waiter) =>
  tracker.deadline({ key: `waiter/${leaseKey}/${w.id}`, fingerprint: `${w.seq}/${w.beat}`, durationMs: STALE_AFTER_MS });

export function liveWaiters(queue: WaiterQueue, tracker: ExpiryTracker, leaseKey: string, now: number, me?: string) {
  return queue.waiters.filter((w) => w.id === me || now < staleAt(tracker, leaseKey, w));
}

/** The earliest moment one of `waiters` turns stale (and so stops blocking us). */
export const nextStaleAt = (waiters: Waiter[], tracker: ExpiryTracker, leaseKey: string) =>
  Math.min(Infinity, ...waiters.map((w) => staleAt(tracker, leaseKey, w)));

export function withoutWaiter(queue: WaiterQueue, id: string): WaiterQueue {
  return { next: queue.next, waiters: queue.waiters.filter((w) => w.id !== id) };
}

export const isQueued = (queue: WaiterQueue, id: string) => queue.waiters.some((w) => w.id === id);

/** A waiter in one lease's queue: its id and priority, and the lease's key in the ExpiryTracker. */
export interface QueueMember {
  id: string;
  priority: number;
  leaseKey: string;
}

export const queueMember = (req: { namespace: string; name: string; holder: string; priority: number }): QueueMember => ({
  id: req.holder,
  priority: req.priority,
  leaseKey: `${req.namespace}/${req.name}`,
});

/** The queue as `me` sees it at one moment: who is alive, who is ahead of me, when the first of those turns stale. */
export interface QueueView {
  live: Waiter[];
  ahead: Waiter[];
  /** Local ms at which the first waiter ahead turns stale (Infinity: none ahead). */
  nextStaleAt: number;
}

/**
 * Builds the view of `queue` for `me` at `now`, once per attempt (each call consults the tracker).
 * When `me` is not registered yet it ranks as if it arrived now (behind every waiter of its priority).
 */
export function viewQueue(queue: WaiterQueue, me: QueueMember, tracker: ExpiryTracker, now: number): QueueView {
  const live = liveWaiters(queue, tracker, me.leaseKey, now, me.id);
  const mine = queue.waiters.find((w) => w.id === me.id) ?? { ...me, seq: Number.MAX_SAFE_INTEGER };
  const ahead = live.filter((w) => w.id !== me.id && aheadOf(w, mine));
  return { live, ahead, nextStaleAt: nextStaleAt(ahead, tracker, me.leaseKey) };
}
