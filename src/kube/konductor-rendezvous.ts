import { formatGoDuration, parseGoDuration } from '../core/duration.js';
import type { Arrival } from '../core/primitives/barrier.js';
import { absent, isObject, stanza, type Obj, type Reader } from './konductor-lease.js';
import { basics, konductorType, specFor, type KonductorShape } from './konductor-primitive.js';

/** A whole number ≥ 1 at spec.`key` (konductor's int32 with kubebuilder Minimum=1); absent is undefined. */
function positive(read: Reader, spec: Obj, key: string): number | undefined {
  const v = spec[key];
  if (absent(v)) return undefined;
  if (!Number.isSafeInteger(v) || (v as number) < 1 || (v as number) > 2 ** 31 - 1) throw read.corrupt(`spec.${key}`, v, 'a whole number from 1 to 2147483647');
  return v as number;
}

/** spec.timeout in whole seconds (rounded up), undefined when absent; anything but a positive Go duration is corrupt. */
function timeoutSeconds(read: Reader, spec: Obj): number | undefined {
  const v = read.string(spec, 'spec', 'timeout');
  if (v === undefined) return undefined;
  const ms = parseGoDuration(v);
  if (ms === undefined || ms <= 0) throw read.corrupt('spec.timeout', v, 'a positive Go duration such as "30m"');
  return Math.ceil(ms / 1000);
}

/** konductor's status.arrivals (holder names; absent is none), checked against its status.arrived count. */
function arrivalNames(read: Reader, status: Obj): string[] {
  const names = status.arrivals;
  if (!absent(names) && !(Array.isArray(names) && names.every((h) => typeof h === 'string' && h !== ''))) {
    throw read.corrupt('status.arrivals', names, 'a list of holder names');
  }
  const list = (names as string[] | undefined) ?? [];
  const arrived = status.arrived;
  // konductor's controller writes arrived = len(arrivals): a count that disagrees is not konductor's data.
  if (!absent(arrived) && arrived !== list.length) throw read.corrupt('status.arrived', arrived, `the number of status.arrivals (${list.length})`);
  return list;
}

/** The arrivals with koncli's times (status.arrivalTimes); one without (konductor's own) counts from the object's creation (shown, never judged). */
function arrivalsOf(read: Reader, status: Obj, created: string): Arrival[] {
  const times = status.arrivalTimes;
  if (!absent(times) && !(Array.isArray(times) && times.every(isObject))) throw read.corrupt('status.arrivalTimes', times, 'a list of {holder, arrivedAt}');
  const known = new Map(
    ((times as Obj[] | undefined) ?? []).map((t) => [read.string(t, 'status.arrivalTimes', 'holder'), read.time(t, 'status.arrivalTimes', 'arrivedAt')]),
  );
  return arrivalNames(read, status).map((holder) => ({ holder, arrivedAt: known.get(holder) ?? created }));
}

/**
 * The barrier's deadline (spec.timeout), judged as a claim: from koncli's status.deadline.acquiredAt
 * (when `barrier create --timeout` was sent), else from the object's creation (konductor's controller
 * counts spec.timeout from creationTimestamp). spec.timeout rules, so `kubectl patch` of it counts.
 */
function deadlineOf(read: Reader, status: Obj, ttl: number | undefined, created: string) {
  if (ttl === undefined) return undefined;
  const own = status.deadline;
  if (!absent(own) && !isObject(own)) throw read.corrupt('status.deadline', own, 'an object');
  const acquiredAt = (isObject(own) ? read.time(own, 'status.deadline', 'acquiredAt') : undefined) ?? created;
  return { acquiredAt, ttlSeconds: ttl, expiresAt: new Date(Date.parse(acquiredAt) + ttl * 1000).toISOString() };
}

interface BarrierRecord {
  expected: number;
  quorum?: number;
  arrivals: Arrival[];
  openedAt: string | null;
  deadline?: { acquiredAt: string; ttlSeconds: number; expiresAt: string };
}

/**
 * konductor's Barrier: spec.expected, quorum, timeout; status.arrived, arrivals (holder names),
 * openedAt, phase (Waiting, Open, Failed, Timeout), conditions (left as they are). koncli adds
 * status.arrivalTimes ({holder, arrivedAt}) and deadline (its timeout's start, judged as a claim).
 */
export const BARRIER_SHAPE: KonductorShape = {
  kind: 'barrier',
  type: konductorType('Barrier', 'barriers'),
  toRecord(obj, read) {
    const { status } = basics(obj, read, ['Waiting', 'Open', 'Failed', 'Timeout']);
    const spec = stanza(obj, 'spec');
    const expected = positive(read, spec, 'expected');
    if (expected === undefined) throw read.corrupt('spec.expected', spec.expected, 'a whole number from 1 to 2147483647');
    const quorum = positive(read, spec, 'quorum');
    if (quorum !== undefined && quorum > expected) throw read.corrupt('spec.quorum', quorum, `at most spec.expected (${expected})`);
    const created = read.time(stanza(obj, 'metadata'), 'metadata', 'creationTimestamp') ?? new Date(0).toISOString();
    const phase = status.phase;
    const record: BarrierRecord = {
      expected,
      ...(quorum !== undefined && { quorum }),
      arrivals: arrivalsOf(read, status, created),
      // konductor sets openedAt with phase Open; an Open barrier without it opened at the latest now.
      openedAt: read.time(status, 'status', 'openedAt') ?? (phase === 'Open' ? created : null),
      deadline: deadlineOf(read, status, timeoutSeconds(read, spec), created),
    };
    return JSON.stringify(record);
  },
  toObject(record, before) {
    const r = JSON.parse(record) as BarrierRecord;
    // The spec is written once, by `barrier create`; the engine never changes it.
    const spec = absent(before.spec.expected)
      ? { expected: r.expected, quorum: r.quorum ?? null, timeout: r.deadline ? formatGoDuration(r.deadline.ttlSeconds) : null }
      : undefined;
    const status = {
      arrived: r.arrivals.length,
      arrivals: r.arrivals.map((a) => a.holder),
      arrivalTimes: r.arrivals,
      openedAt: r.openedAt,
      phase: r.openedAt ? 'Open' : 'Waiting',
      deadline: r.deadline ?? null,
    };
    return { spec, status };
  },
};

/** konductor's WaitGroup: spec.ttl; status.counter, phase (Waiting, Done), conditions (left as they are). */
export const WAITGROUP_SHAPE: KonductorShape = {
  kind: 'waitgroup',
  type: konductorType('WaitGroup', 'waitgroups'),
  toRecord(obj, read) {
    const { status, ttl } = basics(obj, read, ['Waiting', 'Done']);
    return JSON.stringify({ ...(ttl !== undefined && { ttlSeconds: ttl }), counter: read.count(status, 'status', 'counter') });
  },
  toObject(record, before) {
    const r = JSON.parse(record) as { ttlSeconds?: number; counter: number };
    return { spec: specFor(r.ttlSeconds, before.spec), status: { counter: r.counter, phase: r.counter > 0 ? 'Waiting' : 'Done' } };
  },
};

const CONDITION_KEYS = ['type', 'name', 'namespace', 'state', 'value'] as const;

/** konductor's spec.conditions (absent is none), each with the GateCondition fields only; the engine checks their types and states. */
function gateConditions(read: Reader, spec: Obj): Obj[] {
  const v = spec.conditions;
  if (absent(v)) return [];
  if (!Array.isArray(v) || !v.every(isObject)) throw read.corrupt('spec.conditions', v, 'a list of conditions');
  return v.map((c) => Object.fromEntries(CONDITION_KEYS.filter((k) => !absent(c[k])).map((k) => [k, c[k]])));
}

/**
 * konductor's Gate: spec.conditions (type, name, namespace, state, value), timeout (kept, not
 * judged); status.phase (Waiting, Open, Failed; its docs also say Closed), openedAt, conditions and
 * conditionStatuses (left as they are). A phase of Open is a gate opened (`gate open`, konductor's
 * SDK Open, or its controller); koncli adds status.openedBy. Conditions are judged by the reader, live.
 */
export const GATE_SHAPE: KonductorShape = {
  kind: 'gate',
  type: konductorType('Gate', 'gates'),
  toRecord(obj, read) {
    const { status } = basics(obj, read, ['Waiting', 'Open', 'Failed', 'Closed']);
    const conditions = gateConditions(read, stanza(obj, 'spec'));
    const created = read.time(stanza(obj, 'metadata'), 'metadata', 'creationTimestamp') ?? new Date(0).toISOString();
    const at = read.time(status, 'status', 'openedAt') ?? created;
    const opened = status.phase === 'Open' ? { by: read.string(status, 'status', 'openedBy') ?? '', at } : null;
    return JSON.stringify({ conditions, opened });
  },
  toObject(record, before) {
    const r = JSON.parse(record) as { conditions: Obj[]; opened: { by: string; at: string } | null };
    // The conditions are written once, by `gate create`; the engine never changes them.
    const spec = absent(before.spec.conditions) && r.conditions.length > 0 ? { conditions: r.conditions } : undefined;
    const status = { phase: r.opened ? 'Open' : 'Waiting', openedAt: r.opened?.at ?? null, openedBy: r.opened?.by || null };
    return { spec, status };
  },
};
