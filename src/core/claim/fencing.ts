import { KoncliError } from '../errors.js';
import type { Plan, Read } from './engine.js';

/**
 * Fencing tokens of the primitives (mutex, rwmutex, once; docs/formats.md): the resourceVersion of
 * the object on which the granting write was decided, i.e. the version that write is guarded on
 * (known before the write, so it is recorded in the same write). It strictly increases across
 * holders, also across a delete and re-create of the object: resourceVersions are etcd revisions
 * (as a Lease's token, docs/lease.md), a grant guarded on version R succeeds only while no write
 * came after R, so the previous grant's write (itself after its own R') lies at or before R; and
 * a re-created object's versions come after everything the deleted one had. A decimal string,
 * compared as an integer of any size (or by length, then digits). A token is never below the
 * record's last one plus one (`nextToken`), whatever that record held.
 */
export type FencingToken = string;

/**
 * A record's `fencingToken`: a resourceVersion (decimal string); null or absent when nobody ever
 * held it. A whole number is a counter written before tokens were resourceVersions; read as its
 * decimal string it stays below every later token (the object's version is above the number of
 * grants it ever had). Anything else: `bad()` is thrown.
 */
export function readToken(v: unknown, bad: () => Error): FencingToken | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' && /^\d{1,40}$/.test(v)) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  throw bad();
}

/**
 * The token of a grant guarded on `version`: the version itself, or — when the record's `last`
 * token is not below it (a counter or a token written by hand) — one above `last`, so that tokens
 * grow within an object's life whatever it held.
 */
export function nextToken(version: string, last: FencingToken | null): FencingToken {
  if (!/^\d+$/.test(version))
    throw new KoncliError(
      'error',
      `cannot hand out a fencing token: the resourceVersion "${version}" is not a number (fencing tokens need an etcd-backed API server)`,
    );
  if (last === null || BigInt(version) > BigInt(last)) return version;
  return String(BigInt(last) + 1n);
}

/**
 * A grant that hands out a fencing token (`last`: the record's latest): on an object that does
 * not exist yet, `fresh()` (holding nothing) is created first and the verb decided again on it, so
 * that every grant is an update guarded on a version; otherwise `grant(token)`.
 */
export function withToken<S, R>(read: Read<S>, fresh: () => S, last: FencingToken | null, grant: (token: FencingToken) => Plan<S, R>): Plan<S, R> {
  if (!read.obj) return { write: fresh(), again: true };
  return grant(nextToken(read.obj.version, last));
}
