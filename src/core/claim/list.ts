import { KoncliError } from '../errors.js';
import { readOf, type Read } from './engine.js';
import type { ClaimContext, ClaimKind } from './model.js';

/** A listed object koncli cannot read: listed as such (state `corrupt`) with the reason, never skipped. */
export interface UnreadableRow {
  kind: string;
  namespace: string;
  name: string;
  state: 'corrupt';
  error: { kind: string; message: string };
}

/**
 * Every object of one kind in the store's namespace, each decoded, judged and described (`describe`:
 * the kind's own, in the shared vocabulary). The per-kind lister `koncli status` builds on; `list` prints it.
 */
export async function listRecords<S, D>(ctx: ClaimContext, kind: ClaimKind<S>, describe: (read: Read<S>) => D): Promise<(D | UnreadableRow)[]> {
  const objects = await ctx.store.list();
  return objects.map((obj) => {
    try {
      return describe(readOf(ctx, kind, obj.name, obj));
    } catch (err) {
      if (!(err instanceof KoncliError)) throw err;
      return { kind: kind.kind, namespace: obj.namespace, name: obj.name, state: 'corrupt' as const, error: { kind: err.kind, message: err.message } };
    }
  });
}
