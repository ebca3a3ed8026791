import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

/** Records a Kubernetes Event on an object (e.g. who force-released a lock, and from whom). */
export async function recordEvent(client: KubeClient, object: InvolvedObject, reason: string, message: string): Promise<void> {
  const namespace = object.namespace ?? 'default';
  const now = new Date();
  await client.call({ verb: 'create', resource: 'events', namespace }, () =>
    client.api(CoreV1Api).createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${object.name}.`, namespace },
        involvedObject: object,
        reason,
        message,
        type: 'Warning',
        source: { component: 'koncli' },
        reportingComponent: 'koncli',
        reportingInstance: process.env.HOSTNAME ?? 'koncli',
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    }),
  );
}
