import type { ObjectIdentity } from '../identity.js';
import type { Versioned, Watchable } from '../store.js';
import type { CandidateStore } from './candidates.js';

export type LeasePhase = 'Available' | 'Held' | 'Expired';

/**
 * A waiter registered in the lease's koncli.dev/waiters annotation by an older koncli (read and
 * honoured; koncli now registers a candidate of its own instead: ./candidates.ts).
 */
export interface Waiter {
  id: string;
  priority: number;
  /** Arrival order; lower came first. */
  seq: number;
  /** Incremented by the waiter as a heartbeat; observers judge staleness by when it last changed. */
  beat: number;
}

export interface WaiterQueue {
  next: number;
  waiters: Waiter[];
}

/** koncli's own facts about a lease; absent on Leases other tools wrote. */
export interface LeaseExtras {
  renewals: number;
  priority: number;
  renewable: boolean;
  reason?: string;
  queue: WaiterQueue;
}

/** The holder state shared with client-go leader election, klock and leaselocker. */
export interface LeaseHolding {
  /** Empty when nobody holds the lease. */
  holder: string;
  durationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  transitions: number;
}

export interface LeaseRecord extends Versioned, ObjectIdentity {
  name: string;
  namespace: string;
  holding: LeaseHolding;
  extras: LeaseExtras;
  labels: Record<string, string>;
  createdAt?: string;
  /** Upper bound (server clock, ms) of when the holding was last written, if the store knows. */
  serverWrittenAtMost?: number;
  /**
   * The whole claim as stored (every field of a native Lease's spec; a konductor Lease's status
   * and ttl): any change of it is a renewal (client-go compares the whole record). When a store
   * leaves it unset, the holding's fields stand in.
   */
  claim?: string;
  /**
   * The duration the lease object itself prescribes for every new claim (a konductor Lease's
   * spec.ttl), in seconds; unset for native Leases, whose leaseDurationSeconds belongs to the holder.
   */
  configuredDurationSeconds?: number;
  /**
   * When the writer says the claim ends (ms since the epoch, writer's clock), where the store has
   * a field for it (a konductor Lease's status.expires); the judge also uses renewTime + duration.
   */
  writerExpiresAt?: number;
  /** Set when koncli could not interpret the object (listings show it rather than failing). */
  problem?: string;
  /** The store's own representation, carried so an update preserves what koncli does not model. */
  raw?: unknown;
}

/** What a create needs; the store adds its own metadata (labels, kind). */
export type LeaseDraft = Omit<
  LeaseRecord,
  'version' | 'serverWrittenAtMost' | 'raw' | 'createdAt' | 'claim' | 'configuredDurationSeconds' | 'writerExpiresAt' | 'uid' | 'terminating'
>;

export interface LeaseStore extends Watchable<LeaseRecord> {
  readonly kind: string;
  get(name: string): Promise<LeaseRecord | null>;
  /** Every lease in the store's namespace (or all namespaces), when the store can list; `labelSelector` as kubectl's -l. */
  list?(allNamespaces: boolean, labelSelector?: string): Promise<LeaseRecord[]>;
  create(draft: LeaseDraft): Promise<LeaseRecord>;
  /**
   * The holder's write: the claim (holding), koncli's facts about it (renewals, priority,
   * renewable, reason), the labels and the queue as `record` has them, only if the object is
   * still at `record.version` (ConflictError otherwise).
   */
  writeClaim(record: LeaseRecord): Promise<LeaseRecord>;
  /** The waiters' own objects for this store's leases (./candidates.ts). */
  readonly candidates: CandidateStore;
  /** Deletes only if the object is still at `version`. */
  delete(name: string, version: string): Promise<void>;
  recordEvent(record: LeaseRecord, reason: string, message: string): Promise<void>;
}

export const emptyQueue = (): WaiterQueue => ({ next: 0, waiters: [] });

export const defaultExtras = (): LeaseExtras => ({
  renewals: 0,
  priority: 0,
  renewable: true,
  queue: emptyQueue(),
});

/** MicroTime as Kubernetes writes it: RFC 3339 UTC with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
