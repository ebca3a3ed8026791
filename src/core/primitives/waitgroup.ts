import { KoncliError, usageError } from '../errors.js';
import type { Plan, Read } from '../claim/engine.js';
import { listRecords } from '../claim/list.js';
import { parseRecord, secondsField, wholeField, type ClaimContext, type ClaimKind, type RecordObject } from '../claim/model.js';

/**
 * A wait group (konductor's WaitGroup, Go's sync.WaitGroup, without an operator): a counter that
 * `add --delta` raises, `done` lowers by one, and `wait` waits to see at 0. Record
 * (docs/formats.md): `{"ttlSeconds":3600,"counter":3}`. The counter never goes below 0: a change
 * that would take it there is refused, nothing written (konductor's SDK clamps it at 0 instead,
 * which hides a `done` too many). `ttlSeconds` is konductor's spec.ttl (cleanup), kept and shown.
 */
export interface WaitGroupState {
  ttlSeconds?: number;
  counter: number;
  unknown: Record<string, unknown>;
}

export const waitGroupKind: ClaimKind<WaitGroupState> = {
  kind: 'waitgroup',
  decode(name, raw) {
    const { ttlSeconds, counter, ...unknown } = parseRecord('waitgroup', name, raw);
    return { ttlSeconds: secondsField('waitgroup', name, 'ttlSeconds', ttlSeconds), counter: wholeField('waitgroup', name, 'counter', counter, 0), unknown };
  },
  encode: (s) => JSON.stringify({ ...s.unknown, ...(s.ttlSeconds !== undefined && { ttlSeconds: s.ttlSeconds }), counter: s.counter }),
  claims: () => [],
};

/** konductor's phases: Waiting (counter > 0), Done (counter 0). */
export const phaseOf = (s: WaitGroupState) => (s.counter > 0 ? 'Waiting' : 'Done');

const absent = (name: string, namespace: string) =>
  new KoncliError('not-found', `waitgroup ${name} does not exist in namespace ${namespace}; create it first (koncli waitgroup create ${name})`);

/** `waitgroup create`: a new wait group at 0; an existing one is left as it is (a different --ttl is refused). */
export const planWaitGroupCreate =
  (name: string, ttlSeconds: number | undefined) =>
  (read: Read<WaitGroupState>): Plan<WaitGroupState, { outcome: 'created' | 'exists'; object: RecordObject }> => {
    if (!read.obj || !read.state) return { write: { ttlSeconds, counter: 0, unknown: {} }, result: (object) => ({ outcome: 'created', object }) };
    if (ttlSeconds !== undefined && read.state.ttlSeconds !== ttlSeconds)
      throw usageError(
        `waitgroup ${name} already exists with ${read.state.ttlSeconds === undefined ? 'no TTL' : `a TTL of ${read.state.ttlSeconds}s`}; delete it first to change its --ttl`,
      );
    return { done: { outcome: 'exists', object: read.obj } };
  };

export interface WaitGroupChanged {
  counter: number;
  previous: number;
  object: RecordObject | null;
}

/**
 * `waitgroup add --delta N` (`done` is `--delta -1`): moves the counter by `delta`, guarded by the
 * resourceVersion read (a concurrent change makes it decide again on the new count). A change that
 * would take it below 0 is refused with not-held (exit 5: more done than added), nothing written.
 */
export const planWaitGroupAdd =
  (name: string, namespace: string, delta: number) =>
  (read: Read<WaitGroupState>): Plan<WaitGroupState, WaitGroupChanged> => {
    if (!read.state) throw absent(name, namespace);
    const previous = read.state.counter;
    const counter = previous + delta;
    if (counter < 0)
      throw new KoncliError(
        'not-held',
        `waitgroup ${name} is at ${previous}; ${delta === -1 ? 'done' : `--delta ${delta}`} would take it below 0 (more done than added): nothing changed`,
        { counter: previous },
      );
    if (!Number.isSafeInteger(counter) || counter > 2 ** 31 - 1)
      throw usageError(`--delta ${delta} would take waitgroup ${name} past 2147483647 (konductor's int32)`);
    if (delta === 0) return { done: { counter, previous, object: read.obj } };
    return { write: { ...read.state, counter }, result: (object) => ({ counter, previous, object }) };
  };

/** `waitgroup wait`: done at 0; blocked (waiting on the watch) while above, or while it does not exist yet. */
export const planWaitGroupWait =
  (name: string, namespace: string) =>
  (read: Read<WaitGroupState>): Plan<WaitGroupState, Read<WaitGroupState>> => {
    if (!read.state) return { blocked: new KoncliError('busy', `waitgroup ${name} does not exist in namespace ${namespace} (yet)`), retryAt: Infinity };
    if (read.state.counter === 0) return { done: read };
    return { blocked: new KoncliError('busy', `waitgroup ${name} is at ${read.state.counter}`, { counter: read.state.counter }), retryAt: Infinity };
  };

/** A wait group in the shared `--json` vocabulary (also `koncli status`'s row for it). */
export function describeWaitGroup(read: Read<WaitGroupState>) {
  const s = read.state!;
  return {
    kind: 'waitgroup',
    namespace: read.obj?.namespace ?? null,
    name: read.obj?.name ?? null,
    state: phaseOf(s).toLowerCase(),
    phase: phaseOf(s),
    counter: s.counter,
    ttlSeconds: s.ttlSeconds ?? null,
    resourceVersion: read.obj?.version ?? null,
  };
}

/** Every wait group of the context's namespace in the shared vocabulary (`waitgroup list`, `koncli status`). */
export const listWaitGroups = (ctx: ClaimContext) => listRecords(ctx, waitGroupKind, describeWaitGroup);
