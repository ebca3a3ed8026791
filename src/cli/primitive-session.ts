import type { ClaimContext } from '../core/claim/model.js';
import type { KubeClient } from '../kube/client.js';

/** The record store of one primitive kind (a labelled ConfigMap each), with the clocks that judge its claims. */
export async function openPrimitive(client: KubeClient, kind: string): Promise<ClaimContext> {
  const [{ claimContext }, { ConfigMapRecordStore }] = await Promise.all([import('../core/claim/model.js'), import('../kube/primitive-store.js')]);
  const ctx = claimContext(new ConfigMapRecordStore(client, client.namespace, kind), client.clock, client.serverClock, {
    maxClockSkewMs: client.maxClockSkewMs,
  });
  return { ...ctx, withRequestTimeout: (ms, fn) => client.withRequestTimeout(ms, fn) };
}
