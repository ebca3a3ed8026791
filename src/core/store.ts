/** What every store of a named, versioned object offers the waiting algorithms. */
export interface Versioned {
  /** Opaque optimistic-concurrency token (the Kubernetes resourceVersion). */
  version: string;
}

export interface WatchHandlers<T> {
  /** The object as it is now; null once it is deleted. */
  onChange(obj: T | null): void;
  /** The watch ended; `err` is set when it ended in failure. */
  onClose(err?: unknown): void;
}

export interface Watchable<T extends Versioned> {
  get(name: string): Promise<T | null>;
  /** Starts a watch on one object from `fromVersion`; resolves to a function that stops it. */
  watch(name: string, fromVersion: string | undefined, handlers: WatchHandlers<T>): Promise<() => void>;
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
