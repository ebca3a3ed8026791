import { KoncliError } from '../errors.js';
import { decodeSemaphore } from './codec.js';
import { SEMAPHORE_ANNOTATION, type SemaphoreContext } from './model.js';

/** Reads the semaphore's object and state; not-found when there is no semaphore by that name. */
export async function readSemaphore(ctx: SemaphoreContext, name: string, namespace: string) {
  const object = await ctx.store.get(name);
  if (!object) throw new KoncliError('not-found', `semaphore ${name} (a ConfigMap) does not exist in namespace ${namespace}`);
  if (object.annotation === undefined) {
    throw new KoncliError('not-found', `ConfigMap ${name} in namespace ${namespace} is not a semaphore (it has no ${SEMAPHORE_ANNOTATION} annotation)`);
  }
  return { object, state: decodeSemaphore(name, object.annotation) };
}
