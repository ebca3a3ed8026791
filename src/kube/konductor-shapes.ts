import { MUTEX_SHAPE, ONCE_SHAPE, RWMUTEX_SHAPE, type KonductorShape } from './konductor-primitive.js';
import { BARRIER_SHAPE, GATE_SHAPE, WAITGROUP_SHAPE } from './konductor-rendezvous.js';
import { SEMAPHORE_SHAPE } from './konductor-semaphore.js';

/** The konductor.io/v1 shapes koncli supports, by engine kind (`--kind konductor`; the others are a usage error). */
export const KONDUCTOR_SHAPES: Record<string, KonductorShape> = {
  mutex: MUTEX_SHAPE,
  once: ONCE_SHAPE,
  rwmutex: RWMUTEX_SHAPE,
  barrier: BARRIER_SHAPE,
  waitgroup: WAITGROUP_SHAPE,
  gate: GATE_SHAPE,
  /** Its store is kube/konductor-semaphore-store.ts (the Permits beside the record). */
  semaphore: SEMAPHORE_SHAPE,
};
