import type { Clock } from '../clock.js';
import { KoncliError, usageError } from '../errors.js';
import { claimDoc } from '../claim/describe.js';
import type { Plan, Read } from '../claim/engine.js';
import { nextLapse } from '../claim/judge.js';
import { listRecords } from '../claim/list.js';
import { corruptRecord, parseRecord, secondsField, type Claim, type ClaimContext, type ClaimKind, type RecordObject } from '../claim/model.js';

/** One process that arrived: who (`--holder`) and when, by its wall clock (shown, never judged). */
export interface Arrival {
  holder: string;
  arrivedAt: string;
}

/**
 * A barrier: it opens when `quorum` (default `expected`) distinct holders have arrived, and stays
 * open (konductor's Barrier, without its operator: its controller opens at `arrived >= quorum ??
 * expected` and fails a barrier still short of it `timeout` after creation). Record
 * (docs/formats.md): `{"expected":5,"quorum":4,"arrivals":[{arrival}],"openedAt":"…"|null,"deadline":{claim}}`.
 * The arrival that reaches the quorum writes `openedAt` in the same resourceVersion-guarded write,
 * so the barrier opens exactly once. `deadline` (with `barrier create --timeout`) is judged as a
 * claim is (docs/clock.md): when it has lapsed with the barrier not open, the barrier has failed.
 */
export interface BarrierState {
  expected: number;
  quorum?: number;
  arrivals: Arrival[];
  openedAt: string | null;
  deadline?: Claim;
  unknown: Record<string, unknown>;
}

/** The holder name of a barrier's timeout, judged as a claim. */
const DEADLINE_HOLDER = 'timeout';

const positive = (name: string, field: string, v: unknown): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw corruptRecord('barrier', name, `${field} is not a whole number ≥ 1`);
  return v;
};

function decodeArrivals(name: string, v: unknown): Arrival[] {
  if (v === undefined) return [];
  const ok = (a: Record<string, unknown>) =>
    typeof a === 'object' && a !== null && typeof a.holder === 'string' && a.holder !== '' && typeof a.arrivedAt === 'string';
  if (!Array.isArray(v) || !v.every(ok)) throw corruptRecord('barrier', name, 'arrivals is not a list of {holder, arrivedAt}');
  return v as Arrival[];
}

function decodeDeadline(name: string, v: unknown): Claim | undefined {
  if (v === undefined) return undefined;
  const d = v as Record<string, unknown>;
  if (typeof d !== 'object' || d === null || typeof d.acquiredAt !== 'string' || typeof d.expiresAt !== 'string')
    throw corruptRecord('barrier', name, 'deadline lacks acquiredAt or expiresAt');
  return {
    holder: DEADLINE_HOLDER,
    acquiredAt: d.acquiredAt,
    ttlSeconds: secondsField('barrier', name, 'deadline.ttlSeconds', d.ttlSeconds),
    expiresAt: d.expiresAt,
  };
}

export const barrierKind: ClaimKind<BarrierState> = {
  kind: 'barrier',
  decode(name, raw) {
    const { expected, quorum, arrivals, openedAt, deadline, ...unknown } = parseRecord('barrier', name, raw);
    if (openedAt != null && typeof openedAt !== 'string') throw corruptRecord('barrier', name, 'openedAt is not a time');
    const state: BarrierState = {
      expected: positive(name, 'expected', expected),
      quorum: quorum == null ? undefined : positive(name, 'quorum', quorum),
      arrivals: decodeArrivals(name, arrivals),
      openedAt: (openedAt as string | undefined) ?? null,
      deadline: decodeDeadline(name, deadline),
      unknown,
    };
    if (state.quorum !== undefined && state.quorum > state.expected) throw corruptRecord('barrier', name, 'quorum exceeds expected');
    return state;
  },
  encode: (s) =>
    JSON.stringify({
      ...s.unknown,
      expected: s.expected,
      ...(s.quorum !== undefined && { quorum: s.quorum }),
      arrivals: s.arrivals,
      openedAt: s.openedAt,
      ...(s.deadline && { deadline: { acquiredAt: s.deadline.acquiredAt, ttlSeconds: s.deadline.ttlSeconds, expiresAt: s.deadline.expiresAt } }),
    }),
  claims: (s) => (s.deadline ? [s.deadline] : []),
};

/** konductor's phases (status.phase): Waiting, Open, Failed (its timeout passed before the quorum). */
export type BarrierPhase = 'Waiting' | 'Open' | 'Failed';

/** Arrivals needed to open: the quorum, else every expected one. */
export const requiredOf = (s: BarrierState) => s.quorum ?? s.expected;

export function phaseOf(read: Read<BarrierState>): BarrierPhase {
  if (read.state?.openedAt) return 'Open';
  return read.views[0]?.expired ? 'Failed' : 'Waiting';
}

const shortText = (name: string, s: BarrierState) => `${s.arrivals.length} of ${requiredOf(s)} needed arrivals (expected ${s.expected})`;

/** The barrier failed: its --timeout passed with fewer arrivals than needed (exit 3, as a timeout). */
const failedError = (name: string, s: BarrierState) =>
  new KoncliError('busy', `barrier ${name} has failed: its --timeout of ${s.deadline?.ttlSeconds}s passed with ${shortText(name, s)}`, {
    phase: 'Failed',
  });

const absent = (name: string, namespace: string) =>
  new KoncliError('not-found', `barrier ${name} does not exist in namespace ${namespace}; create it first (koncli barrier create ${name} --expected N)`);

export interface BarrierCreateRequest {
  name: string;
  expected: number;
  quorum?: number;
  timeoutSeconds?: number;
}

/** `barrier create`: a new barrier; an existing one with the same settings is left as it is, different ones are refused. */
export const planBarrierCreate =
  (req: BarrierCreateRequest) =>
  (read: Read<BarrierState>): Plan<BarrierState, { outcome: 'created' | 'exists'; object: RecordObject }> => {
    if (read.obj && read.state) {
      const s = read.state;
      if (s.expected !== req.expected || s.quorum !== req.quorum || (req.timeoutSeconds !== undefined && s.deadline?.ttlSeconds !== req.timeoutSeconds))
        throw usageError(
          `barrier ${req.name} already exists with --expected ${s.expected}${s.quorum === undefined ? '' : ` --quorum ${s.quorum}`}${s.deadline ? ` --timeout ${s.deadline.ttlSeconds}s` : ''}; delete it first to change them`,
        );
      return { done: { outcome: 'exists', object: read.obj } };
    }
    const deadline = req.timeoutSeconds === undefined ? undefined : read.stamp(DEADLINE_HOLDER, req.timeoutSeconds);
    return {
      write: { expected: req.expected, quorum: req.quorum, arrivals: [], openedAt: null, deadline, unknown: {} },
      result: (object) => ({ outcome: 'created', object }),
    };
  };

export interface BarrierArrived {
  outcome: 'arrived' | 'already-arrived';
  /** This arrival opened the barrier (exactly one arrival does). */
  opened: boolean;
  state: BarrierState;
  object: RecordObject | null;
}

/**
 * `barrier arrive`: records `holder`'s arrival (once: arriving again changes nothing); the arrival
 * that reaches the quorum opens the barrier in the same write. A barrier that does not exist is
 * not-found (konductor's arrive needs it too); one that has failed refuses new arrivals (exit 3).
 */
export const planBarrierArrive =
  (name: string, namespace: string, holder: string, clock: Clock) =>
  (read: Read<BarrierState>): Plan<BarrierState, BarrierArrived> => {
    if (!read.state || !read.obj) throw absent(name, namespace);
    const s = read.state;
    if (s.arrivals.some((a) => a.holder === holder)) return { done: { outcome: 'already-arrived', opened: false, state: s, object: read.obj } };
    if (phaseOf(read) === 'Failed') throw new KoncliError('busy', `${failedError(name, s).message}; not arriving`, { phase: 'Failed' });
    const wall = new Date(clock.wallNow()).toISOString();
    const arrivals = [...s.arrivals, { holder, arrivedAt: wall }];
    const opens = !s.openedAt && arrivals.length >= requiredOf(s);
    const next = { ...s, arrivals, openedAt: opens ? wall : s.openedAt };
    return { write: next, result: (object) => ({ outcome: 'arrived', opened: opens, state: next, object }) };
  };

/**
 * `barrier wait`: done when open; a failed barrier is exit 3 at once; otherwise blocked until a
 * change on the watch or the barrier's own deadline. A barrier not created yet is waited for.
 */
export const planBarrierWait =
  (name: string, namespace: string) =>
  (read: Read<BarrierState>): Plan<BarrierState, Read<BarrierState>> => {
    if (!read.state) return { blocked: new KoncliError('busy', `barrier ${name} does not exist in namespace ${namespace} (yet)`), retryAt: Infinity };
    const phase = phaseOf(read);
    if (phase === 'Open') return { done: read };
    if (phase === 'Failed') throw failedError(name, read.state);
    return { blocked: new KoncliError('busy', `barrier ${name} is not open: ${shortText(name, read.state)}`), retryAt: nextLapse(read.views) };
  };

/** A barrier in the shared `--json` vocabulary (also `koncli status`'s row for it). */
export function describeBarrier(read: Read<BarrierState>, clock: Clock) {
  const s = read.state!;
  const phase = phaseOf(read);
  const view = read.views[0];
  return {
    kind: 'barrier',
    namespace: read.obj?.namespace ?? null,
    name: read.obj?.name ?? null,
    state: phase.toLowerCase(),
    phase,
    expected: s.expected,
    quorum: s.quorum ?? null,
    arrived: s.arrivals.length,
    arrivals: s.arrivals.map((a) => a.holder),
    openedAt: s.openedAt,
    timeoutSeconds: s.deadline?.ttlSeconds ?? null,
    expiresAt: view && !s.openedAt ? claimDoc(view, clock).expiresAt : null,
    resourceVersion: read.obj?.version ?? null,
  };
}

/** Every barrier of the context's namespace in the shared vocabulary (`barrier list`, `koncli status`). */
export const listBarriers = (ctx: ClaimContext) => listRecords(ctx, barrierKind, (read) => describeBarrier(read, ctx.clock));
