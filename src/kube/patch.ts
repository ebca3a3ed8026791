import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ObjectIdentity } from '../core/identity.js';

/** Per-call options that send a JSON merge patch (client-node defaults to JSON Patch). */
export const mergePatchOptions = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * The merge-patch form of a change to a string map: changed and new keys with their values,
 * removed keys as null. Keys not mentioned are left as they are on the server.
 */
export function mapPatch(before: Record<string, string> = {}, after: Record<string, string> = {}): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(after)) if (before[k] !== v) patch[k] = v;
  for (const k of Object.keys(before)) if (!(k in after)) patch[k] = null;
  return patch;
}

/** Timestamps arrive as Date (typed API) or string (watch); normalise to ISO with ms precision. */
export function isoTime(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
  if (date === undefined) return undefined;
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** JSON with object keys sorted, so that equal values give equal text (claim fingerprints). */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? sortedKeys(v as Record<string, unknown>) : v));

const sortedKeys = (o: Record<string, unknown>) =>
  Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]]),
  );

/** uid and terminating state from an object's metadata (typed read or watch event): core/identity.ts. */
export function identityOf(meta: { uid?: unknown; deletionTimestamp?: unknown; finalizers?: unknown } | undefined): ObjectIdentity {
  const since = isoTime(meta?.deletionTimestamp);
  const finalizers = Array.isArray(meta?.finalizers) ? meta.finalizers.filter((f): f is string => typeof f === 'string') : [];
  return {
    ...(typeof meta?.uid === 'string' && { uid: meta.uid }),
    ...(since !== undefined && { terminating: { since, finalizers } }),
  };
}
