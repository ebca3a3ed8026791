import type { SemaphoreContext } from '../core/semaphore/model.js';
import type { KubeClient } from '../kube/client.js';

/** The ConfigMap semaphore store, with the expiry tracker that judges its holders. */
export async function openSemaphores(client: KubeClient, namespace = client.namespace): Promise<SemaphoreContext> {
  const [{ semaphoreContext }, { ConfigMapSemaphoreStore }] = await Promise.all([
    import('../core/semaphore/model.js'),
    import('../kube/configmap-semaphore-store.js'),
  ]);
  return semaphoreContext(new ConfigMapSemaphoreStore(client, namespace), client.clock, client.serverClock, { maxClockSkewMs: client.maxClockSkewMs });
}
