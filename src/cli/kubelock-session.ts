import type { KubelockContext } from '../core/kubelock/model.js';
import { usageError } from '../core/errors.js';
import type { KubeClient } from '../kube/client.js';
import type { ObjectKubelockStore } from '../kube/kubelock-store.js';
import { validateObjectName } from './validate.js';

/** TYPE/NAME as kubectl takes it ("cm/foo", "deployments.apps/web", "ns/team-a"). */
export function parseTarget(target: string): { type: string; name: string } {
  const parts = target.split('/');
  if (parts.length !== 2 || !/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(parts[0]) || parts[1] === '') {
    throw usageError(`${JSON.stringify(target)} is not TYPE/NAME; use e.g. configmap/foo, deployments.apps/web or namespace/team-a`);
  }
  return { type: parts[0], name: validateObjectName(parts[1], 'object') };
}

/** Resolves TYPE by discovery and opens the annotation store of that resource, with its expiry tracker. */
export async function openKubelocks(client: KubeClient, type: string): Promise<KubelockContext & { store: ObjectKubelockStore }> {
  const [{ kubelockContext }, { DynamicObjectApi }, { ResourceResolver }, { ObjectKubelockStore }] = await Promise.all([
    import('../core/kubelock/model.js'),
    import('../kube/object-api.js'),
    import('../kube/resource-resolver.js'),
    import('../kube/kubelock-store.js'),
  ]);
  const api = new DynamicObjectApi(client);
  const resource = await new ResourceResolver(api).resolve(type);
  const store = new ObjectKubelockStore(client, api, resource, resource.namespaced ? client.namespace : undefined);
  return { ...kubelockContext(store, client.clock, client.serverClock, { maxClockSkewMs: client.maxClockSkewMs }), store };
}
