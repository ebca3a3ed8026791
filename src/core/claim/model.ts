import type { Clock } from '../clock.js';
import { KoncliError } from '../errors.js';
import { ExpiryTracker, type ExpiryOptions } from '../expiry.js';
import type { ObjectIdentity } from '../identity.js';
import type { ServerClock } from '../server-clock.js';
import type { Versioned, Watchable } from '../store.js';

/**
 * One stored object holding one primitive's record (docs/formats.md): for the default storage a
 * ConfigMap named after the primitive, with the record in the annotation `koncli.dev/<kind>`.
 */
export interface RecordObject extends Versioned, ObjectIdentity {
  name: string;
  namespace: string;
  /** This kind's record as stored (JSON text); undefined when the object carries none. */
  record: string | undefined;
  /**
   * Upper bound (server clock, ms since the epoch) of the record's last write, from the object's
   * managedFields; undefined when the server recorded none. Every claim in the record was written
   * then or earlier, so it bounds each claim's last write (core/expiry.ts's server stamp).
   */
  writtenAtMost?: number;
  /** The koncli primitive kind the object is labelled as (`koncli.dev/primitive`), if any. */
  labelledKind?: string;
  /** Why a store could not read the object's data into a record (`corrupt`): every verb refuses it. */
  unreadable?: KoncliError;
  /** The object as the store read it, for a store whose writes depend on it (kube/konductor-primitive-store.ts). */
  source?: unknown;
}

/** Where one kind's records live; every write is guarded by the object's resourceVersion. */
export interface RecordStore extends Watchable<RecordObject> {
  readonly namespace: string;
  /** The objects' type as named in messages (`ConfigMap`, `mutexes.konductor.io`); ConfigMap when absent. */
  readonly objectType?: string;
  /** Every object labelled as this kind in the namespace (or where the store was opened to list: -A, -l); each names its own namespace. */
  list(): Promise<RecordObject[]>;
  /** Creates the object with `record`; a ConflictError when it already exists. */
  create(name: string, record: string): Promise<RecordObject>;
  /** Replaces only the record, only if the object is still at `obj.version` (ConflictError otherwise). */
  write(obj: RecordObject, record: string): Promise<RecordObject>;
  /** Deletes the object, only if it is still at `obj.version`. */
  delete(obj: RecordObject): Promise<void>;
  recordEvent(obj: RecordObject, reason: string, message: string): Promise<void>;
}

/**
 * One claim inside a record (a mutex's holder, a once's runner, a reader of an rwmutex). Times are
 * RFC 3339; `expiresAt` is an upper bound of the server clock at which the claim lapses, written
 * with `ttlSeconds` (koncli judges expiry on its own clock: docs/clock.md).
 */
export interface Claim {
  holder: string;
  acquiredAt: string;
  renewedAt?: string;
  ttlSeconds?: number;
  expiresAt?: string;
  reason?: string;
}

/**
 * What the engine needs to know of a kind (issue 22's descriptor): how its record is read and
 * written, which claims it holds, and how it is named in messages. The verbs are planners
 * (core/claim/engine.ts) written against the decoded state.
 */
export interface ClaimKind<S> {
  /** The kind as named in commands, labels and `--json` (`mutex`, `once`). */
  kind: string;
  /** Decodes a stored record; throws `corrupt` naming the object and the fix. */
  decode(name: string, raw: string): S;
  encode(state: S): string;
  /** The claims in `state` whose expiry the engine judges. */
  claims(state: S): Claim[];
  /** `state` without `claim` (a claim answered too late to count is given back); absent: the kind's claims are left to lapse. */
  without?(state: S, claim: Claim): S;
}

/** The store of one kind with the clocks and the ExpiryTracker that judge its claims. */
export interface ClaimContext {
  store: RecordStore;
  clock: Clock;
  serverClock: ServerClock;
  tracker: ExpiryTracker;
  /** Runs `fn` with each request bounded by `ms` (a holder's renewals), when the store can. */
  withRequestTimeout?: <T>(ms: number, fn: () => Promise<T>) => Promise<T>;
}

export const claimContext = (store: RecordStore, clock: Clock, serverClock: ServerClock, opts: ExpiryOptions = {}): ClaimContext => ({
  store,
  clock,
  serverClock,
  tracker: new ExpiryTracker(clock, serverClock, opts),
});

/** The annotation and label of the default storage (docs/formats.md). */
export const recordAnnotation = (kind: string) => `koncli.dev/${kind}`;
export const PRIMITIVE_LABEL = 'koncli.dev/primitive';

/** Refuses an object that is not this kind's: another primitive, or an object koncli did not create. */
export function foreignObject(kind: string, obj: RecordObject): KoncliError {
  const what = obj.labelledKind ? `a koncli ${obj.labelledKind}` : 'not a koncli primitive (no koncli.dev/primitive label)';
  return new KoncliError(
    'corrupt',
    `configmap ${obj.name} in namespace ${obj.namespace} is ${what}, not a ${kind}; koncli leaves it alone: choose another name, or delete it if it is stale`,
    { name: obj.name, namespace: obj.namespace },
  );
}

/** Decodes JSON text into an object or throws `corrupt`: the common first step of every kind's decode. */
export function parseRecord(kind: string, name: string, raw: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw corruptRecord(kind, name, 'it is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw corruptRecord(kind, name, 'it is not a JSON object');
  return parsed as Record<string, unknown>;
}

export const corruptRecord = (kind: string, name: string, why: string) =>
  new KoncliError(
    'corrupt',
    `the ${recordAnnotation(kind)} annotation of configmap ${name} cannot be read (${why}); koncli will not overwrite it: fix or delete it (kubectl delete configmap ${name})`,
    { name },
  );

/** Reads a claim entry strictly: a wrong field type is corrupt data. */
export function decodeClaim(kind: string, name: string, v: unknown): Claim {
  const c = v as Record<string, unknown>;
  const bad = (field: string) => corruptRecord(kind, name, `claim field ${field} has the wrong type`);
  if (typeof c !== 'object' || c === null) throw bad('(entry)');
  if (typeof c.holder !== 'string' || c.holder === '') throw bad('holder');
  if (typeof c.acquiredAt !== 'string') throw bad('acquiredAt');
  for (const f of ['renewedAt', 'expiresAt', 'reason'] as const) if (c[f] !== undefined && typeof c[f] !== 'string') throw bad(f);
  if (c.ttlSeconds !== undefined && !(typeof c.ttlSeconds === 'number' && c.ttlSeconds > 0 && Number.isFinite(c.ttlSeconds))) throw bad('ttlSeconds');
  if ((c.ttlSeconds === undefined) !== (c.expiresAt === undefined)) throw bad('ttlSeconds/expiresAt (one without the other)');
  return c as unknown as Claim;
}

/** A record's whole-number field (≥ 0), `fallback` when absent; anything else is corrupt. */
export function wholeField(kind: string, name: string, field: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw corruptRecord(kind, name, `${field} is not a whole number`);
  return v;
}

/** A record's optional positive number of seconds (a TTL); anything else is corrupt. */
export function secondsField(kind: string, name: string, field: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw corruptRecord(kind, name, `${field} is not a positive number of seconds`);
  return v;
}
