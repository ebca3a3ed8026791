import type { Clock } from '../clock.js';
import { ExpiryTracker, type ExpiryOptions } from '../expiry.js';
import { withUid, type ObjectIdentity } from '../identity.js';
import type { ServerClock } from '../server-clock.js';
import type { Versioned, Watchable } from '../store.js';

/** The annotation kube-lock keeps its semaphore in (JulienBalestra/kube-lock). */
export const SEMAPHORE_ANNOTATION = 'kube-lock';

/** kube-lock's default for --max-holders. */
export const DEFAULT_MAX = 1;

/** One slot. `date` and `reason` are kube-lock's; `ttlSeconds` and `expires` are koncli's. */
export interface SemaphoreHolder {
  /** When the slot was taken, as the holder's machine saw it (shown, never used for expiry). */
  date: string;
  reason: string;
  /** The slot lapses this long after its last (re-)lock unless refreshed. */
  ttlSeconds?: number;
  /** Upper bound of the server clock at which the slot lapses (ISO); written with ttlSeconds. */
  expires?: string;
  /** Fields of the holder entry koncli does not know, kept as they were. */
  unknown: Record<string, unknown>;
}

export interface SemaphoreState {
  max: number;
  holders: Record<string, SemaphoreHolder>;
  /** Top-level fields koncli does not know, kept as they were. */
  unknown: Record<string, unknown>;
}

/** The ConfigMap as far as semaphores care: its version and the raw annotation. */
export interface SemaphoreObject extends Versioned, ObjectIdentity {
  name: string;
  namespace: string;
  /** The `kube-lock` annotation as stored; undefined when the ConfigMap has none. */
  annotation: string | undefined;
  createdAt?: string;
  /** koncli created the ConfigMap (label app.kubernetes.io/managed-by=koncli): `semaphore delete` may delete it. */
  createdByKoncli?: boolean;
  /** The koncli primitive (mutex, once, …) the ConfigMap is labelled as (koncli.dev/primitive): not a semaphore's to write into. */
  labelledKind?: string;
}

export interface SemaphoreStore extends Watchable<SemaphoreObject> {
  get(name: string): Promise<SemaphoreObject | null>;
  /** Every object in the namespace (or all namespaces) that carries the annotation; `labelSelector` as kubectl's -l. */
  list(allNamespaces?: boolean, labelSelector?: string): Promise<SemaphoreObject[]>;
  /** Creates the object with the annotation; a ConflictError when it already exists. */
  create(name: string, annotation: string): Promise<SemaphoreObject>;
  /** Replaces only the annotation, only if the object is still at `obj.version`. */
  write(obj: SemaphoreObject, annotation: string): Promise<SemaphoreObject>;
  /** Deletes the ConfigMap, only if it is still at `obj.version` (ConflictError otherwise). */
  delete(obj: SemaphoreObject): Promise<void>;
  recordEvent(obj: SemaphoreObject, reason: string, message: string): Promise<void>;
}

export interface SemaphoreContext {
  store: SemaphoreStore;
  clock: Clock;
  serverClock: ServerClock;
  tracker: ExpiryTracker;
}

export const semaphoreContext = (store: SemaphoreStore, clock: Clock, serverClock: ServerClock, opts: ExpiryOptions = {}): SemaphoreContext => ({
  store,
  clock,
  serverClock,
  tracker: new ExpiryTracker(clock, serverClock, opts),
});

/** Identifies a semaphore in ExpiryTracker keys. */
export const semaphoreKey = (s: { namespace: string; name: string } & ObjectIdentity) => withUid(`${s.namespace}/${s.name}`, s);

/** kube-lock's `date`: whole seconds, UTC. */
export const kubeLockDate = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
