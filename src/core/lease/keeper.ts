import { ClaimKeeper, type KeeperTiming, type KeptClaim } from '../claim/keeper.js';
import type { ChangeFeed } from '../feed.js';
import type { LeaseContext } from './context.js';
import type { LeaseRecord } from './model.js';
import { renewLease } from './renew.js';

export type { KeeperTiming } from '../claim/keeper.js';

/**
 * Why the lease is no longer `holder`'s in `seen` (null: deleted), or undefined while it is: deleted,
 * re-created (another uid), being deleted, or held by someone else (or nobody: released by another).
 */
export function leaseLost(name: string, holder: string, acquired: LeaseRecord, seen: LeaseRecord | null): string | undefined {
  if (!seen) return `lease ${name} was deleted`;
  if (seen.uid !== undefined && acquired.uid !== undefined && seen.uid !== acquired.uid) {
    return `lease ${name} was deleted and created again (another object, uid ${seen.uid})`;
  }
  if (seen.terminating) return `lease ${name} is being deleted (deletionTimestamp ${seen.terminating.since})`;
  if (seen.holding.holder !== holder) return `lease ${name} is now held by ${seen.holding.holder || 'nobody (released by someone else)'}`;
  return undefined;
}

/**
 * A held lease for the claim keeper (core/claim/keeper.ts): lost as `leaseLost` says; renewed from
 * the newest copy known (the watch's: it also sees waiters' writes), costing one request unless
 * someone wrote meanwhile (core/lease/renew.ts). `watching`: the watch that waited, adopted.
 */
export function keptLease(
  ctx: LeaseContext,
  lease: { name: string; holder: string; written: LeaseRecord; sentAt: number; watching?: ChangeFeed<LeaseRecord> },
): KeptClaim<LeaseRecord> {
  const { name, holder, written } = lease;
  let last = written;
  return {
    what: `lease ${name}`,
    store: ctx.store,
    name,
    written,
    sentAt: lease.sentAt,
    watching: lease.watching,
    lostIn: (seen) => leaseLost(name, holder, written, seen),
    // Transient failures are the keeper's to retry (its backoff): the retry window ends now.
    renew: async (current) => (last = await renewLease(ctx, { name, holder }, current ?? last, ctx.clock.now())),
    withRequestTimeout: ctx.withRequestTimeout,
  };
}

/**
 * Keeps a held lease renewed in the background and reports its loss — never silently (`lease run`):
 * the claim keeper over `keptLease`. `acquiredSentAt`: monotonic ms the acquiring write was sent.
 */
export const leaseKeeper = (
  ctx: LeaseContext,
  name: string,
  holder: string,
  acquired: LeaseRecord,
  acquiredSentAt: number,
  timing: KeeperTiming,
  onNotice?: (message: string) => void,
  watching?: ChangeFeed<LeaseRecord>,
) => new ClaimKeeper(ctx.clock, keptLease(ctx, { name, holder, written: acquired, sentAt: acquiredSentAt, watching }), timing, onNotice);
