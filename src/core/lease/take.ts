import { KoncliError } from '../errors.js';
import { judgeLease, type LeaseView } from './judge.js';
import { defaultExtras, microTime, type LeaseDraft, type LeaseRecord } from './model.js';
import { withoutWaiter } from './queue.js';

export interface AcquireRequest {
  name: string;
  namespace: string;
  holder: string;
  /** Omitted: keep the lease's current duration (or `defaultDurationSeconds` for a new lease). */
  durationSeconds?: number;
  /** The duration of a lease created without an explicit one (default DEFAULT_LEASE_SECONDS). */
  defaultDurationSeconds?: number;
  priority: number;
  renewable: boolean;
  reason?: string;
  labels: Record<string, string>;
}

export const DEFAULT_LEASE_SECONDS = 300;

export type TakePlan =
  | { kind: 'create'; draft: LeaseDraft }
  | { kind: 'update'; next: LeaseRecord; outcome: 'acquired' | 'extended' }
  | { kind: 'held-not-renewable'; view: LeaseView }
  | { kind: 'busy'; view: LeaseView };

/** Decides what one acquire attempt does with the lease as last read; pure. */
export function planTake(record: LeaseRecord | null, req: AcquireRequest, view: LeaseView, now: number): TakePlan {
  const stamp = microTime(now);
  if (!record) {
    return {
      kind: 'create',
      draft: {
        name: req.name,
        namespace: req.namespace,
        labels: req.labels,
        holding: {
          holder: req.holder,
          durationSeconds: req.durationSeconds ?? req.defaultDurationSeconds ?? DEFAULT_LEASE_SECONDS,
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
  const durationSeconds = req.durationSeconds ?? (record.holding.durationSeconds || req.defaultDurationSeconds || DEFAULT_LEASE_SECONDS);
  const queue = withoutWaiter(record.extras.queue, req.holder);
  if (mine) {
    return {
      kind: 'update',
      outcome: 'extended',
      next: {
        ...record,
        holding: { ...record.holding, durationSeconds, renewTime: stamp },
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
        durationSeconds,
        acquireTime: stamp,
        renewTime: stamp,
        transitions: record.holding.transitions + 1,
      },
      extras: { renewals: 0, priority: req.priority, renewable: req.renewable, reason: req.reason, queue },
    },
  };
}

export const busyError = (name: string, view: LeaseView, now: number, extra = '') =>
  new KoncliError(
    'busy',
    `lease ${name} is held by ${view.holder}` +
      (view.expiresAt !== undefined ? `, expiring within ${Math.ceil((view.expiresAt - now) / 1000)}s` : '') +
      extra,
    { holder: view.holder, expiresAt: view.expiresAt },
  );

export { judgeLease };
