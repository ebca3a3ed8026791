import type { ClaimContext } from '../core/claim/model.js';
import { KoncliError } from '../core/errors.js';
import type { KubeClient } from '../kube/client.js';
import type { RecordListing } from '../kube/primitive-store.js';

/** Where a primitive lives: `native` (a labelled ConfigMap, docs/formats.md) or `konductor` (a konductor.io/v1 object, docs/konductor.md). */
export type PrimitiveStorage = 'native' | 'konductor';

/**
 * The record store of one primitive kind on the chosen storage, with the clocks that judge its claims;
 * `listing`: what its `list` covers (-A, -l).
 */
export async function openPrimitive(client: KubeClient, kind: string, storage: PrimitiveStorage = 'native', listing?: RecordListing): Promise<ClaimContext> {
  const { claimContext } = await import('../core/claim/model.js');
  const store =
    storage === 'konductor'
      ? await konductorStore(client, kind, listing)
      : new (await import('../kube/primitive-store.js')).ConfigMapRecordStore(client, client.namespace, kind, listing);
  const ctx = claimContext(store, client.clock, client.serverClock, { maxClockSkewMs: client.maxClockSkewMs });
  return { ...ctx, withRequestTimeout: (ms, fn) => client.withRequestTimeout(ms, fn) };
}

async function konductorStore(client: KubeClient, kind: string, listing: RecordListing = {}) {
  const [{ KONDUCTOR_SHAPES }, { konductorRecordStoreOf }] = await Promise.all([
    import('../kube/konductor-shapes.js'),
    import('../kube/konductor-semaphore-store.js'),
  ]);
  const shape = KONDUCTOR_SHAPES[kind];
  if (!shape) {
    const supported = Object.keys(KONDUCTOR_SHAPES).join(', ');
    throw new KoncliError('usage', `--kind konductor is not supported for ${kind} (only ${supported}); use --kind native`);
  }
  return konductorRecordStoreOf(client, client.namespace, shape, listing);
}
