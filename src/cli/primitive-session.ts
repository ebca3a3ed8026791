import type { ClaimContext } from '../core/claim/model.js';
import type { KubeClient } from '../kube/client.js';
import type { RecordListing } from '../kube/primitive-store.js';

/** The record store of one primitive kind (a labelled ConfigMap each), with the clocks that judge its claims; `listing`: what its `list` covers (-A, -l). */
export async function openPrimitive(client: KubeClient, kind: string, listing?: RecordListing): Promise<ClaimContext> {
  const [{ claimContext }, { ConfigMapRecordStore }] = await Promise.all([import('../core/claim/model.js'), import('../kube/primitive-store.js')]);
  const ctx = claimContext(new ConfigMapRecordStore(client, client.namespace, kind, listing), client.clock, client.serverClock, {
    maxClockSkewMs: client.maxClockSkewMs,
  });
  return { ...ctx, withRequestTimeout: (ms, fn) => client.withRequestTimeout(ms, fn) };
}
