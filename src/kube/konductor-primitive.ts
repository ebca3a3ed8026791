import { formatGoDuration, parseGoDuration } from '../core/duration.js';
import { readToken, type FencingToken } from '../core/claim/fencing.js';
import type { Claim } from '../core/claim/model.js';
import type { MutexState } from '../core/primitives/mutex.js';
import type { OnceRun, OnceState } from '../core/primitives/once.js';
import { absent, isObject, stanza, ttlSeconds, type KonductorType, type Obj, type Reader } from './konductor-lease.js';

/**
 * How one konductor.io/v1 primitive (konductor's api/v1/*_types.go and docs/api/*.md) maps onto the
 * claim engine's record (core/primitives/*.ts): the engine is unchanged, the store translates.
 * konductor's own fields keep their meaning; what konductor has no field for (a claim's own TTL,
 * its renewal time, the fencing token, a once's runner) is koncli's extra status fields, which the
 * CRD `koncli crd install` ships keeps (x-kubernetes-preserve-unknown-fields).
 */
export interface KonductorShape {
  /** The engine's kind (`mutex`, `once`). */
  kind: string;
  type: KonductorType & { group: string; version: string; plural: string };
  /** The engine's record (JSON text) from the object; throws `corrupt` through `read`. */
  toRecord(obj: unknown, read: Reader): string;
  /** Merge-patch bodies for an engine record: the spec (undefined when unchanged) and the status. */
  toObject(record: string, before: { spec: Obj; status: Obj }): { spec?: Obj; status: Obj };
}

export const konductorType = (kind: string, plural: string) => ({
  kind,
  plural,
  group: 'konductor.io',
  version: 'v1',
  apiVersion: 'konductor.io/v1',
  resource: `${plural}.konductor.io`,
});

/** koncli's status.fencingToken (core/claim/fencing.ts): a resourceVersion, null when absent. */
const tokenIn = (status: Obj, read: Reader): FencingToken | null =>
  readToken(status.fencingToken, () => read.corrupt('status.fencingToken', status.fencingToken, 'a resourceVersion such as "8123"'));

/** spec.ttl in whole seconds (rounded up), undefined when absent; anything but a Go duration is corrupt. */
function specTtl(spec: Obj, read: Reader): number | undefined {
  const ttl = read.string(spec, 'spec', 'ttl');
  if (ttl === undefined) return undefined;
  if (parseGoDuration(ttl) === undefined) throw read.corrupt('spec.ttl', ttl, 'a Go duration such as "10m"');
  return ttlSeconds(spec);
}

/** The spec patch when the record's TTL differs from the object's (only `create` sets it). */
export const specFor = (ttl: number | undefined, before: Obj): Obj | undefined =>
  ttlSeconds(before) === ttl ? undefined : { ttl: ttl === undefined ? null : formatGoDuration(ttl) };

/**
 * A claim kept in `o` (the mutex's status, or a once's status.runner). A konductor writer keeps no
 * TTL of the claim's own: it is spec.ttl, and without one the claim never lapses (konductor's rule).
 * The claim counts from its renewal (koncli's renewedAt), else its acquisition.
 */
function claimIn(read: Reader, o: Obj, at: string, keys: { holder: string; acquired: string }, specTtlSeconds: number | undefined): Claim | null {
  const holder = read.string(o, at, keys.holder);
  if (!holder) return null;
  const acquiredAt = read.time(o, at, keys.acquired);
  if (acquiredAt === undefined) throw read.corrupt(`${at}.${keys.acquired}`, o[keys.acquired], `a time (${at}.${keys.holder} is set)`);
  const renewedAt = read.time(o, at, 'renewedAt');
  const own = o.ttlSeconds;
  if (!absent(own) && !(typeof own === 'number' && own > 0 && Number.isFinite(own))) throw read.corrupt(`${at}.ttlSeconds`, own, 'a positive number');
  const since = Date.parse(renewedAt ?? acquiredAt);
  let ttl = (own as number | undefined) ?? specTtlSeconds;
  let expiresAt = read.time(o, at, 'expiresAt');
  if (ttl === undefined && expiresAt !== undefined) ttl = Math.max(1, Math.ceil((Date.parse(expiresAt) - since) / 1000));
  if (ttl !== undefined && expiresAt === undefined) expiresAt = new Date(since + ttl * 1000).toISOString();
  const reason = read.string(o, at, 'reason');
  return { holder, acquiredAt, ...(renewedAt && { renewedAt }), ...(ttl !== undefined && { ttlSeconds: ttl, expiresAt }), ...(reason && { reason }) };
}

/** The status (absent is {}, anything but an object is corrupt) and spec.ttl of an object, its phase checked against `phases`. */
export function basics(obj: unknown, read: Reader, phases: string[]): { status: Obj; ttl: number | undefined } {
  const raw = isObject(obj) ? obj.status : undefined;
  if (!absent(raw) && !isObject(raw)) throw read.corrupt('status', raw, 'an object');
  const status = stanza(obj, 'status');
  const ttl = specTtl(stanza(obj, 'spec'), read);
  const phase = read.string(status, 'status', 'phase');
  if (phase !== undefined && phase !== '' && !phases.includes(phase)) throw read.corrupt('status.phase', phase, `${phases.join(', ')} or absent`);
  return { status, ttl };
}

/** `after` as a merge patch that replaces the object `before` (keys it lacks are removed), or null. */
function replacing(before: unknown, after: object | null): Obj | null {
  if (after === null) return null;
  const patch: Obj = { ...after };
  if (isObject(before)) for (const k of Object.keys(before)) if (!(k in patch)) patch[k] = null;
  return patch;
}

/**
 * konductor's Mutex: spec.ttl; status.holder, lockedAt, expiresAt, phase (Unlocked, Locked). koncli
 * adds status.renewedAt, ttlSeconds, reason and fencingToken.
 */
export const MUTEX_SHAPE: KonductorShape = {
  kind: 'mutex',
  type: konductorType('Mutex', 'mutexes'),
  toRecord(obj, read) {
    const { status, ttl } = basics(obj, read, ['Unlocked', 'Locked']);
    const holder = claimIn(read, status, 'status', { holder: 'holder', acquired: 'lockedAt' }, ttl);
    return JSON.stringify({ ...(ttl !== undefined && { ttlSeconds: ttl }), holder, fencingToken: tokenIn(status, read) });
  },
  toObject(record, before) {
    const r = JSON.parse(record) as Omit<MutexState, 'unknown'>;
    const c = r.holder;
    const status = {
      holder: c?.holder ?? null,
      lockedAt: c?.acquiredAt ?? null,
      renewedAt: c?.renewedAt ?? null,
      ttlSeconds: c?.ttlSeconds ?? null,
      expiresAt: c?.expiresAt ?? null,
      reason: c?.reason ?? null,
      phase: c ? 'Locked' : 'Unlocked',
      fencingToken: r.fencingToken,
    };
    return { spec: specFor(r.ttlSeconds, before.spec), status };
  },
};

/** A once's record as core/primitives/once.ts encodes it. */
type OnceRecord = Omit<OnceState, 'unknown'>;

/** A once's done run from konductor's fields (executed, executor, executedAt) and koncli's (startedAt, exitCode, expiresAt). */
function doneRun(obj: unknown, status: Obj, read: Reader, ttl: number | undefined): OnceRun | null {
  const executed = status.executed;
  if (!absent(executed) && typeof executed !== 'boolean') throw read.corrupt('status.executed', executed, 'true or false');
  if (executed !== true) return null;
  // A once marked executed by hand or by konductor may carry no time: it counts from its creation.
  const finishedAt = read.time(status, 'status', 'executedAt') ?? read.time(stanza(obj, 'metadata'), 'metadata', 'creationTimestamp') ?? '';
  const exitCode = status.exitCode ?? 0;
  if (!Number.isSafeInteger(exitCode)) throw read.corrupt('status.exitCode', exitCode, 'an integer');
  let expiresAt = read.time(status, 'status', 'expiresAt');
  if (expiresAt === undefined && ttl !== undefined && finishedAt) expiresAt = new Date(Date.parse(finishedAt) + ttl * 1000).toISOString();
  return {
    holder: read.string(status, 'status', 'executor') ?? '',
    startedAt: read.time(status, 'status', 'startedAt') ?? finishedAt,
    finishedAt,
    exitCode: exitCode as number,
    ...(expiresAt !== undefined && { expiresAt }),
  };
}

/**
 * konductor's Once: spec.ttl; status.executed, executor, executedAt, phase (Pending, Executed).
 * koncli adds status.runner (the claim of the caller running it now), startedAt, exitCode and
 * expiresAt (of the done run), attempts, lastFailure and fencingToken.
 */
export const ONCE_SHAPE: KonductorShape = {
  kind: 'once',
  type: konductorType('Once', 'onces'),
  toRecord(obj, read) {
    const { status, ttl } = basics(obj, read, ['Pending', 'Executed']);
    const runnerObj = status.runner;
    if (!absent(runnerObj) && !isObject(runnerObj)) throw read.corrupt('status.runner', runnerObj, 'an object');
    const runner = isObject(runnerObj) ? claimIn(read, runnerObj, 'status.runner', { holder: 'holder', acquired: 'acquiredAt' }, undefined) : null;
    const lastFailure = status.lastFailure;
    if (!absent(lastFailure) && !isObject(lastFailure)) throw read.corrupt('status.lastFailure', lastFailure, 'an object');
    const record: OnceRecord = {
      ...(ttl !== undefined && { ttlSeconds: ttl }),
      runner,
      done: doneRun(obj, status, read, ttl),
      attempts: read.count(status, 'status', 'attempts'),
      lastFailure: (lastFailure as OnceRun | undefined) ?? null,
      fencingToken: tokenIn(status, read),
    };
    return JSON.stringify(record);
  },
  toObject(record, before) {
    const r = JSON.parse(record) as OnceRecord;
    const done = r.done;
    const status = {
      executed: done !== null,
      executor: done?.holder ?? null,
      executedAt: done?.finishedAt ?? null,
      startedAt: done?.startedAt ?? null,
      exitCode: done?.exitCode ?? null,
      expiresAt: done?.expiresAt ?? null,
      phase: done ? 'Executed' : 'Pending',
      runner: replacing(before.status.runner, r.runner),
      attempts: r.attempts,
      lastFailure: replacing(before.status.lastFailure, r.lastFailure),
      fencingToken: r.fencingToken,
    };
    return { spec: specFor(r.ttlSeconds, before.spec), status };
  },
};

interface RWMutexRecord {
  ttlSeconds?: number;
  writer: Claim | null;
  readers: Claim[];
  waitingWriters: Obj[];
  fencingToken: FencingToken | null;
}

/** koncli's list of claims or entries at status.`key`: absent is [], anything but a list of objects is corrupt. */
function objectList(read: Reader, status: Obj, key: string): Obj[] {
  const v = status[key];
  if (absent(v)) return [];
  if (!Array.isArray(v) || !v.every(isObject)) throw read.corrupt(`status.${key}`, v, 'a list of objects');
  return v;
}

const WHOLE_STATUS = { holder: 'holder', acquired: 'acquiredAt' };

/**
 * The holders of a konductor RWMutex: konductor's writeHolder and readHolders say who holds it;
 * koncli's claim of the same holder (status.writer, status.readers) gives its times, else the
 * claim is konductor's (from lockedAt, for spec.ttl).
 */
function rwHolders(read: Reader, status: Obj, ttl: number | undefined): { writer: Claim | null; readers: Claim[] } {
  const konductorClaim = (holder: string) => claimIn(read, { ...status, holder }, 'status', { holder: 'holder', acquired: 'lockedAt' }, ttl)!;
  const writeHolder = read.string(status, 'status', 'writeHolder');
  const writerObj = status.writer;
  if (!absent(writerObj) && !isObject(writerObj)) throw read.corrupt('status.writer', writerObj, 'an object');
  const mineW = isObject(writerObj) ? claimIn(read, writerObj, 'status.writer', WHOLE_STATUS, undefined) : null;
  const readHolders = status.readHolders;
  if (!absent(readHolders) && !(Array.isArray(readHolders) && readHolders.every((h) => typeof h === 'string' && h !== ''))) {
    throw read.corrupt('status.readHolders', readHolders, 'a list of holder names');
  }
  const mineR = objectList(read, status, 'readers').map((c) => claimIn(read, c, 'status.readers', WHOLE_STATUS, undefined)!);
  return {
    writer: !writeHolder ? null : mineW?.holder === writeHolder ? mineW : konductorClaim(writeHolder),
    readers: ((readHolders as string[] | undefined) ?? []).map((h) => mineR.find((c) => c.holder === h) ?? konductorClaim(h)),
  };
}

/**
 * konductor's RWMutex: spec.ttl; status.writeHolder, readHolders, lockedAt, expiresAt, phase
 * (Unlocked, ReadLocked, WriteLocked). koncli adds status.writer and status.readers (the holders'
 * claims), waitingWriters (writer preference: core/primitives/rwmutex.ts) and fencingToken.
 */
export const RWMUTEX_SHAPE: KonductorShape = {
  kind: 'rwmutex',
  type: konductorType('RWMutex', 'rwmutexes'),
  toRecord(obj, read) {
    const { status, ttl } = basics(obj, read, ['Unlocked', 'ReadLocked', 'WriteLocked']);
    const record: RWMutexRecord = {
      ...(ttl !== undefined && { ttlSeconds: ttl }),
      ...rwHolders(read, status, ttl),
      waitingWriters: objectList(read, status, 'waitingWriters'),
      fencingToken: tokenIn(status, read),
    };
    return JSON.stringify(record);
  },
  toObject(record, before) {
    const r = JSON.parse(record) as RWMutexRecord;
    const holders = r.writer ? [r.writer] : r.readers;
    const times = (f: (c: Claim) => string | undefined) =>
      holders
        .map(f)
        .filter((t): t is string => t !== undefined)
        .sort();
    const status = {
      writeHolder: r.writer?.holder ?? null,
      readHolders: r.readers.length > 0 ? r.readers.map((c) => c.holder) : null,
      lockedAt: times((c) => c.acquiredAt)[0] ?? null,
      expiresAt: times((c) => c.expiresAt).at(-1) ?? null,
      phase: r.writer ? 'WriteLocked' : r.readers.length > 0 ? 'ReadLocked' : 'Unlocked',
      writer: replacing(before.status.writer, r.writer),
      readers: r.readers,
      waitingWriters: r.waitingWriters,
      fencingToken: r.fencingToken,
    };
    return { spec: specFor(r.ttlSeconds, before.spec), status };
  },
};
