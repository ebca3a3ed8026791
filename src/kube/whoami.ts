import { AuthenticationV1Api } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';

/**
 * The Kubernetes user this client acts as, from a SelfSubjectReview (authentication.k8s.io/v1,
 * what `kubectl auth whoami` asks); null when the server cannot tell (an older server, RBAC).
 */
export async function whoAmI(client: KubeClient): Promise<string | null> {
  try {
    const review = await client.call({ verb: 'create', resource: 'selfsubjectreviews.authentication.k8s.io' }, () =>
      client.api(AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } }),
    );
    return review.status?.userInfo?.username ?? null;
  } catch {
    return null;
  }
}
