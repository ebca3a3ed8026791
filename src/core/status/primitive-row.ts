import { wallTimeOf } from '../clock.js';
import { KoncliError } from '../errors.js';
import { withUid } from '../identity.js';
import { judgeClaims } from '../claim/judge.js';
import { decodeClaim, parseRecord, recordAnnotation, type Claim, type ClaimContext, type RecordObject } from '../claim/model.js';
import type { HolderRow, LockRow, LockState } from './model.js';
import { corruptRow } from './rows.js';

/**
 * Every claim in a primitive's record, found by the one shape docs/formats.md gives every entry
 * that names a holder (an object with a string `holder` and a string `acquiredAt`), wherever it
 * sits: a mutex's `holder`, a once's `runner`, the entries of a list or map of claims. So every
 * kind stored as a labelled ConfigMap is listed by `koncli status` without a lister of its own.
 * A completed run (`holder`, `startedAt`, `finishedAt`) is not a claim. Throws `corrupt` when a
 * claim-shaped entry has a field of the wrong type.
 */
export function claimsIn(kind: string, name: string, record: unknown): Claim[] {
  if (Array.isArray(record)) return record.flatMap((v) => claimsIn(kind, name, v));
  if (typeof record !== 'object' || record === null) return [];
  const o = record as Record<string, unknown>;
  if (typeof o.holder === 'string' && typeof o.acquiredAt === 'string') return [decodeClaim(kind, name, o)];
  return Object.values(o).flatMap((v) => claimsIn(kind, name, v));
}

/**
 * The claims of a record split into holders and waiters: a claim under a key named `waiting…` (an
 * rwmutex's `waitingWriters`: docs/formats.md) records a waiter, which holds nothing.
 */
function holdersAndWaiters(kind: string, name: string, record: Record<string, unknown>): { claims: Claim[]; waiting: Claim[] } {
  const waitingKeys = Object.keys(record).filter((k) => /^waiting/.test(k));
  const rest = Object.fromEntries(Object.entries(record).filter(([k]) => !waitingKeys.includes(k)));
  // A waiting entry is stored with `waitingSince` for `acquiredAt` (docs/formats.md).
  const asClaim = (e: unknown) => (typeof e === 'object' && e !== null && 'waitingSince' in e ? { acquiredAt: e.waitingSince, ...e } : e);
  const entries = waitingKeys.flatMap((k) => (Array.isArray(record[k]) ? (record[k] as unknown[]) : [record[k]])).map(asClaim);
  return { claims: claimsIn(kind, name, rest), waiting: claimsIn(kind, name, entries) };
}

const latest = (times: string[]) => (times.length ? times.sort().at(-1)! : null);

/**
 * One koncli primitive (a ConfigMap labelled `koncli.dev/primitive=KIND`, its record in the
 * annotation `koncli.dev/KIND`; or a konductor.io/v1 object, its record as its store reads it) as a LockRow: held while a claim is live, expired when every claim
 * has lapsed (judged by the ExpiryTracker on this machine's clock, as the kind's own verbs judge
 * them), free without claims. A record koncli cannot read is listed as corrupt, never skipped.
 */
export function primitiveRow(obj: RecordObject & { createdAt?: string }, ctx: Pick<ClaimContext, 'clock' | 'tracker'>): LockRow {
  const kind = obj.labelledKind ?? 'primitive';
  const created = obj.createdAt ?? null;
  let claims: Claim[];
  let waiting: Claim[];
  try {
    // A store that could not read the object (a konductor.io object's fields) says why.
    if (obj.unreadable) throw obj.unreadable;
    if (obj.record === undefined) throw new KoncliError('corrupt', `configmap ${obj.name} has no ${recordAnnotation(kind)} annotation`);
    ({ claims, waiting } = holdersAndWaiters(kind, obj.name, parseRecord(kind, obj.name, obj.record)));
  } catch (err) {
    if (!(err instanceof KoncliError)) throw err;
    return corruptRow(kind, obj.namespace, obj.name, err.message, created);
  }
  const now = ctx.clock.now();
  const views = judgeClaims(ctx, withUid(`${obj.namespace}/${obj.name}`, obj), claims, now, obj.writtenAtMost);
  const wallOf = (deadline: number | undefined) => (deadline === undefined ? null : new Date(wallTimeOf(ctx.clock, deadline)).toISOString());
  const holders: HolderRow[] = views.map((v) => ({
    holder: v.claim.holder,
    state: v.expired ? 'expired' : 'held',
    expiresAt: wallOf(v.deadline),
    alive: null,
    aliveReason: null,
  }));
  const live = views.filter((v) => !v.expired);
  const waiters = judgeClaims(ctx, withUid(`${obj.namespace}/${obj.name}`, obj), waiting, now, obj.writtenAtMost).filter((v) => !v.expired).length;
  const state: LockState = live.length ? 'held' : views.length ? 'expired' : 'free';
  // It frees when the last live claim lapses; never, while one lasts until released.
  // Expired: when the last claim lapsed.
  const ends = (state === 'expired' ? views : live).map((v) => v.deadline);
  const expiresAt = state === 'free' || ends.includes(undefined) ? null : wallOf(Math.max(...(ends as number[])));
  return {
    kind,
    namespace: obj.namespace,
    name: obj.name,
    holders,
    state,
    expiresAt,
    ttlSeconds: claims.length === 1 ? (claims[0].ttlSeconds ?? null) : null,
    lastRenewed: latest(claims.map((c) => c.renewedAt ?? c.acquiredAt)),
    waiters,
    createdAt: created,
    alive: null,
    aliveReason: null,
    stuck: false,
    breakCommand: null,
  };
}
