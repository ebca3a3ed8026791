import { claim, claimOnce, type Claimant } from '../claim/claimant.js';
import { KoncliError, isKind } from '../errors.js';
import { decodeSemaphore, encodeSemaphore } from './codec.js';
import { busyError, planLock, type LockOutcome, type LockRequest, type Stamp } from './decide.js';
import { judgeHolders, liveHolders, type HolderView } from './judge.js';
import { kubeLockDate, semaphoreKey, type SemaphoreContext, type SemaphoreObject, type SemaphoreState } from './model.js';
import { unlockSemaphore } from './unlock.js';

export interface LockResult {
  outcome: LockOutcome;
  object: SemaphoreObject;
  state: SemaphoreState;
  created: boolean;
  /** With a TTL: the monotonic time (Clock.now) until which the caller may count on its slot. */
  heldUntil?: number;
  /** Monotonic time (Clock.now) just before the write was sent: the slot counts from no earlier. */
  sentAt: number;
  waitedMs: number;
}

export interface LockProgress {
  max: number;
  holders: HolderView[];
  waitedMs: number;
}

export interface LockOptions {
  wait: boolean;
  /** Give up after this long (ms); undefined waits for ever. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (progress: LockProgress) => void;
  onNotice?: (message: string) => void;
}

type Blocked = { max: number; holders: HolderView[] };

export const notFound = (req: LockRequest) =>
  new KoncliError('not-found', `semaphore ${req.name} (a ConfigMap) does not exist in namespace ${req.namespace}; add --create to create it`);

/** A ConfigMap that holds another koncli primitive (a mutex, a once, …): its slots would be a second lock beside it. */
export const otherPrimitive = (obj: SemaphoreObject) =>
  new KoncliError(
    'corrupt',
    `configmap ${obj.name} in namespace ${obj.namespace} is a koncli ${obj.labelledKind}, not a semaphore; koncli leaves it alone: choose another name`,
    { name: obj.name, namespace: obj.namespace },
  );

/**
 * `expires` is an upper bound of the server clock at `now` (monotonic; it precedes the write) plus
 * the TTL, learnt from `Date` headers: observers then never end the slot before the holder does.
 * `date` is kube-lock's, from the wall clock.
 */
function stamp(ctx: SemaphoreContext, req: LockRequest, now: number): Stamp {
  const date = kubeLockDate(ctx.clock.wallNow());
  if (req.ttlSeconds === undefined) return { date };
  const server = ctx.serverClock.serverTimeAtMost(now);
  if (server === undefined) {
    throw new KoncliError('error', `cannot stamp the --ttl of semaphore ${req.name}: the API server's clock is unknown (no Date header seen)`);
  }
  return { date, expires: new Date(server + req.ttlSeconds * 1000).toISOString() };
}

/**
 * Our claim on a slot as the claim engine drives it (core/claim/claimant.ts): the semaphore's rules
 * are `planLock` (core/semaphore/decide.ts) on the holders judged now, plus the live holders of a
 * semaphore deleted or re-created while we waited (our own entries do not count).
 */
export function slotClaimant(ctx: SemaphoreContext, req: LockRequest): Claimant<SemaphoreObject, LockResult, Blocked, HolderView> {
  const startedAt = ctx.clock.now();
  const heldUntil = (now: number) => (req.ttlSeconds === undefined ? undefined : now + req.ttlSeconds * 1000);
  return {
    what: `semaphore ${req.name}`,
    where: `semaphore ${req.name} (ConfigMap ${req.name} in namespace ${req.namespace})`,
    store: ctx.store,
    name: req.name,
    check: (obj) => {
      if (!obj && !req.create) throw notFound(req);
      if (obj?.labelledKind) throw otherPrimitive(obj);
    },
    ghostsIn: (gone, now) =>
      gone.annotation === undefined
        ? []
        : liveHolders(judgeHolders(decodeSemaphore(req.name, gone.annotation), ctx.tracker, semaphoreKey(gone), now)).filter((v) => v.id !== req.holder),
    step: async ({ obj, now, ghosts }) => {
      const state = obj?.annotation === undefined ? undefined : decodeSemaphore(req.name, obj.annotation);
      const others = ghosts.filter((v, i) => (!state || !(v.id in state.holders)) && ghosts.findIndex((g) => g.id === v.id) === i);
      const views = [...(state ? judgeHolders(state, ctx.tracker, semaphoreKey(obj!), now) : []), ...others];
      const plan = planLock(state, views, req, () => stamp(ctx, req, now));
      const done = (outcome: LockOutcome, object: SemaphoreObject, next: SemaphoreState) => ({
        done: { outcome, object, state: next, created: !obj, heldUntil: heldUntil(now), sentAt: now, waitedMs: now - startedAt },
      });
      switch (plan.kind) {
        case 'none':
          return done(plan.outcome, obj!, state!);
        case 'write': {
          const annotation = encodeSemaphore(plan.state);
          return done(plan.outcome, obj ? await ctx.store.write(obj, annotation) : await ctx.store.create(req.name, annotation), plan.state);
        }
        case 'busy':
          if (plan.state && obj) return { wrote: await ctx.store.write(obj, encodeSemaphore(plan.state)) };
          return { blocked: { max: plan.max, holders: plan.holders }, retryAt: plan.retryAt };
      }
    },
    busy: ({ max, holders }, why) => busyError(req.name, max, holders, ctx.clock, why),
    sent: (r) => (req.ttlSeconds === undefined || r.outcome === 'already-held' ? undefined : { sentAt: r.sentAt, durationMs: req.ttlSeconds * 1000 }),
    giveBack: () =>
      unlockSemaphore(ctx, { name: req.name, namespace: req.namespace, holder: req.holder, force: false, by: req.holder }).then(
        () => 'gave the slot back',
        (err: Error) => (isKind(err, 'not-held') ? 'it was no longer ours to give back' : `could not give it back (${err.message})`),
      ),
  };
}

/** Tries once through the claim engine; throws `busy` when the semaphore is full. */
export const lockOnce = (ctx: SemaphoreContext, req: LockRequest, onNotice?: (message: string) => void): Promise<LockResult> =>
  claimOnce(ctx.clock, slotClaimant(ctx, req), { onNotice });

/**
 * Takes a slot through the claim engine, waiting (by watching the ConfigMap) when `opts.wait`;
 * throws `busy` on timeout. Transient API failures are ridden out until the timeout (core/retry.ts).
 */
export const lockSemaphore = (ctx: SemaphoreContext, req: LockRequest, opts: LockOptions): Promise<LockResult> =>
  claim(ctx.clock, slotClaimant(ctx, req), { ...opts, onBlocked: (b, waitedMs) => opts.onProgress?.({ ...b, waitedMs }) });
