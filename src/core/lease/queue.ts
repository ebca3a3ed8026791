import type { ExpiryTracker } from '../expiry.js';
import { STALE_AFTER_MS } from '../timing.js';
import type { Waiter, WaiterQueue } from './model.js';

export { HEARTBEAT_MS, STALE_AFTER_MS } from '../timing.js';

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

/**
 * The live waiters that must get the lease before `me`. When `me` is not registered yet it ranks
 * as if it arrived now (behind every waiter of its priority).
 */
export function waitersAhead(
  queue: WaiterQueue,
  me: { id: string; priority: number },
  tracker: ExpiryTracker,
  leaseKey: string,
  now: number,
): Waiter[] {
  const mine = queue.waiters.find((w) => w.id === me.id) ?? { ...me, seq: Number.MAX_SAFE_INTEGER };
  return liveWaiters(queue, tracker, leaseKey, now, me.id).filter((w) => w.id !== me.id && aheadOf(w, mine));
}

/** The earliest moment one of `waiters` turns stale (and so stops blocking us). */
export const nextStaleAt = (waiters: Waiter[], tracker: ExpiryTracker, leaseKey: string) =>
  Math.min(Infinity, ...waiters.map((w) => staleAt(tracker, leaseKey, w)));

/** Registers or refreshes `me`, dropping waiters judged stale. */
export function withWaiter(
  queue: WaiterQueue,
  me: { id: string; priority: number },
  tracker: ExpiryTracker,
  leaseKey: string,
  now: number,
): WaiterQueue {
  const live = liveWaiters(queue, tracker, leaseKey, now, me.id);
  const existing = live.find((w) => w.id === me.id);
  if (existing && existing.priority === me.priority) {
    return { next: queue.next, waiters: live.map((w) => (w === existing ? { ...w, beat: w.beat + 1 } : w)) };
  }
  const others = live.filter((w) => w.id !== me.id);
  return { next: queue.next + 1, waiters: [...others, { id: me.id, priority: me.priority, seq: queue.next, beat: 0 }] };
}

export function withoutWaiter(queue: WaiterQueue, id: string): WaiterQueue {
  return { next: queue.next, waiters: queue.waiters.filter((w) => w.id !== id) };
}

export const isQueued = (queue: WaiterQueue, id: string) => queue.waiters.some((w) => w.id === id);
