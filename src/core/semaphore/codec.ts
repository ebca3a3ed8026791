import { KoncliError } from '../errors.js';
import { keyProblem } from '../json-keys.js';
import { SEMAPHORE_ANNOTATION, type SemaphoreHolder, type SemaphoreState } from './model.js';

const HOLDER_FIELDS = ['date', 'reason', 'ttlSeconds', 'expires'];
const TOP_FIELDS = ['max', 'holders'];

/** kube-lock's structs: the semaphore (max, holders) and each holder (date, reason; koncli's ttlSeconds, expires). */
const kubeLockStructs = (path: readonly string[]) => (path.length === 0 ? TOP_FIELDS : path.length === 2 && path[0] === 'holders' ? HOLDER_FIELDS : undefined);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const pick = (obj: Record<string, unknown>, known: string[]) => Object.fromEntries(Object.entries(obj).filter(([k]) => !known.includes(k)));

export const corruptSemaphore = (name: string, value: string, problem: string) =>
  new KoncliError(
    'corrupt',
    `semaphore ${name}: annotation ${SEMAPHORE_ANNOTATION}=${JSON.stringify(value.slice(0, 80))}${value.length > 80 ? '…' : ''} ${problem}; ` +
      `koncli leaves it untouched: fix it, or remove it (kubectl annotate configmap ${name} ${SEMAPHORE_ANNOTATION}-)`,
    { annotation: SEMAPHORE_ANNOTATION, semaphore: name },
  );

function decodeHolder(entry: unknown, fail: (problem: string) => never, id: string): SemaphoreHolder {
  if (!isObject(entry)) fail(`has holder ${JSON.stringify(id)} that is not an object`);
  const { date = '', reason = '', ttlSeconds, expires } = entry;
  if (typeof date !== 'string' || typeof reason !== 'string') fail(`has holder ${JSON.stringify(id)} whose date or reason is not a string`);
  if (ttlSeconds !== undefined && !(Number.isSafeInteger(ttlSeconds) && (ttlSeconds as number) > 0)) {
    fail(`has holder ${JSON.stringify(id)} whose ttlSeconds is not a positive integer`);
  }
  if (expires !== undefined && (typeof expires !== 'string' || Number.isNaN(Date.parse(expires)))) {
    fail(`has holder ${JSON.stringify(id)} whose expires is not a timestamp`);
  }
  return {
    date,
    reason,
    ...(ttlSeconds !== undefined && { ttlSeconds: ttlSeconds as number }),
    ...(expires !== undefined && { expires }),
    unknown: pick(entry, HOLDER_FIELDS),
  };
}

/**
 * Reads kube-lock's annotation. Refuses (exit 9) anything kube-lock itself could not use: invalid
 * JSON, a `max` that is not a positive integer, holders that are not an object of objects.
 * A missing or null `holders` is an empty semaphore, as it is for kube-lock.
 */
export function decodeSemaphore(name: string, value: string): SemaphoreState {
  const fail = (problem: string): never => {
    throw corruptSemaphore(name, value, problem);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return fail('is not valid JSON');
  }
  if (!isObject(parsed)) return fail('is not a JSON object');
  const keys = keyProblem(value, kubeLockStructs);
  if (keys !== undefined) fail(`${keys} (kube-lock's Go decoder would read it otherwise than koncli)`);
  const { max, holders } = parsed;
  if (!Number.isSafeInteger(max) || (max as number) < 1) fail('has a "max" that is not a positive integer');
  if (holders !== undefined && holders !== null && !isObject(holders)) fail('has "holders" that is not an object');
  const decoded: Record<string, SemaphoreHolder> = {};
  for (const [id, entry] of Object.entries(holders ?? {})) decoded[id] = decodeHolder(entry, fail, id);
  return { max: max as number, holders: decoded, unknown: pick(parsed, TOP_FIELDS) };
}

/**
 * Writes the annotation as kube-lock's Go encoder would (fields in struct order, holders sorted by
 * name), with koncli's holder fields and any unknown fields after kube-lock's.
 */
export function encodeSemaphore(state: SemaphoreState): string {
  const holders: Record<string, unknown> = {};
  for (const id of Object.keys(state.holders).sort()) {
    const h = state.holders[id];
    holders[id] = {
      date: h.date,
      reason: h.reason,
      ...(h.ttlSeconds !== undefined && { ttlSeconds: h.ttlSeconds }),
      ...(h.expires !== undefined && { expires: h.expires }),
      ...h.unknown,
    };
  }
  return JSON.stringify({ max: state.max, holders, ...state.unknown });
}
