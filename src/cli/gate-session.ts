import type { GateStores } from '../core/primitives/gate-judge.js';
import type { KubeClient } from '../kube/client.js';
import type { PrimitiveStorage } from './primitive-session.js';

/**
 * The stores a gate's conditions are read and watched through, one per kind and namespace, on one
 * client; barriers, gates and leases on `storage` (the gate's own --kind). With konductor, a Lease
 * condition names a konductor.io/v1 Lease, as konductor's controller reads it
 * (controllers/gate_controller.go gets a syncv1.Lease); natively, a coordination.k8s.io/v1 Lease.
 */
export async function openGateStores(client: KubeClient, storage: PrimitiveStorage = 'native'): Promise<GateStores> {
  const [{ KubeJobStore }, { KubeLeaseStore }, { ConfigMapSemaphoreStore }, { ConfigMapRecordStore }] = await Promise.all([
    import('../kube/job-store.js'),
    import('../kube/lease-store.js'),
    import('../kube/configmap-semaphore-store.js'),
    import('../kube/primitive-store.js'),
  ]);
  const konductor =
    storage === 'konductor'
      ? {
          ...(await import('../kube/konductor-shapes.js')),
          ...(await import('../kube/konductor-primitive-store.js')),
          ...(await import('../kube/konductor-lease-store.js')),
        }
      : undefined;
  const cache = new Map<string, unknown>();
  const once = <T>(key: string, make: () => T): T => (cache.has(key) ? (cache.get(key) as T) : (cache.set(key, make()), cache.get(key) as T));
  return {
    clock: client.clock,
    serverClock: client.serverClock,
    expiry: { maxClockSkewMs: client.maxClockSkewMs },
    jobs: (ns) => once(`job/${ns}`, () => new KubeJobStore(client, ns)),
    leases: (ns) => once(`lease/${ns}`, () => (konductor ? new konductor.KonductorLeaseStore(client, ns) : new KubeLeaseStore(client, ns))),
    semaphores: (ns) => once(`semaphore/${ns}`, () => new ConfigMapSemaphoreStore(client, ns)),
    records: (kind, ns) =>
      once(`${kind}/${ns}`, () =>
        konductor ? new konductor.KonductorRecordStore(client, ns, konductor.KONDUCTOR_SHAPES[kind]) : new ConfigMapRecordStore(client, ns, kind),
      ),
  };
}
