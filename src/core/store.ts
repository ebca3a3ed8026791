/** What every store of a named, versioned object offers the waiting algorithms. */
export interface Versioned {
  /** Opaque optimistic-concurrency token (the Kubernetes resourceVersion). */
  version: string;
  /** The object's metadata.uid, where the store reads it: a watch ignores events for another object of the same name. */
  uid?: string;
}

export interface WatchHandlers<T> {
  /**
   * The uid of the object as last seen, if any: until the watch sees it deleted, events naming
   * another uid (the same name, another object) are ignored.
   */
  uid?: string;
  /** The object as it is now; null once it is deleted. Only events that name the watched object arrive here. */
  onChange(obj: T | null): void;
  /** The server showed the watch alive without a change (a BOOKMARK). */
  onProgress?(): void;
  /** The watch ended; `err` is set when it ended in failure. */
  onClose(err?: unknown): void;
}

export interface Watchable<T extends Versioned> {
  get(name: string): Promise<T | null>;
  /** Starts a watch on one object from `fromVersion`; resolves to a function that stops it. */
  watch(name: string, fromVersion: string | undefined, handlers: WatchHandlers<T>): Promise<() => void>;
  /**
   * Runs `fn` with each request it makes bounded by `timeoutMs`; a request that times out drops the
   * pooled connections, so the next one connects afresh (src/kube/client.ts). Optional: a store
   * without it is only raced against the bound.
   */
  withRequestTimeout?<R>(timeoutMs: number, fn: () => Promise<R>): Promise<R>;
}

/**
 * Whether version `a` is at least as new as `b`. Resource versions are opaque in general, but
 * etcd-backed ones are decimal revisions; when both are, compare them so that a watch event that
 * lags behind our own write never makes us step back.
 */
export function isAtLeastAsNew(a: string, b: string): boolean {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) >= BigInt(b);
  return true;
}
