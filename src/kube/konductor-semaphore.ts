import { createHash } from 'node:crypto';
import { formatGoDuration, parseGoDuration } from '../core/duration.js';
import type { Claim } from '../core/claim/model.js';
import type { ForeignPermit, PermitsState } from '../core/primitives/permits.js';
import { absent, isObject, Reader, stanza, text, ttlSeconds, type Obj } from './konductor-lease.js';
import { basics, konductorType, type KonductorShape } from './konductor-primitive.js';
import { MANAGED_BY_LABEL } from './lease-store.js';

/** konductor's Permit (api/v1/permit_types.go): spec.semaphore, holder, ttl; status.phase, acquiredAt, expiresAt. */
export const PERMIT_TYPE = konductorType('Permit', 'permits');
/** The label konductor's SDK puts on a Permit and its controller lists them by (sdk/go/semaphore, controllers/semaphore_controller.go). */
export const PERMIT_SEMAPHORE_LABEL = 'semaphore';

/** A claim kept in koncli's status.claims, read strictly (a malformed one is corrupt, never overwritten). */
function claimAt(read: Reader, v: unknown, i: number): Claim {
  const at = `status.claims[${i}]`;
  if (!isObject(v)) throw read.corrupt('status.claims', v, 'a list of claims');
  const holder = read.string(v, at, 'holder');
  const acquiredAt = read.time(v, at, 'acquiredAt');
  if (!holder || acquiredAt === undefined) throw read.corrupt('status.claims', v, 'claims with a holder and an acquiredAt time');
  const renewedAt = read.time(v, at, 'renewedAt');
  const expiresAt = read.time(v, at, 'expiresAt');
  const ttl = v.ttlSeconds;
  if (!absent(ttl) && !(typeof ttl === 'number' && ttl > 0 && Number.isFinite(ttl))) throw read.corrupt('status.claims', v, 'a positive ttlSeconds');
  if (absent(ttl) !== (expiresAt === undefined)) throw read.corrupt('status.claims', v, 'ttlSeconds and expiresAt together');
  const reason = read.string(v, at, 'reason');
  return { holder, acquiredAt, ...(renewedAt && { renewedAt }), ...(!absent(ttl) && { ttlSeconds: ttl, expiresAt }), ...(reason && { reason }) };
}

/**
 * konductor's Semaphore (api/v1/semaphore_types.go, docs/api/semaphore.md): spec.permits, spec.ttl;
 * status.inUse, available, phase (Ready, Full; NotReady and Unavailable accepted), holders (names).
 * koncli keeps its record in status.claims (one claim per holder); the other status fields are
 * written from it for konductor's readers. Foreign Permits are added by the store
 * (kube/konductor-semaphore-store.ts), never written here.
 */
export const SEMAPHORE_SHAPE: KonductorShape = {
  kind: 'semaphore',
  type: konductorType('Semaphore', 'semaphores'),
  toRecord(obj, read) {
    const { status, ttl } = basics(obj, read, ['Ready', 'Full', 'NotReady', 'Unavailable']);
    const permits = stanza(obj, 'spec').permits;
    if (!Number.isSafeInteger(permits) || (permits as number) < 1) throw read.corrupt('spec.permits', permits, 'a whole number ≥ 1');
    const claims = status.claims;
    if (!absent(claims) && !Array.isArray(claims)) throw read.corrupt('status.claims', claims, 'a list of claims');
    const holders = ((claims as unknown[] | undefined) ?? []).map((c, i) => claimAt(read, c, i));
    const state: PermitsState = { permits: permits as number, ...(ttl !== undefined && { ttlSeconds: ttl }), holders, foreign: [] };
    return JSON.stringify(state);
  },
  toObject(record, before) {
    const r = JSON.parse(record) as PermitsState;
    const inUse = r.holders.length + r.foreign.length;
    const available = Math.max(0, r.permits - inUse);
    const status = {
      claims: r.holders,
      holders: [...r.holders, ...r.foreign].map((c) => c.holder),
      inUse,
      available,
      phase: available > 0 ? 'Ready' : 'Full',
    };
    const ttl = r.ttlSeconds === undefined ? null : formatGoDuration(r.ttlSeconds);
    const spec: Obj = {};
    if (before.spec.permits !== r.permits) spec.permits = r.permits;
    if (ttlSeconds(before.spec) !== r.ttlSeconds) spec.ttl = ttl;
    return { spec: Object.keys(spec).length > 0 ? spec : undefined, status };
  },
};

/** The Permit object koncli keeps as konductor's readable mirror of `holder`'s permit: `<semaphore>-<holder>` (the name konductor's SDK releases), hashed when that is no valid name. */
export function mirrorName(semaphore: string, holder: string): string {
  const plain = `${semaphore}-${holder}`;
  if (plain.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(plain)) return plain;
  return `${semaphore.slice(0, 230)}-${createHash('sha256').update(holder).digest('hex').slice(0, 16)}`;
}

/** Whether a Permit belongs to `semaphore` (konductor's label, or its spec names it) and is not one of koncli's mirrors. */
export function isForeignPermitOf(permit: unknown, semaphore: string): boolean {
  const labels = stanza(stanza(permit, 'metadata'), 'labels');
  if (labels[MANAGED_BY_LABEL] === 'koncli') return false;
  return labels[PERMIT_SEMAPHORE_LABEL] === semaphore || stanza(permit, 'spec').semaphore === semaphore;
}

/**
 * A Permit another client made, as a claim: held by spec.holder from status.acquiredAt (else its
 * creationTimestamp, the API server's time) for spec.ttl (else the semaphore's), its writer's
 * status.expiresAt when it has one. Without either TTL it never lapses: konductor's controller
 * counts a Permit without status.expiresAt for as long as it exists. Malformed fields are corrupt.
 */
export function foreignPermit(permit: unknown, semaphoreTtl: number | undefined): ForeignPermit {
  const meta = stanza(permit, 'metadata');
  const name = text(meta.name);
  const read = new Reader(name, text(meta.namespace), PERMIT_TYPE);
  const spec = stanza(permit, 'spec');
  const status = stanza(permit, 'status');
  const holder = read.string(spec, 'spec', 'holder');
  if (!holder) throw read.corrupt('spec.holder', spec.holder, 'the name of the permit holder');
  const ttlText = read.string(spec, 'spec', 'ttl');
  if (ttlText !== undefined && parseGoDuration(ttlText) === undefined) throw read.corrupt('spec.ttl', ttlText, 'a Go duration such as "10m"');
  const acquiredAt = read.time(status, 'status', 'acquiredAt') ?? read.time(meta, 'metadata', 'creationTimestamp') ?? new Date(0).toISOString();
  let expiresAt = read.time(status, 'status', 'expiresAt');
  let ttl = ttlSeconds(spec) ?? semaphoreTtl;
  if (ttl === undefined && expiresAt !== undefined) ttl = Math.max(1, Math.ceil((Date.parse(expiresAt) - Date.parse(acquiredAt)) / 1000));
  if (ttl !== undefined && expiresAt === undefined) expiresAt = new Date(Date.parse(acquiredAt) + ttl * 1000).toISOString();
  return { holder, acquiredAt, ...(ttl !== undefined && { ttlSeconds: ttl, expiresAt }), permit: name };
}
