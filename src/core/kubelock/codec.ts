import { KoncliError } from '../errors.js';
import { keyProblem } from '../json-keys.js';

/**
 * The on-cluster format of giantswarm/kubelock (v4): annotation `kubelock.giantswarm.io/<lock>`
 * whose value is Go's JSON of `{owner string; createdAt time.Time; ttl time.Duration}`, i.e.
 * `{"owner":"…","createdAt":"<RFC 3339, UTC>","ttl":<nanoseconds>}`.
 */
export const LOCK_ANNOTATION_PREFIX = 'kubelock.giantswarm.io/';

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

/** giantswarm/kubelock's DefaultTTL: 5 minutes. */
export const DEFAULT_TTL_NS = 300n * NS_PER_S;

export interface LockData {
  owner: string;
  /** The owner's own timestamp (nanoseconds since the epoch): shown to people, never used for expiry. */
  createdAtNs?: bigint;
  /** createdAt exactly as found on the object ('' when absent). */
  createdAt: string;
  ttlNs: bigint;
}

export const lockAnnotationKey = (lock: string) => LOCK_ANNOTATION_PREFIX + lock;

export function lockNameOf(annotationKey: string): string | undefined {
  return annotationKey.startsWith(LOCK_ANNOTATION_PREFIX) ? annotationKey.slice(LOCK_ANNOTATION_PREFIX.length) : undefined;
}

export const msToNs = (ms: number) => BigInt(Math.round(ms)) * NS_PER_MS;

/** A TTL in whole milliseconds, rounded up so a claim is never judged over early. */
export function ttlToMs(ttlNs: bigint): number {
  if (ttlNs <= 0n) return 0;
  const ms = (ttlNs + NS_PER_MS - 1n) / NS_PER_MS;
  return ms > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(ms);
}

/** RFC 3339 in UTC with all nine fractional digits: 2020-03-25T10:00:00.123456789Z. */
export function formatCreatedAt(ns: bigint): string {
  const ms = ns >= 0n ? ns / NS_PER_MS : -((-ns + NS_PER_MS - 1n) / NS_PER_MS);
  const fraction = ((ns % NS_PER_S) + NS_PER_S) % NS_PER_S;
  return new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, `.${fraction.toString().padStart(9, '0')}Z`);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses RFC 3339 (any offset, 0 to 9 fractional digits, as Go writes it) to nanoseconds since the epoch. */
export function parseCreatedAt(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', z, sign, oh, om] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (Number.isNaN(ms) || check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return undefined;
  }
  const offsetMinutes = z ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  return (BigInt(ms) - BigInt(offsetMinutes) * 60_000n) * NS_PER_MS + BigInt(frac.padEnd(9, '0'));
}

/** Escapes as Go's encoding/json does, so koncli writes the bytes the library itself would. */
const goString = (s: string) => JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export function encodeLock(data: { owner: string; createdAtNs: bigint; ttlNs: bigint }): string {
  return `{"owner":${goString(data.owner)},"createdAt":"${formatCreatedAt(data.createdAtNs)}","ttl":${data.ttlNs}}`;
}

/** giantswarm/kubelock's lockData fields. */
const LOCK_FIELDS = ['owner', 'createdAt', 'ttl'];

const corrupt = (key: string, value: string, why: string) =>
  new KoncliError(
    'corrupt',
    `annotation ${key}=${JSON.stringify(value.slice(0, 120))} is not a kubelock record (${why}); fix it, or remove it with --release --force`,
    { annotation: key },
  );

/**
 * Reads a lock record. Missing fields decode as Go would (empty owner, zero time), except a
 * missing ttl, which counts as the default 5 minutes rather than "already expired": koncli errs
 * on the side of exclusion.
 */
export function decodeLock(key: string, value: string): LockData {
  let parsed: unknown;
  try {
    // JSON numbers lose precision past 2^53; read ttl from its source text (nanoseconds are int64).
    parsed = JSON.parse(value, function (this: unknown, k: string, v: unknown, context?: { source?: string }) {
      if (k !== 'ttl' || typeof v !== 'number') return v;
      const source = context?.source ?? (Number.isSafeInteger(v) ? String(v) : '');
      return /^-?\d+$/.test(source) ? BigInt(source) : v;
    } as (k: string, v: unknown) => unknown);
  } catch {
    throw corrupt(key, value, 'not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw corrupt(key, value, 'not a JSON object');
  const keys = keyProblem(value, (path) => (path.length === 0 ? LOCK_FIELDS : undefined));
  if (keys !== undefined) throw corrupt(key, value, `it ${keys}: giantswarm/kubelock's Go decoder would read it otherwise than koncli`);
  const { owner = '', createdAt = '', ttl } = parsed as Record<string, unknown>;
  if (typeof owner !== 'string') throw corrupt(key, value, 'owner is not a string');
  if (typeof createdAt !== 'string') throw corrupt(key, value, 'createdAt is not a string');
  const createdAtNs = createdAt === '' ? undefined : parseCreatedAt(createdAt);
  if (createdAt !== '' && createdAtNs === undefined) throw corrupt(key, value, 'createdAt is not an RFC 3339 time');
  let ttlNs = DEFAULT_TTL_NS;
  if (ttl !== undefined && ttl !== null) {
    if (typeof ttl !== 'bigint') throw corrupt(key, value, 'ttl is not a whole number of nanoseconds');
    ttlNs = ttl;
  }
  return { owner, createdAt, createdAtNs, ttlNs };
}
