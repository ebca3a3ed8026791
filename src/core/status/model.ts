import type { Liveness } from './liveness.js';

/** The one state vocabulary of every kind (issue 22's JSON): free, held, or held past its expiry. */
export type LockState = 'held' | 'free' | 'expired';

/** One holder of a lock (a lease's holder, a semaphore slot, a kubelock owner). */
export interface HolderRow {
  holder: string;
  /** This holder's own state: a semaphore slot may have lapsed while others hold. */
  state: 'held' | 'expired';
  /** This machine's conservative end of the claim (RFC 3339), null when it lasts until released. */
  expiresAt: string | null;
  alive: boolean | null;
  aliveReason: string | null;
}

/**
 * One lock of any kind, as `koncli status` shows and prints it under --json. Times are RFC 3339
 * strings; `expiresAt` is judged on this machine's clock (docs/clock.md).
 */
export interface LockRow {
  /** 'lease', 'konductor-lease', 'semaphore', 'kubelock', a koncli primitive's kind ('mutex', 'once', …). */
  kind: string;
  /** Null for a lock on a cluster-scoped object. */
  namespace: string | null;
  name: string;
  /** The object the lock lives on, when it is not the lock itself (kubelock: "deployments.apps/web"). */
  object?: string;
  /** The holder of a single-holder kind ('' when free); absent for kinds with several holders. */
  holder?: string;
  holders: HolderRow[];
  state: LockState;
  expiresAt: string | null;
  ttlSeconds: number | null;
  /** When the holder last wrote its claim, by its own clock (renewTime, createdAt, kube-lock's date). */
  lastRenewed: string | null;
  /** All holders alive: true; any dead: false; otherwise null. */
  alive: boolean | null;
  aliveReason: string | null;
  waiters: number;
  /** Slots of a semaphore. */
  max?: number;
  createdAt: string | null;
  /** Held by a holder judged dead, or past its expiry. */
  stuck: boolean;
  /** The command that breaks it safely (only while the holders named still hold); null when free. */
  breakCommand: string | null;
  /** What koncli could not interpret about this lock, if anything. */
  problem?: string;
}

/** Which locks to list. */
export interface ListScope {
  /** One namespace, or undefined for all. */
  namespace: string | undefined;
  labelSelector?: string;
}

/** What a lister hands back: the rows it found, and what it could not look at (for -v). */
export interface Listing {
  rows: LockRow[];
  skipped: string[];
}

/**
 * One kind of lock for `koncli status`: a descriptor the listing loop runs (docs/architecture.md,
 * "Adding a kind to koncli status"). `list` reads every lock of the kind in scope and turns each
 * into a LockRow with its own decode and judge (expiry on this machine's clock); liveness, the
 * stuck verdict and the break command are filled in by the loop. `watchPaths` are the collections
 * `-w` watches for changes of this kind.
 */
export interface LockLister {
  kind: string;
  list(scope: ListScope): Promise<Listing>;
  /**
   * The command that breaks `row` while exactly `holders` still hold it (argv words, without the
   * binary name); null when koncli has no such command for it.
   */
  breakArgs(row: LockRow, holders: string[]): string[] | null;
  watchPaths?(scope: ListScope): Promise<string[]>;
}

/** How a holder's liveness is found (core/status/liveness.ts's judgeHolder with the cluster's lookups). */
export type JudgeLiveness = (identity: string, namespace: string | undefined) => Promise<Liveness>;
