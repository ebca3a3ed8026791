import type { Clock } from '../clock.js';
import { ExpiryTracker, type ExpiryOptions } from '../expiry.js';
import type { ObjectIdentity } from '../identity.js';
import type { ServerClock } from '../server-clock.js';
import type { Versioned, Watchable } from '../store.js';

/** Any object that carries annotations: all a kubelock needs of it. */
export interface AnnotatedObject extends Versioned, ObjectIdentity {
  name: string;
  annotations: Record<string, string>;
  /** Per annotation key: upper bound (server clock, ms) of its last write, where the store knows it. */
  writtenAtMost: Record<string, number>;
}

/** One kind of object (one resource type, one namespace) whose annotations hold locks. */
export interface KubelockStore extends Watchable<AnnotatedObject> {
  /** "configmaps/foo in namespace bar", for messages. */
  describe(name: string): string;
  /**
   * Sets (or, with null, removes) one annotation and nothing else, only if the object is still at
   * `version` (ConflictError otherwise). `writer` names who writes that key, so a store that keeps
   * write times per writer (Kubernetes field managers) keeps this key's time apart from others'.
   */
  setAnnotation(name: string, version: string, key: string, value: string | null, writer: string): Promise<AnnotatedObject>;
  recordEvent(obj: AnnotatedObject, reason: string, message: string): Promise<void>;
}

/** Which writer (field manager) writes one lock's annotation: other locks' writes never refresh its time. */
export const lockWriter = (lock: string) => `kubelock-${lock}`;

export interface KubelockContext {
  store: KubelockStore;
  clock: Clock;
  tracker: ExpiryTracker;
}

export const kubelockContext = (store: KubelockStore, clock: Clock, serverClock: ServerClock, opts: ExpiryOptions = {}): KubelockContext => ({
  store,
  clock,
  tracker: new ExpiryTracker(clock, serverClock, opts),
});
