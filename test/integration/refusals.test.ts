// What the API server refuses for reasons other than RBAC is reported as such (exit 10, `rejected`,
// the server's reason, no RBAC advice): a namespace being terminated, a ResourceQuota, a validating
// webhook's denial, and a 422 (annotations over 256 KiB). RBAC's own 403 stays exit 7.
// See docs/exit-codes.md.
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { clusterArgs, runKoncli } from '../support/cli.js';
import { sleep } from '../support/poll.js';
import { deleteWebhook, registerWebhook, startWebhook } from '../support/admission.js';
import { adminConfig, adminKubeconfigPath, freshNamespace, restrictedKubeconfigPath } from './helpers.js';

const core = () => adminConfig().makeApiClient(CoreV1Api);
const leases = () => adminConfig().makeApiClient(CoordinationV1Api);

/** Runs koncli as admin in `ns` with --json; returns the exit code, the error document and the stderr lines. */
async function refused(ns: string, ...args: string[]) {
  const r = await runKoncli([...args, '--json', ...clusterArgs(adminKubeconfigPath(), ns)]);
  return { code: r.code, error: JSON.parse(r.stdout).error, stderr: r.stderr.trim().split('\n') };
}

/** Nothing about RBAC in what koncli said. */
function expectNoRbacAdvice(r: { error: { message: string }; stderr: string[] }) {
  expect(r.error.message).not.toMatch(/grant|rbac/i);
  expect(r.stderr.join('\n')).not.toMatch(/grant|rbac/i);
}

test('a namespace being terminated: exit 10 with the server’s reason, not RBAC advice', async () => {
  const ns = await freshNamespace('refusals-terminating');
  await core().deleteNamespace({ name: ns });
  // No controller-manager runs here: the namespace stays Terminating (its spec.finalizers are never cleared).
  expect((await core().readNamespace({ name: ns })).status?.phase).toBe('Terminating');
  const r = await refused(ns, 'lease', 'acquire', 'job', '--holder', 'a', '--timeout', '0');
  expect(r.code).toBe(10);
  expect(r.error).toMatchObject({ kind: 'rejected', exitCode: 10, status: 403, reason: 'Forbidden', transient: false });
  expect(r.error.message).toMatch(/^the API server refused to create leases\.coordination\.k8s\.io job in namespace \S+: .*because it is being terminated$/);
  expect(r.stderr).toEqual([`koncli: error: ${r.error.message}`]);
  expectNoRbacAdvice(r);
});

describe('refusals in a live namespace', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await freshNamespace('refusals');
  });

  test('a ResourceQuota on Leases: exit 10 quoting the quota; an existing Lease can still be taken', async () => {
    await leases().createNamespacedLease({ namespace: ns, body: { metadata: { name: 'before-quota' } } });
    await core().createNamespacedResourceQuota({
      namespace: ns,
      body: { metadata: { name: 'no-leases' }, spec: { hard: { 'count/leases.coordination.k8s.io': '1' } } },
    });
    // The quota controller (controller-manager) does not run here: set the usage it would have counted.
    const usage = { 'count/leases.coordination.k8s.io': '1' };
    const quota = await core().readNamespacedResourceQuota({ name: 'no-leases', namespace: ns });
    await core().replaceNamespacedResourceQuotaStatus({ name: 'no-leases', namespace: ns, body: { ...quota, status: { hard: usage, used: usage } } });
    const r = await refused(ns, 'lease', 'acquire', 'new-one', '--holder', 'a', '--timeout', '0');
    expect(r.code).toBe(10);
    expect(r.error).toMatchObject({ kind: 'rejected', status: 403 });
    expect(r.error.message).toMatch(/exceeded quota: no-leases/);
    expectNoRbacAdvice(r);
    // An update is not a create: the quota does not stop taking an existing Lease.
    const taken = await runKoncli(['lease', 'acquire', 'before-quota', '--holder', 'a', '--timeout', '0', ...clusterArgs(adminKubeconfigPath(), ns)]);
    expect(taken.code).toBe(0);
  });

  test('annotations over 256 KiB (HTTP 422): exit 10 quoting the server, not 2 (bad input before any request)', async () => {
    await core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'full', annotations: { filler: 'a'.repeat(256 * 1024 - 16) } } } });
    const r = await refused(ns, 'semaphore', 'lock', 'full', '--holder', 'a', '--max', '1', '--create');
    expect(r.code).toBe(10);
    expect(r.error).toMatchObject({ kind: 'rejected', status: 422, reason: 'Invalid', transient: false });
    expect(r.error.message).toMatch(/^the API server refused to patch configmaps full in namespace \S+: .*Too long: may not be more than 262144 bytes/);
    expect((await core().readNamespacedConfigMap({ name: 'full', namespace: ns })).metadata?.annotations?.['kube-lock']).toBeUndefined();
  });

  test('a validating webhook’s denial: exit 10 with its message, at once (not retried)', async () => {
    const denial = 'leases are frozen by the koncli test policy';
    const hook = await startWebhook({ deny: denial });
    const name = `deny-${ns}`;
    try {
      await registerWebhook(name, ns, { url: hook.url, caBundle: hook.caBundle });
      let r: Awaited<ReturnType<typeof refused>> | undefined;
      // The API server picks the configuration up within a moment.
      for (let i = 0; i < 50 && hook.reviews() === 0; i++) {
        r = await refused(ns, 'lease', 'acquire', `denied-${i}`, '--holder', 'a', '--timeout', '0');
        if (hook.reviews() === 0) await sleep(200);
      }
      expect(hook.reviews()).toBe(1);
      expect(r!.code).toBe(10);
      expect(r!.error).toMatchObject({ kind: 'rejected', status: 403, transient: false });
      expect(r!.error.message).toContain(`admission webhook "${name}.koncli.test" denied the request: ${denial}`);
      expectNoRbacAdvice(r!);
    } finally {
      await deleteWebhook(name);
      hook.server.close();
    }
  });

  test('RBAC’s own 403 stays exit 7, with the advice', async () => {
    const r = await runKoncli(['lease', 'acquire', 'job', '--holder', 'a', '--timeout', '0', '--json', ...clusterArgs(restrictedKubeconfigPath(), ns)]);
    expect(r.code).toBe(7);
    expect(JSON.parse(r.stdout).error).toMatchObject({ kind: 'forbidden', status: 403, verb: 'get' });
    expect(r.stderr).toMatch(/grant "get" on leases\.coordination\.k8s\.io \(see docs\/rbac\.md\)/);
  });
});
