import type { Clock } from '../clock.js';
import { KoncliError } from '../errors.js';
import { ruleOf, takeableText } from '../expiry.js';
import { DEFAULT_LEASE_SECONDS } from '../timing.js';
import type { LeaseView } from './judge.js';
import { defaultExtras, microTime, type LeaseDraft, type LeaseRecord } from './model.js';
import { withoutWaiter } from './queue.js';

export interface AcquireRequest {
  name: string;
  namespace: string;
  holder: string;
  /**
   * The duration of the claim (--ttl). Omitted: extending our own claim keeps its duration; a new
   * claim takes the lease's prescribed one (a konductor Lease's spec.ttl), else
   * `defaultDurationSeconds` — never what a previous holder left (client-go steps down by writing
   * `leaseDurationSeconds: 1`, a marker, not a duration anyone chose).
   */
  durationSeconds?: number;
  /** The duration of a new claim without --ttl (default DEFAULT_LEASE_SECONDS). */
  defaultDurationSeconds?: number;
  priority: number;
  renewable: boolean;
  reason?: string;
  labels: Record<string, string>;
}

export type TakePlan =
  | { kind: 'create'; draft: LeaseDraft }
  | { kind: 'update'; next: LeaseRecord; outcome: 'acquired' | 'extended' }
  | { kind: 'held-not-renewable'; view: LeaseView }
  | { kind: 'busy'; view: LeaseView };

/** Decides what one acquire attempt does with the lease as last read; pure. `wallNow`: wall-clock ms, for the timestamps written. */
export function planTake(record: LeaseRecord | null, req: AcquireRequest, view: LeaseView, wallNow: number): TakePlan {
  const stamp = microTime(wallNow);
  const newClaimSeconds = req.durationSeconds ?? record?.configuredDurationSeconds ?? req.defaultDurationSeconds ?? DEFAULT_LEASE_SECONDS;
  if (!record) {
    return {
      kind: 'create',
      draft: {
        name: req.name,
        namespace: req.namespace,
        labels: req.labels,
        holding: {
          holder: req.holder,
          durationSeconds: newClaimSeconds,
          acquireTime: stamp,
          renewTime: stamp,
          transitions: 0,
        },
        extras: { ...defaultExtras(), priority: req.priority, renewable: req.renewable, reason: req.reason },
      },
    };
  }
  const mine = record.holding.holder === req.holder;
  if (view.phase === 'Held' && !mine) return { kind: 'busy', view };
  if (mine && view.phase === 'Held' && !record.extras.renewable) return { kind: 'held-not-renewable', view };
  const queue = withoutWaiter(record.extras.queue, req.holder);
  if (mine) {
    return {
      kind: 'update',
      outcome: 'extended',
      next: {
        ...record,
        holding: { ...record.holding, durationSeconds: req.durationSeconds ?? (record.holding.durationSeconds || newClaimSeconds), renewTime: stamp },
        extras: { ...record.extras, renewals: record.extras.renewals + 1, queue, reason: req.reason ?? record.extras.reason },
      },
    };
  }
  return {
    kind: 'update',
    outcome: 'acquired',
    next: {
      ...record,
      labels: { ...record.labels, ...req.labels },
      holding: {
        holder: req.holder,
        durationSeconds: newClaimSeconds,
        acquireTime: stamp,
        renewTime: stamp,
        transitions: record.holding.transitions + 1,
      },
      extras: { renewals: 0, priority: req.priority, renewable: req.renewable, reason: req.reason, queue },
    },
  };
}

/** `busy`, saying who holds the lease, why it is judged held and from when it could be taken. */
export const busyError = (name: string, view: LeaseView, clock: Clock, extra = '') => {
  const now = clock.now();
  const wallNow = clock.wallNow();
  const takeable = view.expiresAt === undefined ? undefined : new Date(wallNow + (view.expiresAt - now)).toISOString();
  const gone = view.vanished ? ' (on a Lease since deleted or re-created: its last claim stays in force until it would have expired)' : '';
  return new KoncliError('busy', `lease ${name} is held by ${view.holder}${gone}${takeableText(view.expiresAt, now, wallNow)}${extra}`, {
    holder: view.holder,
    takeableFrom: takeable ?? null,
    judgedBy: view.expiry?.basis ?? null,
    rule: ruleOf([{ holder: view.holder, expiry: view.expiry }]),
  });
};
