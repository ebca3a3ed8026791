import { KoncliError } from './errors.js';

/**
 * An object that is being deleted: `metadata.deletionTimestamp` is set and finalizers hold it back.
 * Until they are removed it still accepts writes; then it goes, and the name can be created again
 * (a new object, with a new uid).
 */
export interface Terminating {
  /** metadata.deletionTimestamp as stored. */
  since: string;
  finalizers: string[];
}

/** What a lock object carries for identity: its uid (once known) and whether it is terminating. */
export interface ObjectIdentity {
  uid?: string;
  terminating?: Terminating;
}

/**
 * Refuses to write a claim into an object that is going away (exit 10, nothing written): a claim
 * written there would vanish with it, and whoever re-creates the object would be told it is free.
 * `what` names the object ("lease nightly in namespace jobs").
 */
export function refuseTerminating(what: string, obj: ObjectIdentity | null | undefined): void {
  const t = obj?.terminating;
  if (!t) return;
  const held = t.finalizers.length ? `, held back by finalizer${t.finalizers.length > 1 ? 's' : ''} ${t.finalizers.join(', ')}` : '';
  throw new KoncliError(
    'rejected',
    `${what} is being deleted (deletionTimestamp ${t.since}${held}); koncli writes no claim into an object that is going away: wait until it is gone, then try again`,
    { terminating: true, deletionTimestamp: t.since, finalizers: t.finalizers },
  );
}

/** A uid-qualified key for ExpiryTracker: a re-created object (a new uid) is a different object, judged afresh. */
export const withUid = (key: string, obj: ObjectIdentity | null | undefined) => (obj?.uid ? `${key}@${obj.uid}` : key);

/**
 * The lock objects a waiter has seen vanish: deleted, or replaced by another object of the same
 * name (another uid). A deleted lock is not free: the last claim seen on it stays in force until
 * it would have expired (docs/clock.md), so a waiter keeps judging these states until their claims
 * have run out, and `forget`s them then.
 */
export class VanishedObjects<T extends ObjectIdentity> {
  private last: T | null = null;
  private gone: T[] = [];

  /** Records what the watch shows now; returns the states of the objects that vanished so far. */
  see(current: T | null): readonly T[] {
    const last = this.last;
    if (last && (!current || (current.uid !== undefined && last.uid !== undefined && current.uid !== last.uid))) {
      this.gone = [...this.gone.filter((g) => g.uid !== last.uid), last];
    }
    this.last = current;
    return this.gone;
  }

  /** Drops a vanished state whose claims have all run out. */
  forget(state: T): void {
    this.gone = this.gone.filter((g) => g !== state);
  }
}
