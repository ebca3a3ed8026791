import { ConflictError, KoncliError } from '../errors.js';
import { refuseTerminating, withUid } from '../identity.js';
import { MAX_CONFLICT_RETRIES, retryOnConflict } from '../retry.js';
import { waitOnObject } from '../wait.js';
import { judgeClaims, type ClaimView } from './judge.js';
import { foreignObject, type Claim, type ClaimContext, type ClaimKind, type RecordObject } from './model.js';

/** What a planner sees: one read of the object, decoded and judged on this machine's clock. */
export interface Read<S> {
  /** The object as read; null when it does not exist. */
  obj: RecordObject | null;
  /** Its decoded record; undefined when the object does not exist. */
  state: S | undefined;
  views: ClaimView[];
  /** Monotonic ms of the decision; a write made on it counts from here (send-time claims). */
  now: number;
  /** A new claim by `holder` stamped now (acquiredAt on the wall clock, expiresAt on the server's). */
  stamp: (holder: string, ttlSeconds: number | undefined, reason?: string, since?: Claim) => Claim;
}

/** A planner's decision on one read. */
export type Plan<S, R> =
  /** Decided without a write. */
  | { done: R }
  /** Write `state` (creating the object when absent), then the result is `result(written)`. */
  | { write: S; result: (written: RecordObject) => R }
  /** Write `state` (e.g. lapsed claims pruned) and decide again on the result. */
  | { write: S; again: true }
  /** Not now: who is in the way; nothing changes before `retryAt` (monotonic ms) unless the object does. */
  | { blocked: KoncliError; retryAt: number };

export type Planner<S, R> = (read: Read<S>) => Plan<S, R>;

export interface DecideOptions {
  /** Wait by watching the object while blocked; otherwise try once (re-deciding on conflicts). */
  wait: boolean;
  /** Give up waiting after this long (ms); undefined waits for ever. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onNotice?: (message: string) => void;
  /** Told each time a wait is blocked (for a progress line). */
  onBlocked?: (blocked: KoncliError, waitedMs: number) => void;
}

/** The result of a decided verb, with how long it waited (ms). */
export interface Decided<R> {
  result: R;
  waitedMs: number;
}

/** The ExpiryTracker key of an object's claims. */
const keyOf = (ctx: ClaimContext, name: string, obj: RecordObject | null) => withUid(`${ctx.store.namespace}/${name}`, obj);

function stamper(ctx: ClaimContext, name: string, kind: string, now: number) {
  return (holder: string, ttlSeconds: number | undefined, reason?: string, since?: Claim): Claim => {
    const wall = new Date(ctx.clock.wallNow()).toISOString();
    const base: Claim = { holder, acquiredAt: since?.acquiredAt ?? wall, ...(since && { renewedAt: wall }), ...(reason && { reason }) };
    if (ttlSeconds === undefined) return base;
    const server = ctx.serverClock.serverTimeAtMost(now);
    if (server === undefined)
      throw new KoncliError('error', `cannot stamp the TTL of ${kind} ${name}: the API server's clock is unknown (no Date header seen)`);
    return { ...base, ttlSeconds, expiresAt: new Date(server + ttlSeconds * 1000).toISOString() };
  };
}

/** Decodes and judges one read; refuses an object that is not this kind's. */
export function readOf<S>(ctx: ClaimContext, kind: ClaimKind<S>, name: string, obj: RecordObject | null): Read<S> {
  const now = ctx.clock.now();
  if (obj?.unreadable) throw obj.unreadable;
  if (obj && (obj.record === undefined || obj.labelledKind !== kind.kind)) throw foreignObject(kind.kind, obj);
  const state = obj ? kind.decode(name, obj.record!) : undefined;
  const views = state ? judgeClaims(ctx, keyOf(ctx, name, obj), kind.claims(state), now, obj?.writtenAtMost) : [];
  return { obj, state, views, now, stamp: stamper(ctx, name, kind.kind, now) };
}

type Step<R> = { done: R } | { wrote: RecordObject } | { blocked: KoncliError; retryAt: number };

async function step<S, R>(ctx: ClaimContext, kind: ClaimKind<S>, name: string, obj: RecordObject | null, plan: Planner<S, R>): Promise<Step<R>> {
  const decided = plan(readOf(ctx, kind, name, obj));
  if ('done' in decided || 'blocked' in decided) return decided;
  refuseTerminating(`${kind.kind} ${name} (${ctx.store.objectType ?? 'ConfigMap'} ${name} in namespace ${ctx.store.namespace})`, obj);
  const raw = kind.encode(decided.write);
  const written = obj ? await ctx.store.write(obj, raw) : await ctx.store.create(name, raw);
  return 'again' in decided ? { wrote: written } : { done: decided.result(written) };
}

/**
 * Runs a verb: reads, plans, writes (resourceVersion-guarded), re-deciding on write conflicts; when
 * blocked, throws the planner's error (try once) or waits on the watch until unblocked, the
 * timeout (the blocked error plus "(waited Ns)") or abort. Transient failures follow the retry
 * policy (core/retry.ts).
 */
export async function decide<S, R>(ctx: ClaimContext, kind: ClaimKind<S>, name: string, plan: Planner<S, R>, opts: DecideOptions): Promise<Decided<R>> {
  const { clock } = ctx;
  const startedAt = clock.now();
  if (!opts.wait) {
    const exhausted = () => new KoncliError('busy', `${kind.kind} ${name}: gave up after ${MAX_CONFLICT_RETRIES} write conflicts in a row`);
    const result = await retryOnConflict({ clock, exhausted, onNotice: opts.onNotice, signal: opts.signal }, async () => {
      const s = await step(ctx, kind, name, await ctx.store.get(name), plan);
      if ('done' in s) return s.done;
      if ('blocked' in s) throw s.blocked;
      throw new ConflictError('wrote a preliminary change: decide again');
    });
    return { result, waitedMs: 0 };
  }
  const result = await waitOnObject(ctx.store, name, clock, { ...opts, startedAt }, async (obj) => {
    const s = await step(ctx, kind, name, obj, plan);
    if (!('blocked' in s)) return s;
    opts.onBlocked?.(s.blocked, clock.now() - startedAt);
    const { blocked } = s;
    return { until: s.retryAt + 1, giveUp: (why) => new KoncliError(blocked.kind, blocked.message + why, blocked.details) };
  });
  return { result, waitedMs: clock.now() - startedAt };
}

/** Reads one object decoded (status): null when it does not exist. */
export async function readRecord<S>(ctx: ClaimContext, kind: ClaimKind<S>, name: string): Promise<Read<S>> {
  return readOf(ctx, kind, name, await ctx.store.get(name));
}

/**
 * Deletes the object (`delete` verbs) if `check` allows it on the latest read, guarded by its
 * resourceVersion (re-read and re-checked on conflict); `not-found` when it does not exist.
 */
export async function deleteRecord<S>(
  ctx: ClaimContext,
  kind: ClaimKind<S>,
  name: string,
  check: (read: Read<S>) => void,
  onNotice?: (message: string) => void,
): Promise<RecordObject> {
  return retryOnConflict({ clock: ctx.clock, onNotice }, async () => {
    const read = readOf(ctx, kind, name, await ctx.store.get(name));
    if (!read.obj) throw new KoncliError('not-found', `${kind.kind} ${name} does not exist in namespace ${ctx.store.namespace}`);
    check(read);
    await ctx.store.delete(read.obj);
    return read.obj;
  });
}
