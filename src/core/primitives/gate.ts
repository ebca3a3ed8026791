import type { Clock } from '../clock.js';
import { KoncliError, usageError } from '../errors.js';
import type { Plan, Read } from '../claim/engine.js';
import { corruptRecord, parseRecord, type ClaimKind, type RecordObject } from '../claim/model.js';

/** The kinds a gate condition can name (konductor's GateCondition.type, the ones koncli judges). */
export const GATE_CONDITION_TYPES = ['Job', 'Lease', 'Barrier', 'Semaphore', 'Gate'] as const;
export type GateConditionType = (typeof GATE_CONDITION_TYPES)[number];

/**
 * One condition, in konductor's shape (api/v1/gate_types.go): a Job `Complete` or `Failed`; a
 * (coordination.k8s.io) Lease `Available` (free or lapsed) or `Acquired` (held); a koncli Barrier
 * `Open`; a kube-lock Semaphore with at least `value` free permits (default 1); a koncli Gate `Open`.
 */
export interface GateCondition {
  type: GateConditionType;
  name: string;
  namespace?: string;
  state?: string;
  value?: number;
}

/** Who opened a gate by hand (`gate open`), and when by their wall clock. */
export interface GateOpened {
  by: string;
  at: string;
}

/**
 * A gate (konductor's Gate, without its operator): open when opened by hand (`gate open`, until
 * `gate close`), or when it has conditions and every one is met now, judged by the reader on the
 * live objects (watched while waiting). Record (docs/formats.md):
 * `{"conditions":[{"type":"Job","name":"data-validation","state":"Complete"}],"opened":{"by":"ops","at":"…"}|null}`.
 */
export interface GateState {
  conditions: GateCondition[];
  opened: GateOpened | null;
  unknown: Record<string, unknown>;
}

const STATES: Record<GateConditionType, string[]> = {
  Job: ['Complete', 'Failed'],
  Lease: ['Available', 'Acquired'],
  Barrier: ['Open'],
  Semaphore: [],
  Gate: ['Open'],
};
const DEFAULT_STATE: Record<GateConditionType, string | undefined> = {
  Job: 'Complete',
  Lease: 'Available',
  Barrier: 'Open',
  Semaphore: undefined,
  Gate: 'Open',
};

/** The state a condition asks for (its own, else its type's default). */
export const wantedState = (c: GateCondition) => c.state ?? DEFAULT_STATE[c.type];

function decodeCondition(name: string, v: unknown): GateCondition {
  const c = v as Record<string, unknown>;
  const bad = (why: string) => corruptRecord('gate', name, `a condition ${why}`);
  if (typeof c !== 'object' || c === null) throw bad('is not an object');
  if (!GATE_CONDITION_TYPES.includes(c.type as GateConditionType))
    throw bad(`has type ${JSON.stringify(c.type)}, not one of ${GATE_CONDITION_TYPES.join(', ')}`);
  if (typeof c.name !== 'string' || c.name === '') throw bad('has no name');
  if (c.namespace !== undefined && typeof c.namespace !== 'string') throw bad('has a namespace that is not a string');
  if (c.state !== undefined && !STATES[c.type as GateConditionType].includes(c.state as string))
    throw bad(`of type ${c.type as string} has state ${JSON.stringify(c.state)}`);
  if (c.value !== undefined && !(Number.isSafeInteger(c.value) && (c.value as number) >= 0)) throw bad('has a value that is not a whole number');
  return c as unknown as GateCondition;
}

export const gateKind: ClaimKind<GateState> = {
  kind: 'gate',
  decode(name, raw) {
    const { conditions, opened, ...unknown } = parseRecord('gate', name, raw);
    if (conditions !== undefined && !Array.isArray(conditions)) throw corruptRecord('gate', name, 'conditions is not a list');
    const o = opened as Record<string, unknown> | null | undefined;
    if (o != null && (typeof o !== 'object' || typeof o.by !== 'string' || typeof o.at !== 'string'))
      throw corruptRecord('gate', name, 'opened lacks by or at');
    return { conditions: ((conditions as unknown[]) ?? []).map((c) => decodeCondition(name, c)), opened: (o as GateOpened | null) ?? null, unknown };
  },
  encode: (s) => JSON.stringify({ ...s.unknown, conditions: s.conditions, opened: s.opened }),
  claims: () => [],
};

/**
 * Parses `--condition TYPE/[NAMESPACE/]NAME[=STATE]` (Semaphore: `=N` free permits): e.g.
 * `job/data-validation`, `job/shared-services/shared-job=Complete`, `lease/db=Available`,
 * `semaphore/pool=2`, `barrier/extract-complete`, `gate/staging-gate`. Types and states are
 * case-insensitive; stored in konductor's spelling. Throws a usage error naming the fix.
 */
export function parseCondition(text: string): GateCondition {
  const hint = `use TYPE/[NAMESPACE/]NAME[=STATE], TYPE one of ${GATE_CONDITION_TYPES.map((t) => t.toLowerCase()).join(', ')} (e.g. job/data-validation=Complete, semaphore/pool=2)`;
  const m = /^([A-Za-z]+)\/(?:([a-z0-9][-a-z0-9]*)\/)?([a-z0-9][-a-z0-9.]*)(?:=(.+))?$/.exec(text);
  const type = m && GATE_CONDITION_TYPES.find((t) => t.toLowerCase() === m[1].toLowerCase());
  if (!m || !type) throw usageError(`--condition ${JSON.stringify(text)} is invalid; ${hint}`);
  const cond: GateCondition = { type, name: m[3], ...(m[2] && { namespace: m[2] }) };
  if (m[4] === undefined) return type === 'Semaphore' ? { ...cond, value: 1 } : cond;
  if (type === 'Semaphore') {
    if (!/^\d+$/.test(m[4])) throw usageError(`--condition ${JSON.stringify(text)}: a semaphore's condition is a number of free permits (semaphore/pool=2)`);
    return { ...cond, value: Number(m[4]) };
  }
  const state = STATES[type].find((s) => s.toLowerCase() === m[4].toLowerCase());
  if (!state) throw usageError(`--condition ${JSON.stringify(text)}: a ${type} condition's state is one of ${STATES[type].join(', ')}`);
  return { ...cond, state };
}

const sameConditions = (a: GateCondition[], b: GateCondition[]) => JSON.stringify(a) === JSON.stringify(b);

/** `gate create`: a new closed gate with its conditions; an existing one with the same conditions is left as it is. */
export const planGateCreate =
  (name: string, conditions: GateCondition[]) =>
  (read: Read<GateState>): Plan<GateState, { outcome: 'created' | 'exists'; object: RecordObject }> => {
    if (!read.obj || !read.state) return { write: { conditions, opened: null, unknown: {} }, result: (object) => ({ outcome: 'created', object }) };
    if (!sameConditions(read.state.conditions, conditions))
      throw usageError(`gate ${name} already exists with other conditions; delete it first to change them`);
    return { done: { outcome: 'exists', object: read.obj } };
  };

const absent = (name: string, namespace: string) =>
  new KoncliError('not-found', `gate ${name} does not exist in namespace ${namespace}; create it first (koncli gate create ${name})`);

/** `gate open` (by hand, `by`) and `gate close`: set or clear `opened`; already so is success without a write. */
export const planGateSet =
  (name: string, namespace: string, open: boolean, by: string, clock: Clock) =>
  (read: Read<GateState>): Plan<GateState, { outcome: 'opened' | 'closed' | 'already-open' | 'already-closed'; object: RecordObject | null }> => {
    if (!read.state) throw absent(name, namespace);
    if (open === (read.state.opened !== null)) return { done: { outcome: open ? 'already-open' : 'already-closed', object: read.obj } };
    const opened = open ? { by, at: new Date(clock.wallNow()).toISOString() } : null;
    return { write: { ...read.state, opened }, result: (object) => ({ outcome: open ? 'opened' : 'closed', object }) };
  };
