import { formatGoDuration, parseGoDuration } from '../core/duration.js';
import { KoncliError } from '../core/errors.js';
import { ANNOTATIONS, decodeExtras } from '../core/lease/annotations.js';
import { defaultExtras, type LeaseDraft, type LeaseHolding, type LeaseRecord, type WaiterQueue } from '../core/lease/model.js';
import { canonicalJson, identityOf, isoTime } from './patch.js';
import { lastWriteOf, type FieldSet, type ManagedFieldsEntry } from './watch-object.js';

/** The konductor.io/v1 Lease custom resource, and how koncli maps it onto its LeaseRecord. */
export const KONDUCTOR_LEASE = {
  group: 'konductor.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
  apiVersion: 'konductor.io/v1',
  resource: 'leases.konductor.io',
} as const;

export type Obj = Record<string, unknown>;

/** A konductor.io/v1 resource type, as named in messages. */
export interface KonductorType {
  kind: string;
  apiVersion: string;
  resource: string;
}

/**
 * A client-node failure meaning the API server does not serve konductor.io/v1 Leases at all (a 404
 * whose body does not name the object: "404 page not found" for an unknown group or version).
 */
export function resourceTypeMissing(err: unknown, type: KonductorType = KONDUCTOR_LEASE): KoncliError | undefined {
  const e = err as { code?: unknown; body?: unknown };
  if (e?.code !== 404) return undefined;
  let body = e.body;
  try {
    if (typeof body === 'string') body = JSON.parse(body);
  } catch {
    body = undefined;
  }
  if ((body as { details?: { name?: unknown } } | undefined)?.details?.name) return undefined;
  return new KoncliError(
    'not-found',
    `the API server does not serve ${type.resource} (${type.apiVersion}); install the CustomResourceDefinition with: koncli crd install`,
    { resource: type.resource, installed: false },
  );
}

/** What koncli keeps of the object it read, so that a write changes only what koncli owns. */
export interface RawKonductorLease {
  annotations: Record<string, string>;
  labels: Record<string, string>;
  uid?: string;
  spec: Obj;
  status: Obj;
}

export type KonductorPhase = 'Available' | 'Held' | 'Expired';
const PHASES: readonly string[] = ['Available', 'Held', 'Expired'] satisfies KonductorPhase[];
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const absent = (v: unknown) => v === undefined || v === null;
/** A stanza of the object (metadata, spec, status); {} when it is missing or not an object. */
export const stanza = (obj: unknown, key: string): Obj => (isObject(obj) && isObject(obj[key]) ? obj[key] : {});
/** A metadata string (name, namespace, resourceVersion, uid) as the API server sends it. */
export const text = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback);

/** Reads fields of one konductor object strictly: a malformed one is `corrupt`, naming the field and the fix. */
export class Reader {
  constructor(
    private readonly name: string,
    private readonly namespace: string,
    private readonly type: KonductorType = KONDUCTOR_LEASE,
  ) {}

  corrupt(path: string, value: unknown, expected: string): KoncliError {
    const shown = JSON.stringify(value)?.slice(0, 80) ?? String(value);
    const [stanza, field] = path.split('.');
    const fix =
      stanza === 'status'
        ? `kubectl patch ${this.type.resource} ${this.name} -n ${this.namespace} --subresource=status --type=merge -p '{"status":{"${field}":null}}'`
        : `kubectl edit ${this.type.resource} ${this.name} -n ${this.namespace}`;
    return new KoncliError(
      'corrupt',
      `konductor ${this.type.kind} ${this.namespace}/${this.name}: ${path} is ${shown}, not ${expected}; koncli will not interpret or overwrite it (fix: ${fix})`,
      { field: path },
    );
  }

  string(o: Obj, stanza: string, key: string): string | undefined {
    const v = o[key];
    if (absent(v)) return undefined;
    if (typeof v !== 'string') throw this.corrupt(`${stanza}.${key}`, v, 'a string');
    return v;
  }

  time(o: Obj, stanza: string, key: string): string | undefined {
    const v = o[key];
    if (absent(v)) return undefined;
    if (typeof v !== 'string' || !RFC3339.test(v) || Number.isNaN(Date.parse(v))) {
      throw this.corrupt(`${stanza}.${key}`, v, 'an RFC 3339 time such as "2024-01-15T10:30:00Z"');
    }
    return isoTime(v);
  }

  count(o: Obj, stanza: string, key: string): number {
    const v = o[key];
    if (absent(v)) return 0;
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw this.corrupt(`${stanza}.${key}`, v, 'a non-negative integer');
    return v as number;
  }
}

/**
 * Whether a managedFields entry owns part of the holder's claim: any status field (a holder that
 * renews by bumping status.renewals and moving status.expires renews all the same).
 */
export const ownsHolder = (fields: FieldSet): boolean => {
  const status = fields['f:status'];
  return isObject(status) && Object.keys(status).some((k) => k.startsWith('f:'));
};

/** The waiter queue from koncli's annotation; koncli's other annotations mean nothing on this kind. */
export function queueOf(annotations: Record<string, string>): WaiterQueue {
  const waiters = annotations[ANNOTATIONS.waiters];
  return decodeExtras(waiters === undefined ? {} : { [ANNOTATIONS.waiters]: waiters }).queue;
}

/** The ttl of a spec in whole seconds (rounded up: a longer ttl never ends a claim early). */
export function ttlSeconds(spec: Obj): number | undefined {
  const ms = typeof spec.ttl === 'string' ? parseGoDuration(spec.ttl) : undefined;
  return ms === undefined ? undefined : Math.ceil(ms / 1000);
}

/**
 * Reads a konductor.io/v1 Lease. Throws `corrupt` when a field koncli would interpret or rewrite
 * is malformed: spec.ttl/priority/renewable, status.holder/acquired/renewed/expires/phase/renewals/
 * transitions/reason/conditions, or the waiters annotation.
 */
export function decodeKonductorLease(obj: unknown, defaultNamespace: string): LeaseRecord {
  const meta = stanza(obj, 'metadata');
  const name = text(meta.name);
  const namespace = text(meta.namespace, defaultNamespace);
  const read = new Reader(name, namespace);
  const spec = stanza(obj, 'spec');
  const rawStatus = isObject(obj) ? obj.status : undefined;
  if (!absent(rawStatus) && !isObject(rawStatus)) throw read.corrupt('status', rawStatus, 'an object');
  const status = stanza(obj, 'status');

  const ttl = ttlSeconds(spec);
  if (ttl === undefined) throw read.corrupt('spec.ttl', spec.ttl, 'a Go duration such as "15m"');
  if (!absent(spec.priority) && !Number.isSafeInteger(spec.priority)) throw read.corrupt('spec.priority', spec.priority, 'an integer');
  if (!absent(spec.renewable) && typeof spec.renewable !== 'boolean') throw read.corrupt('spec.renewable', spec.renewable, 'true or false');

  const acquireTime = read.time(status, 'status', 'acquired');
  const expires = read.time(status, 'status', 'expires');
  const phase = read.string(status, 'status', 'phase');
  if (phase !== undefined && !PHASES.includes(phase)) throw read.corrupt('status.phase', phase, PHASES.join(', ') + ' or absent');
  if (!absent(status.conditions) && !(Array.isArray(status.conditions) && status.conditions.every((c) => isObject(c) && typeof c.type === 'string'))) {
    throw read.corrupt('status.conditions', status.conditions, 'a list of conditions with a type');
  }
  const annotations = (isObject(meta.annotations) ? meta.annotations : {}) as Record<string, string>;
  const labels = (isObject(meta.labels) ? meta.labels : {}) as Record<string, string>;
  return {
    name,
    namespace,
    version: text(meta.resourceVersion),
    ...identityOf(meta),
    holding: {
      holder: read.string(status, 'status', 'holder') ?? '',
      durationSeconds: ttl,
      acquireTime,
      // A konductor writer that keeps no renewal time: its claim dates from the acquisition.
      renewTime: read.time(status, 'status', 'renewed') ?? acquireTime,
      transitions: read.count(status, 'status', 'transitions'),
    },
    extras: {
      renewals: read.count(status, 'status', 'renewals'),
      priority: (spec.priority as number | undefined) ?? 0,
      renewable: spec.renewable !== false,
      reason: read.string(status, 'status', 'reason'),
      queue: queueOf(annotations),
    },
    labels,
    createdAt: isoTime(meta.creationTimestamp),
    serverWrittenAtMost: lastWriteOf(Array.isArray(meta.managedFields) ? (meta.managedFields as ManagedFieldsEntry[]) : undefined, ownsHolder),
    // The whole status and the ttl: a renewal that only bumps renewals or moves expires is a renewal.
    claim: canonicalJson({ ttl: spec.ttl, status }),
    configuredDurationSeconds: ttl,
    writerExpiresAt: expires === undefined ? undefined : Date.parse(expires),
    raw: { annotations, labels, uid: meta.uid as string | undefined, spec, status } satisfies RawKonductorLease,
  };
}

/** For listings: the Lease as far as it can be read, with what is wrong, instead of failing the list. */
export function decodeForListing(obj: unknown, defaultNamespace: string): LeaseRecord {
  try {
    return decodeKonductorLease(obj, defaultNamespace);
  } catch (err) {
    const meta = stanza(obj, 'metadata');
    const status = stanza(obj, 'status');
    const holder = typeof status.holder === 'string' ? status.holder : '';
    return {
      name: text(meta.name),
      namespace: text(meta.namespace, defaultNamespace),
      version: text(meta.resourceVersion),
      holding: { holder, durationSeconds: ttlSeconds(stanza(obj, 'spec')) || 0, transitions: 0 },
      extras: defaultExtras(),
      labels: (isObject(meta.labels) ? meta.labels : {}) as Record<string, string>,
      createdAt: isoTime(meta.creationTimestamp),
      problem: (err as Error).message,
    };
  }
}

/** The spec of a Lease koncli creates: its ttl, and the priority and renewability it was asked for. */
export const specForDraft = (draft: LeaseDraft): Obj => ({
  ttl: formatGoDuration(draft.holding.durationSeconds),
  priority: draft.extras.priority,
  renewable: draft.extras.renewable,
});

/**
 * The spec change a holder write implies: only the ttl, when the holder asked for another one.
 * spec.priority and spec.renewable describe the lease, not a holder, so holder writes keep them.
 */
export function specChange(record: LeaseRecord, spec: Obj): Obj | undefined {
  return ttlSeconds(spec) === record.holding.durationSeconds ? undefined : { ttl: formatGoDuration(record.holding.durationSeconds) };
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** metav1.Time: RFC 3339 with whole seconds. */
const secondsTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function conditionsFor(holding: LeaseHolding, before: Obj, nowMs: number): Obj[] {
  const previous = Array.isArray(before.conditions) ? (before.conditions as Obj[]) : [];
  const held = holding.holder !== '';
  const mine: Omit<Condition, 'lastTransitionTime'>[] = [
    { type: 'Ready', status: 'True', reason: 'LeaseReady', message: 'the lease is valid' },
    held
      ? { type: 'Held', status: 'True', reason: before.holder === holding.holder ? 'Renewed' : 'Acquired', message: `held by ${holding.holder}` }
      : { type: 'Held', status: 'False', reason: 'Released', message: 'nobody holds the lease' },
  ];
  const types = new Set(mine.map((c) => c.type));
  return [
    ...previous.filter((c) => !types.has(c.type as string)),
    ...mine.map((c) => {
      const old = previous.find((p) => p.type === c.type);
      const since = old?.status === c.status && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : secondsTime(nowMs);
      return { ...c, lastTransitionTime: since } satisfies Condition;
    }),
  ];
}

/**
 * The status a holder write sets, as a merge-patch body: the konductor fields (holder, acquired,
 * expires, phase, renewals, conditions) plus koncli's (renewed, transitions, reason).
 * `expires` and `phase` are the writer's view for people and kubectl; readers judge expiry on
 * their own clock. Conditions of other types are kept.
 */
export function statusFor(record: Pick<LeaseRecord, 'holding' | 'extras'>, before: Obj, nowMs: number): Obj {
  const { holding, extras } = record;
  const held = holding.holder !== '';
  const since = Date.parse(holding.renewTime ?? holding.acquireTime ?? '');
  return {
    holder: holding.holder,
    acquired: holding.acquireTime ?? null,
    renewed: holding.renewTime ?? null,
    expires: held && !Number.isNaN(since) ? secondsTime(Math.ceil((since + holding.durationSeconds * 1000) / 1000) * 1000) : null,
    phase: held ? 'Held' : 'Available',
    renewals: extras.renewals,
    transitions: holding.transitions,
    reason: extras.reason ?? null,
    conditions: conditionsFor(holding, before, nowMs),
  };
}
