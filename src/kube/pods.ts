import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';

/** Whether a Pod of that name exists (null when we may not tell: RBAC, invalid name, errors). */
export async function podExists(client: KubeClient, namespace: string, name: string): Promise<boolean | null> {
  try {
    await client.call({ verb: 'get', resource: 'pods', name, namespace }, () => client.api(CoreV1Api).readNamespacedPod({ name, namespace }));
    return true;
  } catch (err) {
    return (err as { kind?: string }).kind === 'not-found' ? false : null;
  }
}
