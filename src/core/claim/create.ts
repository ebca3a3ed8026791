import { usageError } from '../errors.js';
import type { Plan, Read } from './engine.js';
import type { RecordObject } from './model.js';

export interface Created {
  outcome: 'created' | 'exists';
  object: RecordObject;
}

/**
 * `KIND create NAME [--ttl D]` of any primitive whose record carries its own TTL: writes `fresh()`
 * when the object does not exist; an existing one is left as it is (`exists`), unless --ttl asks
 * for another TTL: refused (usage, exit 2), nothing changed.
 */
export const planCreate =
  <S extends { ttlSeconds?: number }>(kind: string, name: string, ttlSeconds: number | undefined, fresh: () => S) =>
  (read: Read<S>): Plan<S, Created> => {
    if (!read.obj || !read.state) return { write: fresh(), result: (object) => ({ outcome: 'created', object }) };
    const has = read.state.ttlSeconds;
    if (ttlSeconds !== undefined && has !== ttlSeconds)
      throw usageError(`${kind} ${name} already exists with ${has === undefined ? 'no TTL' : `a TTL of ${has}s`}; delete it first to change its --ttl`);
    return { done: { outcome: 'exists', object: read.obj } };
  };
