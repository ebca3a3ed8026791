import { KoncliError, isKind } from '../errors.js';
import { refuseTerminating } from '../identity.js';
import { retryOnConflict } from '../retry.js';
import type { LeaseContext } from './context.js';
import { microTime, type LeaseRecord } from './model.js';

export interface RenewRequest {
  name: string;
  holder: string;
  durationSeconds?: number;
}

const lost = (name: string, record: LeaseRecord | null, holder: string) =>
  new KoncliError(
    'lost',
    !record
      ? `lease ${name} no longer exists; acquire it again`
      : record.holding.holder === ''
        ? `lease ${name} was released; ${holder} no longer holds it`
        : `lease ${name} is held by ${record.holding.holder}, not ${holder}`,
    { holder: record?.holding.holder ?? '' },
  );

/** The next state of a renewal, or the reason it is refused; pure. `wallNow`: wall-clock ms for renewTime. */
export function planRenew(record: LeaseRecord | null, req: RenewRequest, wallNow: number): LeaseRecord {
  if (!record || record.holding.holder !== req.holder) throw lost(req.name, record, req.holder);
  refuseTerminating(`lease ${req.name} in namespace ${record.namespace}`, record);
  if (!record.extras.renewable) {
    throw new KoncliError('lost', `lease ${req.name} is a one-time lease (renewable=false); it cannot be renewed`, {
      holder: record.holding.holder,
      renewable: false,
    });
  }
  return {
    ...record,
    holding: {
      ...record.holding,
      durationSeconds: req.durationSeconds ?? record.holding.durationSeconds,
      renewTime: microTime(wallNow),
    },
    extras: { ...record.extras, renewals: record.extras.renewals + 1 },
  };
}

/**
 * Renews as the current holder. `known` is the state from our own last write: renewing from it
 * costs one request; only a conflict (someone else wrote meanwhile) costs a re-read. Transient
 * failures are retried until `retryUntil` (local ms; default: the one-shot budget of src/core/retry.ts).
 */
export async function renewLease(ctx: LeaseContext, req: RenewRequest, known?: LeaseRecord, retryUntil?: number): Promise<LeaseRecord> {
  const exhausted = () => new KoncliError('error', `lease ${req.name}: renewal kept conflicting with other writers`);
  return retryOnConflict({ clock: ctx.clock, deadline: retryUntil, exhausted }, async (n) => {
    const record = n === 0 && known ? known : await ctx.store.get(req.name);
    try {
      return await ctx.store.writeClaim(planRenew(record, req, ctx.clock.wallNow()));
    } catch (err) {
      throw isKind(err, 'not-found') ? lost(req.name, null, req.holder) : err;
    }
  });
}
