import { KoncliError, isKind } from '../errors.js';
import { refuseTerminating, withUid } from '../identity.js';
import { retryOnConflict } from '../retry.js';
import { claim, type Claimant, type Step } from './claimant.js';
import { holdersText, judgeClaims, nextLapse, type ClaimView } from './judge.js';
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
  /**
   * Write `state` (creating the object when absent), then the result is `result(written)`.
   * `claimed`: the caller's claim this write makes or re-stamps — the engine then applies the
   * send-time rule to it (given back when answered late) and keeps a vanished object's claims in force against it.
   */
  | { write: S; result: (written: RecordObject) => R; claimed?: Claim }
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

const VANISHED = ' (on an object since deleted or re-created: its last claims stay in force until they would have expired)';

/**
 * Whether `vanished` (objects deleted or re-created while we waited, with claims still live) stand in
 * the way of the claim `plan` makes: the planner judges each as if it were still there, and only a
 * claim it would grant there too (or a decision without a write) passes — a deleted lock is not free.
 */
function vanishedBlock<S, R>(
  ctx: ClaimContext,
  kind: ClaimKind<S>,
  name: string,
  plan: Planner<S, R>,
  vanished: RecordObject[],
): Step<RecordObject, R, KoncliError> | undefined {
  for (const gone of vanished) {
    const read = readOf(ctx, kind, name, gone);
    const p = plan(read);
    if ('done' in p || ('result' in p && p.claimed)) continue;
    if ('blocked' in p) return { blocked: new KoncliError(p.blocked.kind, p.blocked.message + VANISHED, p.blocked.details), retryAt: p.retryAt };
    return {
      blocked: new KoncliError('busy', `${kind.kind} ${name} is held by ${holdersText(read.views, read.now, ctx.clock.wallNow())}${VANISHED}`),
      retryAt: nextLapse(read.views),
    };
  }
  return undefined;
}

/** The claims of a vanished object still live at `now` ([gone] while any is, [] once all have lapsed). */
function liveIn<S>(ctx: ClaimContext, kind: ClaimKind<S>, name: string, gone: RecordObject, now: number): RecordObject[] {
  if (gone.unreadable || gone.record === undefined || gone.labelledKind !== kind.kind) return [];
  try {
    return judgeClaims(ctx, keyOf(ctx, name, gone), kind.claims(kind.decode(name, gone.record)), now).some((v) => !v.expired) ? [gone] : [];
  } catch {
    return [];
  }
}

/** Gives back `claim` (answered too late to count) if it is still there as we wrote it: the kind's `without`, guarded by resourceVersion. */
const planGiveBack =
  <S>(kind: ClaimKind<S>, claim: Claim): Planner<S, string> =>
  (read) => {
    const same = (c: Claim) => c.holder === claim.holder && c.acquiredAt === claim.acquiredAt && c.renewedAt === claim.renewedAt;
    if (!read.state || !kind.claims(read.state).some(same)) return { done: 'it was no longer ours to give back' };
    if (!kind.without) return { done: 'left it to lapse' };
    return { write: kind.without(read.state, claim), result: () => 'gave it back' };
  };

/** What one verb's steps remember between attempts. */
interface Memo<R> {
  /** The caller's claim our write made, and when that write was sent (for the send-time rule). */
  made?: { claim: Claim; sentAt: number };
  /** A write whose answer never came (a timeout, a reset): it may have landed, and the next read tells. */
  unanswered?: { raw: string; uid?: string; result: (written: RecordObject) => R; made?: { claim: Claim; sentAt: number } };
}

/** Whether the object now carries exactly the record of our unanswered write (same object): it landed. */
const landed = (u: NonNullable<Memo<unknown>['unanswered']>, obj: RecordObject | null) =>
  obj !== null && obj.record === u.raw && (u.uid === undefined || obj.uid === undefined || obj.uid === u.uid);

/** One step of a record kind's verb: plan on the read, hold back for vanished claims, write guarded by resourceVersion. */
async function recordStep<S, R>(
  ctx: ClaimContext,
  kind: ClaimKind<S>,
  name: string,
  plan: Planner<S, R>,
  memo: Memo<R>,
  { obj, ghosts }: { obj: RecordObject | null; ghosts: RecordObject[] },
): Promise<Step<RecordObject, R, KoncliError>> {
  const u = memo.unanswered;
  memo.unanswered = undefined;
  if (u && landed(u, obj)) {
    memo.made = u.made;
    return { done: u.result(obj!) };
  }
  const read = readOf(ctx, kind, name, obj);
  const decided = plan(read);
  if ('done' in decided || 'blocked' in decided) return decided;
  const claimed = 'result' in decided ? decided.claimed : undefined;
  const held = claimed && ghosts.length ? vanishedBlock(ctx, kind, name, plan, ghosts) : undefined;
  if (held) return held;
  refuseTerminating(`${kind.kind} ${name} (${ctx.store.objectType ?? 'ConfigMap'} ${name} in namespace ${ctx.store.namespace})`, obj);
  const raw = kind.encode(decided.write);
  const made = claimed && { claim: claimed, sentAt: read.now };
  let written: RecordObject;
  try {
    written = obj ? await ctx.store.write(obj, raw) : await ctx.store.create(name, raw);
  } catch (err) {
    if ('result' in decided && !isKind(err, 'conflict') && !isKind(err, 'not-found')) memo.unanswered = { raw, uid: obj?.uid, result: decided.result, made };
    throw err;
  }
  if ('again' in decided) return { wrote: written };
  memo.made = made;
  return { done: decided.result(written) };
}

/**
 * Runs a verb of a record kind through the claim engine (core/claim/claimant.ts): reads, plans,
 * writes (resourceVersion-guarded), re-deciding on write conflicts; when blocked, throws the
 * planner's error (try once) or waits on the watch until unblocked, the timeout (the blocked error
 * plus "(waited Ns)") or abort. Transient failures follow the retry policy (core/retry.ts); a write
 * whose answer was lost is judged by the next read (it landed when the object carries exactly what
 * we wrote). A write that makes the caller's claim (`claimed`) counts from when it was sent, and is
 * held back by the live claims of an object that vanished while we waited.
 */
export async function decide<S, R>(ctx: ClaimContext, kind: ClaimKind<S>, name: string, plan: Planner<S, R>, opts: DecideOptions): Promise<Decided<R>> {
  const startedAt = ctx.clock.now();
  const memo: Memo<R> = {};
  const claimant: Claimant<RecordObject, R, KoncliError, RecordObject> = {
    what: `${kind.kind} ${name}`,
    store: ctx.store,
    name,
    ghostsIn: (gone, now) => liveIn(ctx, kind, name, gone, now),
    step: (look) => recordStep(ctx, kind, name, plan, memo, look),
    busy: (blocked, why = '') => (why ? new KoncliError(blocked.kind, blocked.message + why, blocked.details) : blocked),
    sent: () => (memo.made?.claim.ttlSeconds === undefined ? undefined : { sentAt: memo.made.sentAt, durationMs: memo.made.claim.ttlSeconds * 1000 }),
    giveBack: async () => (await decide(ctx, kind, name, planGiveBack(kind, memo.made!.claim), { wait: false })).result,
  };
  const result = await claim(ctx.clock, claimant, opts);
  return { result, waitedMs: opts.wait ? ctx.clock.now() - startedAt : 0 };
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
