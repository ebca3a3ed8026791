import type { Clock } from '../clock.js';
import { KoncliError } from '../errors.js';
import { planCreate } from '../claim/create.js';
import { claimDoc, singleState } from '../claim/describe.js';
import type { Plan, Read } from '../claim/engine.js';
import { readToken, withToken, type FencingToken } from '../claim/fencing.js';
import { holdersText, nextLapse, rulesOf } from '../claim/judge.js';
import { listRecords } from '../claim/list.js';
import { corruptRecord, decodeClaim, parseRecord, secondsField, type Claim, type ClaimContext, type ClaimKind, type RecordObject } from '../claim/model.js';

/**
 * A mutex: one holder at a time (konductor's Mutex, without its operator). Record (docs/formats.md):
 * `{"ttlSeconds":300,"holder":{claim}|null,"fencingToken":"8123"}`; `ttlSeconds` is the mutex's default
 * lock TTL (`mutex create --ttl`, konductor's spec.ttl); `fencingToken` is the current (or last)
 * holder's token (core/claim/fencing.ts: strictly increasing across holders, also across a delete
 * and re-create), null before the first hold.
 */
export interface MutexState {
  ttlSeconds?: number;
  holder: Claim | null;
  fencingToken: FencingToken | null;
  /** Fields koncli does not know, kept as they were. */
  unknown: Record<string, unknown>;
}

/** konductor's `mutex lock --ttl` default (docs/cli/mutex.md), used when the mutex has no TTL of its own. */
export const MUTEX_DEFAULT_TTL_SECONDS = 300;

export const mutexKind: ClaimKind<MutexState> = {
  kind: 'mutex',
  decode(name, raw) {
    const { ttlSeconds, holder, fencingToken, ...unknown } = parseRecord('mutex', name, raw);
    return {
      ttlSeconds: secondsField('mutex', name, 'ttlSeconds', ttlSeconds),
      holder: holder == null ? null : decodeClaim('mutex', name, holder),
      fencingToken: readToken(fencingToken, () => corruptRecord('mutex', name, 'fencingToken is not a resourceVersion')),
      unknown,
    };
  },
  encode: (s) =>
    JSON.stringify({ ...s.unknown, ...(s.ttlSeconds !== undefined && { ttlSeconds: s.ttlSeconds }), holder: s.holder, fencingToken: s.fencingToken }),
  claims: (s) => (s.holder ? [s.holder] : []),
  without: (s) => ({ ...s, holder: null }),
};

/** A mutex nobody ever held. */
const freeMutex = (ttlSeconds: number | undefined): MutexState => ({
  ...(ttlSeconds !== undefined && { ttlSeconds }),
  holder: null,
  fencingToken: null,
  unknown: {},
});

export interface MutexLockRequest {
  name: string;
  holder: string;
  /** undefined: the mutex's own TTL, else MUTEX_DEFAULT_TTL_SECONDS. */
  ttlSeconds?: number;
  reason?: string;
}

export type MutexOutcome = 'acquired' | 'refreshed';

export interface MutexLocked {
  outcome: MutexOutcome;
  object: RecordObject;
  claim: Claim;
  fencingToken: FencingToken;
  /** Monotonic ms the write was sent: the claim counts from here. */
  sentAt: number;
  /** The previous holder whose claim had lapsed, if any. */
  previousHolder?: string;
}

export const busyMutex = (name: string, read: Read<MutexState>, clock: Clock) =>
  new KoncliError('busy', `mutex ${name} is held by ${holdersText(read.views, read.now, clock.wallNow())}`, {
    holder: read.state?.holder?.holder ?? null,
    rule: rulesOf(read.views),
  });

/** `mutex lock`: take a free or lapsed mutex (creating it when absent), re-stamp one we hold, else blocked. */
export const planMutexLock =
  (req: MutexLockRequest, clock: Clock) =>
  (read: Read<MutexState>): Plan<MutexState, MutexLocked> => {
    const state = read.state ?? freeMutex(undefined);
    const ttl = req.ttlSeconds ?? state.ttlSeconds ?? MUTEX_DEFAULT_TTL_SECONDS;
    const view = read.views[0];
    const mine = state.holder?.holder === req.holder && !view?.expired;
    if (state.holder && !mine && !view?.expired) return { blocked: busyMutex(req.name, read, clock), retryAt: nextLapse(read.views) };
    return withToken(
      read,
      () => state,
      state.fencingToken,
      (next) => {
        const claim = read.stamp(req.holder, ttl, req.reason, mine ? state.holder! : undefined);
        const previousHolder = !mine && state.holder ? state.holder.holder : undefined;
        // A re-lock by the holder keeps its token; a new holder gets the next (core/claim/fencing.ts).
        const fencingToken = mine && state.fencingToken !== null ? state.fencingToken : next;
        return {
          write: { ...state, holder: claim, fencingToken },
          claimed: claim,
          result: (object) => ({ outcome: mine ? 'refreshed' : 'acquired', object, claim, fencingToken, sentAt: read.now, previousHolder }),
        };
      },
    );
  };

export type MutexUnlockOutcome = 'released' | 'already-free' | 'broken';

export interface MutexUnlockRequest {
  name: string;
  /** The mutex's namespace, for messages. */
  namespace: string;
  holder: string;
  /** Break another's hold (recorded as an Event by the caller). */
  force: boolean;
  /** With force: break only while this holder still holds. */
  ifHolder?: string;
}

/**
 * `mutex unlock`: the holder steps down. Releasing a claim already gone (or a mutex that no longer
 * exists) succeeds as `already-free` (issue 22's rule for cleanup after a crash); someone else's
 * live hold is `not-held` (exit 5) unless --force; a --force that breaks nothing is not success.
 */
export const planMutexUnlock =
  (req: MutexUnlockRequest) =>
  (read: Read<MutexState>): Plan<MutexState, { outcome: MutexUnlockOutcome; previousHolder: string | null }> => {
    const current = read.state?.holder ?? null;
    const live = current && !read.views[0]?.expired ? current : null;
    if (req.force) {
      if (!read.state) throw new KoncliError('not-found', `mutex ${req.name} does not exist in namespace ${req.namespace}; nothing to break`);
      // A lapsed claim still in the record is broken too (as a Lease's: the command `koncli status` prints for it works).
      if (!current) throw new KoncliError('not-held', `mutex ${req.name} is not held by anyone; nothing to break`, { holder: null });
      if (req.ifHolder !== undefined && current.holder !== req.ifHolder)
        throw new KoncliError('not-held', `mutex ${req.name} is held by ${current.holder}, not ${req.ifHolder} (--if-holder); nothing broken`, {
          holder: current.holder,
        });
      return { write: { ...read.state, holder: null }, result: () => ({ outcome: 'broken', previousHolder: current.holder }) };
    }
    if (!read.state || !current) return { done: { outcome: 'already-free', previousHolder: null } };
    // Our own lapsed claim: cleared (nobody else took the mutex meanwhile), still already-free.
    if (current.holder === req.holder && !live)
      return { write: { ...read.state, holder: null }, result: () => ({ outcome: 'already-free', previousHolder: null }) };
    if (current.holder !== req.holder) {
      if (!live) return { done: { outcome: 'already-free', previousHolder: null } };
      throw new KoncliError('not-held', `mutex ${req.name} is held by ${current.holder}, not ${req.holder}; nothing to unlock (add --force to break it)`, {
        holder: current.holder,
      });
    }
    return { write: { ...read.state, holder: null }, result: () => ({ outcome: 'released', previousHolder: req.holder }) };
  };

/** `mutex create`: a new mutex with an optional default TTL; an existing one is left as it is. */
export const planMutexCreate = (name: string, ttlSeconds: number | undefined) => planCreate<MutexState>('mutex', name, ttlSeconds, () => freeMutex(ttlSeconds));

/** A mutex in the shared `--json` vocabulary (also `koncli status`'s row for it). */
export function describeMutex(read: Read<MutexState>, clock: Clock) {
  const view = read.views[0];
  const doc = view ? claimDoc(view, clock) : undefined;
  return {
    kind: 'mutex',
    namespace: read.obj?.namespace ?? null,
    name: read.obj?.name ?? null,
    state: singleState(view),
    holder: doc?.holder ?? null,
    acquiredAt: doc?.acquiredAt ?? null,
    reason: doc?.reason ?? null,
    ttlSeconds: doc?.ttlSeconds ?? read.state?.ttlSeconds ?? null,
    expiresAt: doc?.expiresAt ?? null,
    fencingToken: view && !view.expired ? read.state!.fencingToken : null,
    resourceVersion: read.obj?.version ?? null,
  };
}

/** Why a `mutex run` holder's claim is no longer its own (the keeper's test), or undefined while it is. */
export function mutexLost(name: string, holder: string, state: MutexState | null): string | undefined {
  if (!state) return `mutex ${name} was deleted`;
  if (state.holder?.holder !== holder) return `mutex ${name} is now held by ${state.holder?.holder ?? 'nobody (unlocked by someone else)'}`;
  return undefined;
}

/** The holder's renewal (`mutex run`'s keeper): re-stamps its claim; `lost` when it no longer holds the mutex. */
export const planMutexRenew =
  (name: string, holder: string, ttlSeconds: number) =>
  (read: Read<MutexState>): Plan<MutexState, RecordObject> => {
    const why = mutexLost(name, holder, read.state ?? null);
    if (why !== undefined) throw new KoncliError('lost', why);
    return { write: { ...read.state!, holder: read.stamp(holder, ttlSeconds, read.state!.holder!.reason, read.state!.holder!) }, result: (o) => o };
  };

/** Every mutex of the context's namespace in the shared vocabulary (`mutex list`, `koncli status`). */
export const listMutexes = (ctx: ClaimContext) => listRecords(ctx, mutexKind, (read) => describeMutex(read, ctx.clock));
