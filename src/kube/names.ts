import { CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { LOCK_ANNOTATION_PREFIX } from '../core/kubelock/codec.js';
import { SEMAPHORE_ANNOTATION } from '../core/semaphore/model.js';
import type { KubeClient } from './client.js';
import { KONDUCTOR_LEASE } from './konductor-lease.js';

const namesOf = (list: { items?: { metadata?: { name?: string } }[] }) => (list.items ?? []).map((i) => i.metadata?.name ?? '').filter(Boolean);

/** Names for shell completion: one list request each (metadata is all they need). */
export const completionNames = {
  namespaces: async (client: KubeClient) => namesOf(await client.api(CoreV1Api).listNamespace()),

  leases: async (client: KubeClient, kind: string | undefined) => {
    if (kind === 'konductor') {
      const { group, version, plural } = KONDUCTOR_LEASE;
      const list: unknown = await client.api(CustomObjectsApi).listNamespacedCustomObject({ group, version, plural, namespace: client.namespace });
      return namesOf(list as { items?: { metadata?: { name?: string } }[] });
    }
    return namesOf(await client.api(CoordinationV1Api).listNamespacedLease({ namespace: client.namespace }));
  },

  semaphores: async (client: KubeClient) => {
    const list = await client.api(CoreV1Api).listNamespacedConfigMap({ namespace: client.namespace });
    return list.items.filter((cm) => cm.metadata?.annotations?.[SEMAPHORE_ANNOTATION] !== undefined).map((cm) => cm.metadata!.name!);
  },

  /** `TYPE/NAME` of every object of TYPE (what was typed before the `/`). */
  objects: async (client: KubeClient, typed: string) => {
    const slash = typed.indexOf('/');
    if (slash < 0) return [];
    const type = typed.slice(0, slash);
    const [{ DynamicObjectApi }, { ResourceResolver }] = await Promise.all([import('./object-api.js'), import('./resource-resolver.js')]);
    const api = new DynamicObjectApi(client);
    const resource = await new ResourceResolver(api).resolve(type);
    const items = await api.listMetadata(resource, resource.namespaced ? client.namespace : undefined);
    return items.map((i) => `${type}/${i.metadata?.name ?? ''}`);
  },

  /** The kubelock lock names on TYPE/NAME. */
  locks: async (client: KubeClient, target: string | undefined) => {
    const [type, name] = (target ?? '').split('/');
    if (!type || !name) return [];
    const [{ DynamicObjectApi }, { ResourceResolver }] = await Promise.all([import('./object-api.js'), import('./resource-resolver.js')]);
    const api = new DynamicObjectApi(client);
    const resource = await new ResourceResolver(api).resolve(type);
    const obj = await api.readObject(resource, name, resource.namespaced ? client.namespace : undefined);
    return Object.keys(obj.metadata?.annotations ?? {})
      .filter((k) => k.startsWith(LOCK_ANNOTATION_PREFIX))
      .map((k) => k.slice(LOCK_ANNOTATION_PREFIX.length));
  },
};
