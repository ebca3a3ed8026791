import type { Clock } from '../clock.js';
import { KoncliError, usageError } from '../errors.js';
import { claimDoc, type ClaimDoc } from '../claim/describe.js';
import type { Plan, Read } from '../claim/engine.js';
import { holdersText, nextLapse, rulesOf, type ClaimView } from '../claim/judge.js';
import { decodeClaim, parseRecord, secondsField, type Claim, type ClaimKind, type RecordObject } from '../claim/model.js';

/**
 * A permit another client holds that koncli's record does not name (konductor's own `semaphore
 * acquire` creates a Permit object and nothing else): counted against the permits, never written.
 * `permit` is the name of its Permit object.
 */
export type ForeignPermit = Claim & { permit: string };

/**
 * A counted semaphore kept in one object (konductor's Semaphore, without its operator): at most
 * `permits` live holders. Record (docs/formats.md, "konductor Semaphore"):
 * `{"permits":3,"ttlSeconds":600,"holders":[{claim}],"foreign":[{claim,"permit":"…"}]}`.
 * `holders` is koncli's record, changed only by resourceVersion-guarded writes of the one object,
 * so two acquirers deciding on the same read cannot both take the last permit; `foreign` is what
 * the store read beside it (Permits koncli did not write), counted but never written.
 */
export interface PermitsState {
  permits: number;
  /** The semaphore's default permit TTL (konductor's spec.ttl), seconds. */
  ttlSeconds?: number;
  holders: Claim[];
  foreign: ForeignPermit[];
}

/** konductor's `semaphore acquire --ttl` default (its cli/semaphore.go; its docs page says 5m): seconds. */
export const PERMIT_DEFAULT_TTL_SECONDS = 600;

const decodeForeign = (name: string, v: unknown): ForeignPermit => {
  const claim = decodeClaim('semaphore', name, v);
  const permit = (v as { permit?: unknown }).permit;
  if (typeof permit !== 'string' || permit === '') throw new KoncliError('corrupt', `semaphore ${name}: a foreign permit has no Permit name`);
  return { ...claim, permit };
};

const listOf = (name: string, v: unknown): unknown[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new KoncliError('corrupt', `semaphore ${name}: its holders are not a list`);
  return v;
};

export const permitsKind: ClaimKind<PermitsState> = {
  kind: 'semaphore',
  decode(name, raw) {
    const r = parseRecord('semaphore', name, raw);
    const permits = r.permits;
    if (typeof permits !== 'number' || !Number.isSafeInteger(permits) || permits < 1)
      throw new KoncliError('corrupt', `semaphore ${name}: permits is ${JSON.stringify(permits)}, not a whole number ≥ 1`);
    return {
      permits,
      ttlSeconds: secondsField('semaphore', name, 'ttlSeconds', r.ttlSeconds),
      holders: listOf(name, r.holders).map((c) => decodeClaim('semaphore', name, c)),
      foreign: listOf(name, r.foreign).map((c) => decodeForeign(name, c)),
    };
  },
  encode: (s) =>
    JSON.stringify({ permits: s.permits, ...(s.ttlSeconds !== undefined && { ttlSeconds: s.ttlSeconds }), holders: s.holders, foreign: s.foreign }),
  claims: (s) => [...s.holders, ...s.foreign],
  // A permit answered too late to count is given back (the engine's send-time rule, docs/clock.md).
  without: (s, claim) => ({ ...s, holders: s.holders.filter((c) => !(c.holder === claim.holder && c.acquiredAt === claim.acquiredAt)) }),
};

/** The judged views of koncli's holders and of the foreign permits (read.views is in `claims` order). */
function split(read: Read<PermitsState>): { mine: ClaimView[]; foreign: ClaimView[] } {
  const n = read.state?.holders.length ?? 0;
  return { mine: read.views.slice(0, n), foreign: read.views.slice(n) };
}

const live = (views: ClaimView[]) => views.filter((v) => !v.expired);

export interface PermitAcquireRequest {
  name: string;
  namespace: string;
  holder: string;
  /** undefined: the semaphore's spec.ttl, else PERMIT_DEFAULT_TTL_SECONDS. */
  ttlSeconds?: number;
  reason?: string;
  /** Create the semaphore with this many permits when it does not exist (`semaphore lock --create`). */
  createWith?: number;
  /** --max (--permits) given: it must match spec.permits (exit 2 otherwise). */
  max?: number;
}

export interface PermitAcquired {
  outcome: 'acquired' | 'refreshed';
  object: RecordObject;
  claim: Claim;
  /** Monotonic ms the write was sent: the permit counts from here (docs/clock.md). */
  sentAt: number;
  state: PermitsState;
  /** koncli holders whose lapsed claims this write removed (their Permit mirrors are stale). */
  pruned: string[];
  created: boolean;
}

export const busyPermits = (name: string, read: Read<PermitsState>, clock: Clock) => {
  const holders = live(read.views).map((v) => v.claim.holder);
  return new KoncliError(
    'busy',
    `semaphore ${name} has no free permit (${holders.length}/${read.state!.permits} in use): held by ${holdersText(read.views, read.now, clock.wallNow())}`,
    { holders, rule: rulesOf(read.views) },
  );
};

export const missingSemaphore = (name: string, namespace: string) =>
  new KoncliError(
    'not-found',
    `semaphore ${name} does not exist in namespace ${namespace} (semaphores.konductor.io); create it: koncli semaphore create ${name} --permits N --kind konductor`,
  );

/**
 * `semaphore acquire|lock --kind konductor`: a holder with a live permit re-stamps it (refreshed);
 * otherwise a permit is taken only while the live holders (koncli's and the foreign permits) are
 * fewer than `permits`, lapsed koncli holders being removed in the same write; else blocked.
 */
export const planPermitAcquire =
  (req: PermitAcquireRequest, clock: Clock) =>
  (read: Read<PermitsState>): Plan<PermitsState, PermitAcquired> => {
    if (!read.state) {
      if (req.createWith === undefined) throw missingSemaphore(req.name, req.namespace);
      const claim = read.stamp(req.holder, req.ttlSeconds ?? PERMIT_DEFAULT_TTL_SECONDS, req.reason);
      const state: PermitsState = { permits: req.createWith, holders: [claim], foreign: [] };
      return { write: state, claimed: claim, result: (object) => ({ outcome: 'acquired', object, claim, sentAt: read.now, state, pruned: [], created: true }) };
    }
    const s = read.state;
    if (req.max !== undefined && req.max !== s.permits)
      throw usageError(`semaphore ${req.name} has ${s.permits} permits, not ${req.max} (--max/--permits); drop the flag, or edit its spec.permits`);
    const { mine, foreign } = split(read);
    const kept = live(mine);
    const own = kept.find((v) => v.claim.holder === req.holder)?.claim;
    if (!own && kept.length + live(foreign).length >= s.permits) return { blocked: busyPermits(req.name, read, clock), retryAt: nextLapse(read.views) };
    const claim = read.stamp(req.holder, req.ttlSeconds ?? s.ttlSeconds ?? PERMIT_DEFAULT_TTL_SECONDS, req.reason ?? own?.reason, own);
    const holders = [...kept.map((v) => v.claim).filter((c) => c.holder !== req.holder), claim];
    const pruned = mine.filter((v) => v.expired && v.claim.holder !== req.holder).map((v) => v.claim.holder);
    const state = { ...s, holders };
    return {
      write: state,
      claimed: claim,
      result: (object) => ({ outcome: own ? 'refreshed' : 'acquired', object, claim, sentAt: read.now, state, pruned, created: false }),
    };
  };

export interface PermitReleaseRequest {
  name: string;
  namespace: string;
  holder: string;
  force: boolean;
  /** With force: remove exactly these holders, only while each still holds a permit. */
  ifHolder?: string[];
}

export interface PermitReleased {
  outcome: 'released' | 'already-free' | 'broken';
  /** koncli holders removed from the record. */
  removed: string[];
  /** Foreign Permit objects to delete (each guarded by its own resourceVersion): the holder's own, or those --force names. */
  foreignPermits: string[];
  state: PermitsState | null;
}

/**
 * `semaphore release|unlock --kind konductor`: removes the holder's permit. A permit already gone
 * (lapsed, removed, the semaphore deleted) is `already-free` (issue 22's rule); a permit the holder
 * got from konductor's own client is its Permit object, deleted by the caller. With --force the
 * named holders (--if-holder, else --holder) are removed only while every one holds a live permit.
 */
export const planPermitRelease =
  (req: PermitReleaseRequest) =>
  (read: Read<PermitsState>): Plan<PermitsState, PermitReleased> => {
    const s = read.state;
    if (!s) {
      if (req.force) throw new KoncliError('not-found', `semaphore ${req.name} does not exist in namespace ${req.namespace}; nothing to break`);
      return { done: { outcome: 'already-free', removed: [], foreignPermits: [], state: null } };
    }
    const { mine, foreign } = split(read);
    const names = req.force ? (req.ifHolder ?? [req.holder]) : [req.holder];
    const liveMine = live(mine).filter((v) => names.includes(v.claim.holder));
    const liveForeign = live(foreign).filter((v) => names.includes(v.claim.holder));
    const holding = new Set([...liveMine, ...liveForeign].map((v) => v.claim.holder));
    if (req.force) {
      const missing = names.filter((h) => !holding.has(h));
      if (missing.length > 0)
        throw new KoncliError('not-held', `${missing.join(', ')} holds no permit of semaphore ${req.name}; nothing broken`, {
          holders: live(read.views).map((v) => v.claim.holder),
        });
    }
    // The holder's own lapsed claim goes too (nobody may count it any more).
    const removed = mine.filter((v) => names.includes(v.claim.holder)).map((v) => v.claim.holder);
    const foreignPermits = liveForeign.map((v) => (v.claim as ForeignPermit).permit);
    const outcome = holding.size === 0 ? 'already-free' : req.force ? 'broken' : 'released';
    const state = { ...s, holders: s.holders.filter((c) => !removed.includes(c.holder)) };
    const result = { outcome, removed: liveMine.map((v) => v.claim.holder), foreignPermits } as const;
    if (removed.length === 0) return { done: { ...result, state: s } };
    return { write: state, result: () => ({ ...result, state }) };
  };

/** `semaphore create --kind konductor`: a new Semaphore; an existing one with the same settings is left as it is, other settings refused (exit 2). */
export const planPermitsCreate =
  (name: string, permits: number, ttlSeconds: number | undefined) =>
  (read: Read<PermitsState>): Plan<PermitsState, { outcome: 'created' | 'exists'; object: RecordObject }> => {
    if (!read.obj || !read.state) return { write: { permits, ttlSeconds, holders: [], foreign: [] }, result: (object) => ({ outcome: 'created', object }) };
    const has = read.state;
    if (has.permits !== permits || (ttlSeconds !== undefined && has.ttlSeconds !== ttlSeconds))
      throw usageError(
        `semaphore ${name} already exists with ${has.permits} permits${has.ttlSeconds === undefined ? '' : ` and a TTL of ${has.ttlSeconds}s`}; delete it first (or edit its spec) to change them`,
      );
    return { done: { outcome: 'exists', object: read.obj } };
  };

/** Why `semaphore delete` without --force refuses: someone holds a live permit. */
export const permitsInUse = (name: string) => (read: Read<PermitsState>) =>
  live(read.views).length === 0
    ? undefined
    : new KoncliError('busy', `semaphore ${name} has ${live(read.views).length} permits in use`, { holders: live(read.views).map((v) => v.claim.holder) });

export interface PermitHolderDoc extends ClaimDoc {
  /** `koncli`: in the Semaphore's record; `permit`: a Permit object another client made (its name). */
  source: 'koncli' | 'permit';
  permit: string | null;
}

/** A konductor semaphore in the shared `--json` vocabulary (`semaphore status|list --kind konductor`). */
export function describePermits(read: Read<PermitsState>, clock: Clock) {
  const { mine, foreign } = split(read);
  const holders: PermitHolderDoc[] = [
    ...mine.map((v) => ({ ...claimDoc(v, clock), source: 'koncli' as const, permit: null })),
    ...foreign.map((v) => ({ ...claimDoc(v, clock), source: 'permit' as const, permit: (v.claim as ForeignPermit).permit })),
  ];
  const inUse = live(read.views).length;
  const permits = read.state?.permits ?? 0;
  return {
    kind: 'semaphore',
    storage: 'konductor',
    namespace: read.obj?.namespace ?? null,
    name: read.obj?.name ?? null,
    state: inUse === 0 ? 'free' : 'held',
    permits,
    max: permits,
    inUse,
    free: Math.max(0, permits - inUse),
    ttlSeconds: read.state?.ttlSeconds ?? null,
    holders,
    resourceVersion: read.obj?.version ?? null,
  };
}

/** Why a `semaphore run` holder's permit is no longer its own (the keeper's test), or undefined while it is. */
export function permitLost(name: string, holder: string, state: PermitsState | null): string | undefined {
  if (!state) return `semaphore ${name} was deleted`;
  if (!state.holders.some((c) => c.holder === holder)) return `the permit of ${holder} was removed from semaphore ${name}`;
  return undefined;
}

/** The holder's renewal (`semaphore run`'s keeper): re-stamps its permit; `lost` when it no longer holds one. */
export const planPermitRenew =
  (name: string, holder: string, ttlSeconds: number) =>
  (read: Read<PermitsState>): Plan<PermitsState, RecordObject> => {
    const why = permitLost(name, holder, read.state ?? null);
    if (why !== undefined) throw new KoncliError('lost', why);
    const s = read.state!;
    const holders = s.holders.map((c) => (c.holder === holder ? read.stamp(holder, ttlSeconds, c.reason, c) : c));
    return { write: { ...s, holders }, result: (o) => o };
  };
