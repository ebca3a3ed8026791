// Who waits for a lease, read straight from the cluster the way koncli registers waiters
// (docs/lease.md, "Waiting"): one candidate Lease per waiter, labelled with the lease it waits for.
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';

/** The label koncli puts on a waiter's candidate (src/kube/lease-candidates.ts): the lease it waits for. */
export const CANDIDATE_FOR_LABEL = 'koncli.dev/candidate-for';

/** Waiters' candidate Leases for lease `name` (kind `Lease`, or `Lease.konductor.io` with --kind konductor). */
export async function candidatesOf(kc: KubeConfig, namespace: string, name: string, kind = 'Lease'): Promise<V1Lease[]> {
  const labelSelector = `${CANDIDATE_FOR_LABEL}=${name},koncli.dev/candidate-kind=${kind}`;
  const list = await kc.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace, labelSelector });
  return list.items;
}

/** The ids of the waiters registered for lease `name`: the holders of its candidates. */
export async function waiterIds(kc: KubeConfig, namespace: string, name: string, kind = 'Lease'): Promise<string[]> {
  return (await candidatesOf(kc, namespace, name, kind)).map((c) => c.spec?.holderIdentity ?? '');
}

/** The ids in a lease's legacy koncli.dev/waiters annotation (written by koncli before candidates). */
export function legacyWaiterIds(annotations: Record<string, string> | undefined): string[] {
  return JSON.parse(annotations?.['koncli.dev/waiters'] ?? '{"waiters":[]}').waiters.map((w: { id: string }) => w.id);
}
