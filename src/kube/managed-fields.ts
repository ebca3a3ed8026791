// When the server last wrote the fields a tool owns, from an object's managedFields (read by every
// store's decode, waiting or not).
import { MANAGED_FIELDS_PRECISION_MS } from '../core/timing.js';

/** A managedFields entry as far as write times need it: a Date from a typed read, a string from a watch event. */
export interface ManagedFieldsEntry {
  time?: Date | string;
  fieldsV1?: object;
}

/** A fieldsV1 set: `f:<field>` keys, each a nested set. */
export type FieldSet = { [key: string]: FieldSet | undefined };

/**
 * The latest server time (ms since the epoch, an upper bound) at which a field manager owning part of
 * the claim (`owns` of its fieldsV1) wrote; undefined when the object has no such entry (no managedFields).
 */
export function lastWriteOf(managedFields: readonly ManagedFieldsEntry[] | undefined, owns: (fields: FieldSet) => boolean): number | undefined {
  let latest: number | undefined;
  for (const entry of managedFields ?? []) {
    if (!entry?.time || !owns((entry.fieldsV1 ?? {}) as FieldSet)) continue;
    const t = new Date(entry.time).getTime();
    if (!Number.isNaN(t) && (latest === undefined || t > latest)) latest = t;
  }
  // managedFields times have whole-second precision: the write happened before the next second.
  return latest === undefined ? undefined : latest + MANAGED_FIELDS_PRECISION_MS;
}
