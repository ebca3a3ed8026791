import type { AcquireResult } from '../core/lease/acquire.js';
import type { LeaseRecord } from '../core/lease/model.js';
import type { KoncliError } from '../core/errors.js';
import type { KubeClient } from '../kube/client.js';
import { breakArgs, commandLine, sayBusy } from './break-commands.js';
import type { ClaimRunSpec } from './claim-runner.js';
import type { openLeases, LeaseKind } from './lease-session.js';
import { reportWaiting } from './lease-text.js';
import type { Output } from './output.js';

export interface LeaseRunRequest {
  name: string;
  holder: string;
  /** --ttl in seconds; undefined: the lease's current duration, else defaultDurationSeconds. */
  durationSeconds?: number;
  defaultDurationSeconds: number;
  delete: boolean;
  labels: Record<string, string>;
  priority: number;
  reason?: string;
  kind: LeaseKind;
}

/**
 * `lease run` as a claim run (cli/claim-runner.ts, shared by every `run`): the lease taken as `lease
 * acquire` takes it (waiting in priority order, its queue position on the progress line), kept by
 * the claim keeper on the watch that waited (core/lease/keeper.ts), and released — or deleted with
 * --delete — from the watched copy unless waiters are queued (their heartbeats change the lease
 * under us, and a write from a copy a moment old would mostly conflict).
 */
export async function leaseRunSpec(
  client: KubeClient,
  ctx: Awaited<ReturnType<typeof openLeases>>,
  req: LeaseRunRequest,
): Promise<ClaimRunSpec<LeaseRecord, AcquireResult>> {
  const [{ acquireLease }, { keptLease }, { releaseLease }] = await Promise.all([
    import('../core/lease/acquire.js'),
    import('../core/lease/keeper.js'),
    import('../core/lease/release.js'),
  ]);
  const { name, holder } = req;
  const acquireReq = { ...req, namespace: client.namespace, renewable: true };
  return {
    kind: 'lease',
    name,
    namespace: client.namespace,
    holder,
    ttlSeconds: req.durationSeconds ?? req.defaultDurationSeconds,
    clock: ctx.clock,
    acquire: async ({ progress, onBlocked: _, ...opts }) => {
      const waiting = reportWaiting(progress, name, () => ctx.clock.now());
      try {
        return await acquireLease(ctx, acquireReq, { ...opts, onProgress: waiting.onProgress, keepWatching: true });
      } finally {
        waiting.stop();
      }
    },
    claimOf: (a) => ({ object: a.record, sentAt: a.sentAt, fencingToken: a.fencingToken, ttlSeconds: a.record.holding.durationSeconds, watching: a.feed }),
    keep: (c) => keptLease(ctx, { name, holder, written: c.object, sentAt: c.sentAt, watching: c.watching }),
    release: (_exit, latest) =>
      releaseLease(ctx, { name, holder, delete: req.delete, force: false }, latest && latest.extras.queue.waiters.length === 0 ? latest : undefined),
    env: { KONCLI_LEASE: name },
  };
}

/** `lease run`'s busy outcome: who holds the lease and the command that breaks it safely (also `lease` = `name`, kept from before). */
export function leaseRunBusy(client: KubeClient, output: Output, req: LeaseRunRequest) {
  return (err: KoncliError): Record<string, unknown> => {
    const details = err.details ?? {};
    const heldBy = typeof details.holder === 'string' && details.holder ? details.holder : undefined;
    const breakCommand = heldBy && commandLine(breakArgs.lease(req.name, client.namespace, req.kind === 'konductor', [heldBy]));
    return { lease: req.name, ...sayBusy(output, 'not running the command', err.message, details, breakCommand) };
  };
}
