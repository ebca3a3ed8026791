import type { KeptClaim } from '../claim/keeper.js';
import { KoncliError } from '../errors.js';
import { decodeSemaphore, encodeSemaphore } from './codec.js';
import { judgeHolders } from './judge.js';
import { SEMAPHORE_ANNOTATION, semaphoreKey, type SemaphoreContext, type SemaphoreObject } from './model.js';

export interface KeptSlot {
  name: string;
  holder: string;
  ttlSeconds: number;
  /** The ConfigMap as the acquiring write left it. */
  written: SemaphoreObject;
  /** Monotonic ms the acquiring write was sent. */
  sentAt: number;
}

/**
 * Why the slot is no longer `holder`'s in `obj` (null: the ConfigMap was deleted): its entry was
 * removed by someone else (an unlock --force, a re-applied annotation), the ConfigMap was re-created,
 * or the slot lapsed; undefined while it holds. Throws `corrupt` for an unreadable annotation.
 */
export function slotLost(ctx: SemaphoreContext, slot: KeptSlot, obj: SemaphoreObject | null): string | undefined {
  const { name, holder } = slot;
  if (!obj) return `semaphore ${name} (ConfigMap ${name}) was deleted`;
  if (slot.written.uid !== undefined && obj.uid !== undefined && obj.uid !== slot.written.uid) return `ConfigMap ${name} was deleted and created again`;
  if (obj.annotation === undefined) return `the ${SEMAPHORE_ANNOTATION} annotation of ConfigMap ${name} was removed`;
  const state = decodeSemaphore(name, obj.annotation);
  if (!(holder in state.holders)) return `${holder} no longer holds a slot of semaphore ${name}: its entry was removed by someone else`;
  const mine = judgeHolders(state, ctx.tracker, semaphoreKey(obj), ctx.clock.now()).find((v) => v.id === holder);
  return mine?.expired ? `the slot of ${holder} in semaphore ${name} lapsed` : undefined;
}

/**
 * A held slot for the claim keeper (core/claim/keeper.ts): lost as `slotLost` says; renewed by
 * re-stamping its `expires` (an upper bound of the server clock at the renewal's sending, plus the
 * TTL), written only while the ConfigMap is at the version read.
 */
export function keptSlot(ctx: SemaphoreContext, slot: KeptSlot): KeptClaim<SemaphoreObject> {
  const { name, holder, ttlSeconds } = slot;
  return {
    what: `semaphore ${name}`,
    store: ctx.store,
    name,
    written: slot.written,
    sentAt: slot.sentAt,
    lostIn: (obj) => slotLost(ctx, slot, obj),
    renew: async (current) => {
      const why = slotLost(ctx, slot, current);
      if (why !== undefined) throw new KoncliError('lost', why);
      const obj = current!;
      const state = decodeSemaphore(name, obj.annotation!);
      const server = ctx.serverClock.serverTimeAtMost(ctx.clock.now());
      if (server === undefined) throw new KoncliError('error', `cannot renew semaphore ${name}: the API server's clock is unknown (no Date header seen)`);
      const entry = { ...state.holders[holder], ttlSeconds, expires: new Date(server + ttlSeconds * 1000).toISOString() };
      return ctx.store.write(obj, encodeSemaphore({ ...state, holders: { ...state.holders, [holder]: entry } }));
    },
    withRequestTimeout: ctx.store.withRequestTimeout?.bind(ctx.store),
  };
}
