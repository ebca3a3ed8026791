import type { LeaseContext } from '../core/lease/context.js';
import type { LeaseStore } from '../core/lease/model.js';
import type { KubeClient } from '../kube/client.js';

export type LeaseKind = 'native' | 'konductor';

/** The lease store for the chosen API, with the expiry tracker that judges it. */
export async function openLeases(client: KubeClient, kind: LeaseKind, namespace = client.namespace): Promise<LeaseContext & { store: LeaseStore }> {
  const [{ leaseContext }, store] = await Promise.all([import('../core/lease/context.js'), leaseStoreFor(client, kind, namespace)]);
  return leaseContext(store, client.clock, client.serverClock, {
    maxClockSkewMs: client.maxClockSkewMs,
    withRequestTimeout: (ms, fn) => client.withRequestTimeout(ms, fn),
  });
}

async function leaseStoreFor(client: KubeClient, kind: LeaseKind, namespace: string): Promise<LeaseStore> {
  if (kind === 'konductor') {
    const { KonductorLeaseStore } = await import('../kube/konductor-lease-store.js');
    return new KonductorLeaseStore(client, namespace);
  }
  const { KubeLeaseStore } = await import('../kube/lease-store.js');
  return new KubeLeaseStore(client, namespace);
}
