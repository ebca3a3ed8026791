import { isKind } from '../errors.js';
import type { ExpiryTracker } from '../expiry.js';
import { CONFLICT_BACKOFF_BASE_MS, CONFLICT_BACKOFF_MAX_MS, HEARTBEAT_JITTER, HEARTBEAT_MS, STALE_AFTER_MS } from '../timing.js';
import { retryOnConflict } from '../retry.js';
import type { LeaseContext } from './context.js';
import type { LeaseRecord, Waiter, WaiterQueue } from './model.js';

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

/** Registers or refreshes `me`, dropping waiters judged stale. */
export function withWaiter(queue: WaiterQueue, me: { id: string; priority: number }, tracker: ExpiryTracker, leaseKey: string, now: number): WaiterQueue {
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

/** A heartbeat period in [1 − HEARTBEAT_JITTER, 1] × HEARTBEAT_MS, random, so waiters that started together drift apart. */
const heartbeatPeriod = () => HEARTBEAT_MS * (1 - HEARTBEAT_JITTER + HEARTBEAT_JITTER * Math.random());

/** Pause after the n-th heartbeat in a row lost to another writer: random, up to 50 ms × 2^n (at most 2 s). */
export const conflictBackoff = (n: number) => Math.random() * Math.min(CONFLICT_BACKOFF_MAX_MS, CONFLICT_BACKOFF_BASE_MS * 2 ** Math.min(n, 10));

/**
 * A waiter's seat in a lease's queue (`--wait`): it registers, proves it is alive every
 * HEARTBEAT_MS, and leaves when it stops waiting without the lease.
 */
export class WaiterSeat {
  /** When to register, or refresh our entry. */
  private nextBeatAt = 0;
  /** Heartbeats lost to other writers in a row. */
  private conflicts = 0;
  private registered = false;

  constructor(
    private readonly ctx: LeaseContext,
    readonly member: QueueMember,
    private readonly name: string,
  ) {}

  /**
   * Whether a heartbeat is due on `record` at `now`. Dropped from the queue (judged stale, or the
   * lease re-created): register again at once, unless backing off after lost heartbeats.
   */
  due(record: LeaseRecord | null, now: number): boolean {
    if (!record) return false;
    if (this.conflicts === 0 && !isQueued(record.extras.queue, this.member.id)) this.nextBeatAt = Math.min(this.nextBeatAt, now);
    return now >= this.nextBeatAt;
  }

  /** Local ms of the next heartbeat. */
  get beatAt(): number {
    return this.nextBeatAt;
  }

  /**
   * Registers us in (or refreshes our entry of) the queue of `record`. Returns the written record,
   * or null when another writer came first: retrying at once makes N waiters that beat together
   * cost ~N²/2 writes (and wake every waiter each time); a random, growing pause spreads them.
   * Other failures are thrown (the wait loop's retry policy handles them).
   */
  async beat(record: LeaseRecord): Promise<LeaseRecord | null> {
    const now = this.ctx.clock.now();
    const queue = withWaiter(record.extras.queue, this.member, this.ctx.tracker, this.member.leaseKey, now);
    try {
      const written = await this.ctx.store.writeQueue(record, queue);
      this.registered = true;
      this.conflicts = 0;
      this.nextBeatAt = now + heartbeatPeriod();
      return written;
    } catch (err) {
      if (!isKind(err, 'conflict') && !isKind(err, 'not-found')) throw err;
      this.conflicts++;
      this.nextBeatAt = now + conflictBackoff(this.conflicts);
      return null;
    }
  }

  /** Best effort, one try per read (no waiting out failures: we are on our way out): take our entry out of the queue. */
  async leave(): Promise<void> {
    if (!this.registered) return;
    await retryOnConflict({ clock: this.ctx.clock, deadline: this.ctx.clock.now(), maxConflicts: LEAVE_ATTEMPTS }, async () => {
      const record = await this.ctx.store.get(this.name);
      if (!record || !isQueued(record.extras.queue, this.member.id)) return;
      await this.ctx.store.writeQueue(record, withoutWaiter(record.extras.queue, this.member.id));
    }).catch(() => {});
  }
}

/** Reads-and-writes a leaving waiter tries before its entry is left to go stale. */
const LEAVE_ATTEMPTS = 5;
