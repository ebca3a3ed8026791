import type { GateStores } from '../core/primitives/gate-judge.js';
import type { KubeClient } from '../kube/client.js';

/** The stores a gate's conditions are read and watched through, one per kind and namespace, on one client. */
export async function openGateStores(client: KubeClient): Promise<GateStores> {
  const [{ KubeJobStore }, { KubeLeaseStore }, { ConfigMapSemaphoreStore }, { ConfigMapRecordStore }] = await Promise.all([
    import('../kube/job-store.js'),
    import('../kube/lease-store.js'),
    import('../kube/configmap-semaphore-store.js'),
    import('../kube/primitive-store.js'),
  ]);
  const cache = new Map<string, unknown>();
  const once = <T>(key: string, make: () => T): T => (cache.has(key) ? (cache.get(key) as T) : (cache.set(key, make()), cache.get(key) as T));
  return {
    clock: client.clock,
    serverClock: client.serverClock,
    expiry: { maxClockSkewMs: client.maxClockSkewMs },
    jobs: (ns) => once(`job/${ns}`, () => new KubeJobStore(client, ns)),
    leases: (ns) => once(`lease/${ns}`, () => new KubeLeaseStore(client, ns)),
    semaphores: (ns) => once(`semaphore/${ns}`, () => new ConfigMapSemaphoreStore(client, ns)),
    records: (kind, ns) => once(`${kind}/${ns}`, () => new ConfigMapRecordStore(client, ns, kind)),
  };
}
