import { isKind } from '../errors.js';
import { CONFLICT_BACKOFF_BASE_MS, HANDOVER_GRACE_MS, HEARTBEAT_JITTER, HEARTBEAT_MS } from '../timing.js';
import { candidateRank, candidateStaleAt, orderOf, ranksAhead, sortCandidates, type Candidate } from './candidates.js';
import type { LeaseContext } from './context.js';
import type { QueueMember } from './queue.js';

/** A heartbeat period in [1 − HEARTBEAT_JITTER, 1] × HEARTBEAT_MS, random, so waiters that started together drift apart. */
const heartbeatPeriod = () => HEARTBEAT_MS * (1 - HEARTBEAT_JITTER + HEARTBEAT_JITTER * Math.random());

/** The candidates ahead of a waiter, as it last looked. */
export interface CandidatesView {
  ahead: number;
  /** Local ms at which the first candidate ahead turns stale (Infinity: none ahead). */
  nextStaleAt: number;
}

/**
 * A waiter's seat in a lease's queue (`--wait`): its own candidate object (core/lease/candidates.ts),
 * created when it starts waiting, renewed every HEARTBEAT_MS, deleted when it stops waiting (with or
 * without the lease). Nothing here writes the lease itself, which is what every waiter watches.
 */
export class WaiterSeat {
  private mine: Candidate | null = null;
  /** When to register, or renew our candidate. */
  private nextBeatAt = 0;
  /** The view of the last look at the candidates (shown as progress while the lease is held). */
  last: CandidatesView = { ahead: 0, nextStaleAt: Infinity };
  /** Set when the candidates may not be read or written (RBAC): the waiter then competes like any other tool. */
  private forbidden = false;
  /** The live candidates ahead of us at our last look (less those that took the lease since). */
  private known: Candidate[] = [];
  /** Who the watch showed holding the lease, and the lease's latest resourceVersion showing it (an etcd revision). */
  private readonly holders = new Map<string, bigint>();
  /** Local ms since when we have seen the lease free (undefined while it is held). */
  private freeSince: number | undefined;

  constructor(
    private readonly ctx: LeaseContext,
    readonly member: QueueMember,
    private readonly lease: string,
    private readonly onNotice: (message: string) => void = () => {},
  ) {}

  /** Without the right to keep a candidate or read the others', wait without the queue (said once), as a waiter without watch polls. */
  private withoutQueue(err: unknown): void {
    if (!this.forbidden) this.onNotice(`waiting without the queue: ${(err as Error).message} (priority and arrival order need it: docs/rbac.md)`);
    this.forbidden = true;
    this.nextBeatAt = Infinity;
    this.last = { ahead: 0, nextStaleAt: Infinity };
  }

  private get store() {
    return this.ctx.store.candidates;
  }

  due(now: number): boolean {
    return now >= this.nextBeatAt;
  }

  /** Local ms of the next heartbeat. */
  get beatAt(): number {
    return this.nextBeatAt;
  }

  /**
   * Registers our candidate (adopting one of our id left by an earlier run: it keeps its arrival),
   * or renews it. A candidate deleted under us (judged stale by others while we were stopped) is
   * registered again, at the back. On registering, reads the candidates once (while the lease is
   * held, off the handover's path) to learn who is ahead of us. Other failures are thrown (the wait
   * loop's retry policy handles them).
   */
  async beat(): Promise<void> {
    const { clock } = this.ctx;
    const now = clock.now();
    const registering = !this.mine;
    try {
      this.mine = this.mine
        ? await this.store.renew(this.mine, this.member.priority, clock.wallNow())
        : await this.store.create(this.lease, this.member, clock.wallNow()).catch(async (err: unknown) => {
            const existing = isKind(err, 'conflict') ? await this.store.get(this.lease, this.member.id) : null;
            if (!existing) throw err;
            return this.store.renew(existing, this.member.priority, clock.wallNow());
          });
      this.nextBeatAt = now + heartbeatPeriod();
      if (registering) await this.lookAround();
    } catch (err) {
      if (isKind(err, 'forbidden')) return this.withoutQueue(err);
      if (!isKind(err, 'conflict') && !isKind(err, 'not-found')) throw err;
      this.mine = null;
      this.nextBeatAt = now + CONFLICT_BACKOFF_BASE_MS * Math.random();
    }
  }

  /**
   * Reads the lease's candidates: how many live ones rank ahead of us, and when the first of them
   * turns stale. Candidates judged stale are deleted (guarded by their resourceVersion, so one
   * renewed meanwhile stays): a waiter killed with SIGKILL leaves nothing behind for long.
   */
  async lookAround(): Promise<CandidatesView> {
    const { tracker, clock } = this.ctx;
    const now = clock.now();
    if (this.forbidden) return this.last;
    const all = await this.store.list(this.lease).catch((err: unknown) => {
      if (!isKind(err, 'forbidden')) throw err;
      this.withoutQueue(err);
      return null;
    });
    if (!all) return this.last;
    const { live, stale } = sortCandidates(all, tracker, now);
    const me = this.mine ? candidateRank(this.mine) : { priority: this.member.priority, legacy: false };
    const ahead = live.filter((c) => c.id !== this.member.id && !this.leftover(c) && ranksAhead(candidateRank(c), me));
    await Promise.all(stale.filter((c) => c.id !== this.member.id).map((c) => this.store.delete(c).catch(() => {})));
    this.known = ahead;
    this.last = { ahead: ahead.length, nextStaleAt: Math.min(Infinity, ...ahead.map((c) => candidateStaleAt(c, tracker, now))) };
    return this.last;
  }

  /** The lease (at resourceVersion `version`) is held by `holder`: it no longer waits, and the lease is not free. */
  held(holder: string, version: string): void {
    this.freeSince = undefined;
    this.took(holder, version);
  }

  /** The watch showed `holder` holding the lease at `version` (perhaps only between two looks of ours): it no longer waits. */
  took(holder: string, version: string): void {
    if (!holder) return;
    this.known = this.known.filter((c) => c.id !== holder);
    const at = orderOf(version);
    if (at !== undefined && at > (this.holders.get(holder) ?? -1n)) this.holders.set(holder, at);
  }

  /**
   * A candidate created before its waiter was seen holding the lease: that waiter stopped waiting
   * when it took it, and its candidate is on its way out (deleted by its waiter, which may still be
   * at it after a short hold): it is nobody ahead of us. A candidate created after the hold is a new wait.
   */
  private leftover(c: Candidate): boolean {
    const heldAt = this.holders.get(c.id);
    const arrival = orderOf(c.arrival);
    return heldAt !== undefined && arrival !== undefined && arrival < heldAt;
  }

  /**
   * Who is ahead now that the lease is free, without reading when we can. A waiter that saw live
   * candidates ahead of it at its last look (less those the watch showed taking the lease since)
   * leaves a freed lease to them for HANDOVER_GRACE_MS without reading anything; after the grace it
   * reads them. A waiter that saw nobody ahead gets undefined: it reads the candidates at once
   * (`lookAround`) and decides on that fresh read — so a release costs one read, by the head.
   * (Claiming first and reading beside it would save that read's round trip, but a higher priority
   * that arrived since the head's last look would see the head hold the lease for a moment.)
   */
  async whenFree(): Promise<CandidatesView | undefined> {
    const { tracker, clock } = this.ctx;
    const now = clock.now();
    this.freeSince ??= now;
    const graceEnd = this.freeSince + HANDOVER_GRACE_MS;
    if (this.forbidden) return this.last;
    const ahead = this.known.filter((c) => now < candidateStaleAt(c, tracker, now));
    if (ahead.length === 0) return undefined;
    if (now >= graceEnd) return this.lookAround();
    return { ahead: ahead.length, nextStaleAt: graceEnd };
  }

  /** Best effort, one try (no waiting out failures: we are on our way out): delete our candidate. */
  async leave(): Promise<void> {
    const mine = this.mine;
    this.mine = null;
    if (mine) await this.store.delete(mine).catch(() => {});
  }
}
