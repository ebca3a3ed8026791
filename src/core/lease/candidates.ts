import type { ExpiryTracker } from '../expiry.js';
import type { Versioned } from '../store.js';
import { judgeLease } from './judge.js';
import type { LeaseRecord, Waiter } from './model.js';

/**
 * A waiter's own object saying it waits for a lease (docs/lease.md, "Waiting"): on Kubernetes a
 * native Lease in the lease's namespace, labelled with the lease it waits for, renewed by its waiter
 * alone — the shape of Kubernetes' LeaseCandidate for coordinated leader election (KEP-4355), in a
 * kind every cluster serves. Its liveness is its own claim (holder = the waiter, duration =
 * STALE_AFTER_MS), judged stale by the rules of any claim (docs/clock.md), so a heartbeat changes
 * nothing that the other waiters watch.
 */
export interface Candidate extends Versioned {
  /** The object's name. */
  name: string;
  /** The lease it waits for. */
  lease: string;
  /** The waiter's identity (the candidate's holderIdentity). */
  id: string;
  priority: number;
  /**
   * Arrival order: the resourceVersion the candidate was created at (an etcd revision, decimal,
   * compared as an integer like fencing tokens; lower came first).
   */
  arrival: string;
  /** The candidate read as a lease (holder = id), judged like any claim. */
  record: LeaseRecord;
}

/** The per-waiter objects of one lease kind in one namespace. */
export interface CandidateStore {
  /** Every candidate waiting for `lease`, in no particular order. */
  list(lease: string): Promise<Candidate[]>;
  /** `id`'s candidate for `lease`, or null. */
  get(lease: string, id: string): Promise<Candidate | null>;
  /**
   * Creates `me`'s candidate for `lease`, its renewTime `wallNow` (wall-clock ms); ConflictError
   * when one with that name exists already.
   */
  create(lease: string, me: { id: string; priority: number }, wallNow: number): Promise<Candidate>;
  /**
   * A heartbeat: sets renewTime to `wallNow`, the priority, and records the arrival, only if the
   * candidate is still at `candidate.version` (ConflictError; not-found when it was deleted).
   */
  renew(candidate: Candidate, priority: number, wallNow: number): Promise<Candidate>;
  /** Deletes only if still at `candidate.version` (ConflictError / not-found otherwise). */
  delete(candidate: Candidate): Promise<void>;
}

/** One place in the queue: a legacy annotation entry (ordered by its seq) or a candidate (by arrival). */
export interface Rank {
  priority: number;
  /** Entries of the koncli.dev/waiters annotation (older koncli) rank before candidates of their priority. */
  legacy: boolean;
  /** seq of a legacy entry, arrival of a candidate; undefined: arrives now, behind everyone of its priority. */
  order?: bigint;
}

/**
 * Higher priority first; then legacy entries (registered by older koncli) before candidates; then
 * arrival. Legacy seqs and candidates' resource versions are not comparable, and an older koncli
 * never sees candidates, so mixed queues keep each kind's own order and put the legacy one first.
 */
export function ranksAhead(a: Rank, b: Rank): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.legacy !== b.legacy) return a.legacy;
  if (a.order === undefined) return false;
  return b.order === undefined || a.order < b.order;
}

/** A resourceVersion as an integer (etcd revision), or undefined when it is not one (a server that is not etcd-backed). */
export const orderOf = (version: string) => (/^\d+$/.test(version) ? BigInt(version) : undefined);

export const candidateRank = (c: Pick<Candidate, 'priority' | 'arrival'>): Rank => ({ priority: c.priority, legacy: false, order: orderOf(c.arrival) });
export const legacyRank = (w: Waiter): Rank => ({ priority: w.priority, legacy: true, order: BigInt(w.seq) });

/** Local ms at which `c` turns stale (its claim judged run out), by ExpiryTracker's rules. */
export const candidateStaleAt = (c: Candidate, tracker: ExpiryTracker, now: number) => judgeLease(c.record, tracker, now).expiresAt ?? -Infinity;

/** The candidates of `all` that are alive at `now`, and those judged stale (to be garbage-collected). */
export function sortCandidates(all: Candidate[], tracker: ExpiryTracker, now: number): { live: Candidate[]; stale: Candidate[] } {
  const live: Candidate[] = [];
  const stale: Candidate[] = [];
  for (const c of all) (now < candidateStaleAt(c, tracker, now) ? live : stale).push(c);
  return { live, stale };
}
