// The control plane is real: Leases round-trip through etcd with resourceVersions,
// optimistic concurrency rejects stale writes, and RBAC is enforced for the restricted user.
import { describe, expect, it, beforeAll } from '@jest/globals';
import { CoordinationV1Api, CoreV1Api, type V1Lease } from '@kubernetes/client-node';
import { adminConfig, bindRestricted, freshNamespace, isApiError, restrictedConfig, restrictedNamespace } from './helpers.js';

/** Run `fn`, expecting an ApiException; return its HTTP status code. */
async function statusOf(fn: () => Promise<unknown>): Promise<number> {
  try {
    await fn();
  } catch (err) {
    for (const code of [401, 403, 404, 409, 422]) if (isApiError(err, code)) return code;
    throw err;
  }
  throw new Error('expected the API call to fail');
}

function lease(name: string, holder: string): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name },
    spec: { holderIdentity: holder, leaseDurationSeconds: 15 },
  };
}

describe('local control plane', () => {
  let ns: string;
  const admin = () => adminConfig().makeApiClient(CoordinationV1Api);

  beforeAll(async () => {
    ns = await freshNamespace('plane');
  });

  it('stores a Lease and reads it back with a resourceVersion', async () => {
    const created = await admin().createNamespacedLease({ namespace: ns, body: lease('roundtrip', 'alice') });
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata?.uid).toBeTruthy();

    const read = await admin().readNamespacedLease({ name: 'roundtrip', namespace: ns });
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    expect(read.spec?.holderIdentity).toBe('alice');
    expect(read.spec?.leaseDurationSeconds).toBe(15);
  });

  it('rejects an update carrying a stale resourceVersion with 409', async () => {
    const api = admin();
    const v1 = await api.createNamespacedLease({ namespace: ns, body: lease('cas', 'alice') });
    const v2 = await api.replaceNamespacedLease({
      name: 'cas',
      namespace: ns,
      body: { ...v1, spec: { ...v1.spec, holderIdentity: 'bob' } },
    });
    expect(v2.metadata?.resourceVersion).not.toBe(v1.metadata?.resourceVersion);

    // v1's resourceVersion is now stale: the write must lose.
    const stale = { ...v1, spec: { ...v1.spec, holderIdentity: 'carol' } };
    expect(await statusOf(() => api.replaceNamespacedLease({ name: 'cas', namespace: ns, body: stale }))).toBe(409);

    const current = await api.readNamespacedLease({ name: 'cas', namespace: ns });
    expect(current.spec?.holderIdentity).toBe('bob');
    expect(current.metadata?.resourceVersion).toBe(v2.metadata?.resourceVersion);
  });

  it('denies the restricted user secrets but lets it update a Lease where it is bound', async () => {
    const boundNs = await freshNamespace('restricted');
    await bindRestricted(boundNs);
    const core = restrictedConfig().makeApiClient(CoreV1Api);
    const leases = restrictedConfig().makeApiClient(CoordinationV1Api);

    expect(await statusOf(() => core.listNamespacedSecret({ namespace: boundNs }))).toBe(403);
    expect(await statusOf(() => core.listSecretForAllNamespaces())).toBe(403);
    // Not bound in the admin's test namespace at all.
    expect(await statusOf(() => leases.listNamespacedLease({ namespace: ns }))).toBe(403);

    await admin().createNamespacedLease({ namespace: boundNs, body: lease('shared', 'admin') });
    const before = await leases.readNamespacedLease({ name: 'shared', namespace: boundNs });
    const after = await leases.replaceNamespacedLease({
      name: 'shared',
      namespace: boundNs,
      body: { ...before, spec: { ...before.spec, holderIdentity: 'koncli-restricted' } },
    });
    expect(after.spec?.holderIdentity).toBe('koncli-restricted');
    expect(after.metadata?.resourceVersion).not.toBe(before.metadata?.resourceVersion);
  });

  it('pre-binds the restricted user in its own namespace at cluster start', async () => {
    const leases = restrictedConfig().makeApiClient(CoordinationV1Api);
    const list = await leases.listNamespacedLease({ namespace: restrictedNamespace() });
    expect(Array.isArray(list.items)).toBe(true);
  });
});
