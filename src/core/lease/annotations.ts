import { KoncliError } from '../errors.js';
import { defaultExtras, type LeaseExtras, type Waiter, type WaiterQueue } from './model.js';

export const ANNOTATION_PREFIX = 'koncli.dev/';
export const ANNOTATIONS = {
  renewals: `${ANNOTATION_PREFIX}renewals`,
  priority: `${ANNOTATION_PREFIX}priority`,
  renewable: `${ANNOTATION_PREFIX}renewable`,
  reason: `${ANNOTATION_PREFIX}reason`,
  waiters: `${ANNOTATION_PREFIX}waiters`,
} as const;

const corrupt = (key: string, value: string, expected: string) =>
  new KoncliError('corrupt', `annotation ${key}=${JSON.stringify(value.slice(0, 80))} is not ${expected}; fix it or remove it (kubectl annotate … ${key}-)`, {
    annotation: key,
  });

function integer(annotations: Record<string, string>, key: string, fallback: number): number {
  const value = annotations[key];
  if (value === undefined) return fallback;
  if (!/^-?\d{1,15}$/.test(value)) throw corrupt(key, value, 'an integer');
  return Number(value);
}

function isWaiter(w: unknown): w is Waiter {
  if (typeof w !== 'object' || w === null) return false;
  const { id, priority, seq, beat } = w as Record<string, unknown>;
  return typeof id === 'string' && id !== '' && [priority, seq, beat].every(Number.isSafeInteger);
}

function queue(annotations: Record<string, string>): WaiterQueue {
  const value = annotations[ANNOTATIONS.waiters];
  if (value === undefined) return defaultExtras().queue;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw corrupt(ANNOTATIONS.waiters, value, 'JSON');
  }
  const { next, waiters } = (parsed ?? {}) as Record<string, unknown>;
  if (!Number.isSafeInteger(next) || !Array.isArray(waiters) || !waiters.every(isWaiter)) {
    throw corrupt(ANNOTATIONS.waiters, value, 'a waiter queue {"next":N,"waiters":[{"id","priority","seq","beat"}]}');
  }
  return { next: next as number, waiters };
}

/** Reads koncli's facts from a Lease's annotations; a Lease without them gets the defaults. */
export function decodeExtras(annotations: Record<string, string> = {}): LeaseExtras {
  const renewable = annotations[ANNOTATIONS.renewable];
  if (renewable !== undefined && renewable !== 'true' && renewable !== 'false') {
    throw corrupt(ANNOTATIONS.renewable, renewable, '"true" or "false"');
  }
  return {
    renewals: integer(annotations, ANNOTATIONS.renewals, 0),
    priority: integer(annotations, ANNOTATIONS.priority, 0),
    renewable: renewable !== 'false',
    reason: annotations[ANNOTATIONS.reason],
    queue: queue(annotations),
  };
}

/**
 * Writes koncli's facts into an annotation map, leaving every other annotation as it was.
 * A queue-only write touches only the waiters annotation, so a Lease held by another tool
 * gains nothing but koncli's queue.
 */
export function encodeExtras(extras: LeaseExtras, annotations: Record<string, string> = {}, purpose: 'holder' | 'queue' = 'holder'): Record<string, string> {
  const out: Record<string, string> = { ...annotations };
  if (purpose === 'holder') {
    out[ANNOTATIONS.renewals] = String(extras.renewals);
    out[ANNOTATIONS.priority] = String(extras.priority);
    out[ANNOTATIONS.renewable] = String(extras.renewable);
    if (extras.reason) out[ANNOTATIONS.reason] = extras.reason;
    else delete out[ANNOTATIONS.reason];
  }
  if (extras.queue.waiters.length > 0) out[ANNOTATIONS.waiters] = JSON.stringify(extras.queue);
  else delete out[ANNOTATIONS.waiters];
  return out;
}
