import { ConflictError, KoncliError, isKind } from '../errors.js';
import { checkIfHolder, forceMessage, type ForceAuthor } from '../if-holder.js';
import { retryOnConflict } from '../retry.js';
import type { LeaseContext } from './context.js';
import { microTime, type LeaseRecord } from './model.js';

export interface ReleaseRequest {
  name: string;
  /** The lease's namespace, for messages (a --force in a mistyped namespace must say where it looked). */
  namespace?: string;
  holder: string;
  /** Delete the Lease instead of emptying its holder. */
  delete: boolean;
  /** Break a lease someone else holds. */
  force: boolean;
  /** With force: break it only while one of these holds it (--if-holder). */
  ifHolder?: string[];
  /** With force: who breaks it and why, for the Event (default: `holder`). */
  author?: ForceAuthor;
}

export interface ReleaseResult {
  /** already-free: the lease is free or does not exist (releasing one's own claim is idempotent: docs/exit-codes.md). */
  outcome: 'released' | 'deleted' | 'already-free';
  previousHolder: string;
  forced: boolean;
  /** Set when the force-release Event could not be recorded (the release itself happened). */
  eventError?: string;
}

type ReleasePlan = { kind: 'done'; result: ReleaseResult } | { kind: 'write'; next: LeaseRecord } | { kind: 'delete' };

/** Decides what a release does with the lease as read; pure. `wallNow`: wall-clock ms for renewTime. */
export function planRelease(record: LeaseRecord | null, req: ReleaseRequest, wallNow: number): ReleasePlan {
  const previousHolder = record?.holding.holder ?? '';
  const forced = previousHolder !== '' && previousHolder !== req.holder;
  // One rule for absent things (issue 22): one's own release of what is gone is done; a force that breaks nothing is not.
  if (!record && req.force)
    throw new KoncliError('not-found', `lease ${req.name} does not exist${req.namespace ? ` in namespace ${req.namespace}` : ''}: nothing was broken`);
  if (!record) return { kind: 'done', result: { outcome: 'already-free', previousHolder, forced: false } };
  if (req.force) checkIfHolder(`lease ${req.name}`, req.ifHolder, previousHolder ? [previousHolder] : []);
  if (req.force && previousHolder === '' && !req.delete)
    throw new KoncliError('not-held', `lease ${req.name} is held by nobody: nothing was broken`, { holder: null });
  if (forced && !req.force) {
    throw new KoncliError('not-held', `lease ${req.name} is held by ${previousHolder}, not ${req.holder}; add --force to break it`, { holder: previousHolder });
  }
  if (req.delete) return { kind: 'delete' };
  if (previousHolder === '') return { kind: 'done', result: { outcome: 'already-free', previousHolder, forced: false } };
  const stamp = microTime(wallNow);
  return {
    kind: 'write',
    next: {
      ...record,
      holding: { ...record.holding, holder: '', renewTime: stamp },
      extras: { ...record.extras, renewals: 0, reason: undefined },
    },
  };
}

/** A release write whose answer never came (a timeout, a reset): it may have landed. */
interface Unanswered {
  kind: 'write' | 'delete';
  record: LeaseRecord;
}

/**
 * Whether an unanswered release landed, judged from a fresh read: the holder it removed is no
 * longer there (the lease is free, held by someone else since, deleted, or re-created).
 */
const landed = (sent: Unanswered, now: LeaseRecord | null) =>
  !now || (now.uid !== undefined && now.uid !== sent.record.uid) || now.holding.holder !== sent.record.holding.holder;

/**
 * Releases (or deletes) the lease, guarded by resourceVersion so a new holder is never displaced.
 * `known`: a recent copy (a holder's watched state) to try first instead of reading; a stale one
 * only costs a conflict, after which the lease is read as usual. A write whose answer was lost is
 * resolved by the next read: if it landed, the release is reported (and a force recorded) as done.
 */
export async function releaseLease(ctx: LeaseContext, req: ReleaseRequest, known?: LeaseRecord): Promise<ReleaseResult> {
  const exhausted = () => new KoncliError('error', `lease ${req.name}: release kept conflicting with other writers`);
  let sent: Unanswered | undefined;
  return retryOnConflict({ clock: ctx.clock, exhausted }, async (n) => {
    const record = n === 0 && known ? known : await ctx.store.get(req.name);
    if (sent && landed(sent, record)) return released(ctx, req, sent.record, sent.kind === 'delete' ? 'deleted' : 'released');
    const plan = planRelease(record, req, ctx.clock.wallNow());
    if (plan.kind === 'done') return plan.result;
    try {
      if (plan.kind === 'delete') await ctx.store.delete(req.name, record!.version);
      else await ctx.store.writeClaim(plan.next);
    } catch (err) {
      if (isKind(err, 'not-found')) throw new ConflictError('the lease was deleted since it was read'); // read again
      if (!isKind(err, 'conflict')) sent = { kind: plan.kind, record: record! }; // it may have landed: the next read tells
      throw err;
    }
    return released(ctx, req, record!, plan.kind === 'delete' ? 'deleted' : 'released');
  });
}

/** The result of a release that landed; a force that displaced someone records its Event. */
async function released(ctx: LeaseContext, req: ReleaseRequest, record: LeaseRecord, outcome: 'released' | 'deleted'): Promise<ReleaseResult> {
  const previousHolder = record.holding.holder;
  const forced = previousHolder !== '' && previousHolder !== req.holder;
  const result: ReleaseResult = { outcome, previousHolder, forced };
  if (forced) {
    await ctx.store
      .recordEvent(record, 'ForceReleased', forceMessage(req.author ?? { by: req.holder }, `force-released the lease from ${previousHolder}`))
      .catch((err: Error) => (result.eventError = err.message));
  }
  return result;
}
