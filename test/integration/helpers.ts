// Shared helpers for tests that talk to the local control plane (test/cluster).
// globalSetup exports the kubeconfig paths; the fallbacks let a single test file run
// against a plane started by `npm run cluster:up`.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  loadAllYaml,
  type V1PolicyRule,
  type V1Role,
  type V1RoleBinding,
} from '@kubernetes/client-node';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const RESTRICTED_USER = 'koncli-restricted';
export const ROLE_FILE = join(REPO_ROOT, 'docs', 'rbac', 'koncli-role.yaml');

export function adminKubeconfigPath(): string {
  return process.env.KONCLI_TEST_KUBECONFIG ?? join(REPO_ROOT, '.cluster', 'admin.kubeconfig');
}

export function restrictedKubeconfigPath(): string {
  return process.env.KONCLI_TEST_RESTRICTED_KUBECONFIG ?? join(REPO_ROOT, '.cluster', 'restricted.kubeconfig');
}

/** Namespace the plane pre-binds for the restricted user. */
export function restrictedNamespace(): string {
  return process.env.KONCLI_TEST_RESTRICTED_NAMESPACE ?? 'koncli-restricted';
}

function load(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** KubeConfig for the cluster admin (system:masters). */
export function adminConfig(): KubeConfig {
  return load(adminKubeconfigPath());
}

/** KubeConfig for the restricted user (no groups; only what bindRestricted grants). */
export function restrictedConfig(): KubeConfig {
  return load(restrictedKubeconfigPath());
}

/** Is `err` an ApiException with HTTP status `code`? */
export function isApiError(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

/**
 * Create a namespace named `<prefix>-<random>` as admin and return its name. Nothing runs
 * the namespace controller here, so namespaces are never deleted; unique names suffice.
 */
export async function freshNamespace(prefix = 'koncli-test'): Promise<string> {
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const base = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63 - suffix.length - 1);
  const name = `${base || 'ns'}-${suffix}`;
  await adminConfig()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name } } });
  return name;
}

/** The Role and RoleBinding from docs/rbac/koncli-role.yaml, as published. */
export function documentedRbac(): { role: V1Role; binding: V1RoleBinding } {
  const docs: Array<{ kind?: string }> = loadAllYaml(readFileSync(ROLE_FILE, 'utf8'));
  const role = docs.find((d): d is V1Role => d?.kind === 'Role');
  const binding = docs.find((d) => d?.kind === 'RoleBinding') as V1RoleBinding | undefined;
  if (!role || !binding) throw new Error(`${ROLE_FILE} must contain a Role and a RoleBinding`);
  return { role, binding };
}

const RESTRICTED_SUBJECT = { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: RESTRICTED_USER };

/** Create `role` and `binding` in `namespace` as admin; ones that already exist are kept. */
async function createRbac(namespace: string, role: V1Role, binding: V1RoleBinding): Promise<void> {
  const rbac = adminConfig().makeApiClient(RbacAuthorizationV1Api);
  try {
    await rbac.createNamespacedRole({ namespace, body: role });
  } catch (err) {
    if (!isApiError(err, 409)) throw err;
  }
  try {
    await rbac.createNamespacedRoleBinding({ namespace, body: binding });
  } catch (err) {
    if (!isApiError(err, 409)) throw err;
  }
}

/**
 * Grant the restricted user the documented Role in `namespace`: the Role as published and
 * its RoleBinding with the subject switched to the restricted user. Idempotent. Resolves
 * once the apiserver's authorizer has seen the binding (RBAC is cached, briefly stale).
 */
export async function bindRestricted(namespace: string): Promise<void> {
  const { role, binding } = documentedRbac();
  await createRbac(
    namespace,
    { ...role, metadata: { ...role.metadata, namespace } },
    { ...binding, metadata: { ...binding.metadata, namespace }, subjects: [RESTRICTED_SUBJECT] },
  );
  await waitUntilAllowed(namespace, 'update', 'coordination.k8s.io', 'leases');
}

/**
 * Grant the restricted user a Role `name` of just `rules` in `namespace` (for tests of missing
 * permissions). Resolves once the authorizer allows the first rule's first verb.
 */
export async function grantRestricted(namespace: string, name: string, rules: V1PolicyRule[]): Promise<void> {
  await createRbac(
    namespace,
    { metadata: { name, namespace }, rules },
    { metadata: { name, namespace }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [RESTRICTED_SUBJECT] },
  );
  const [rule] = rules;
  await waitUntilAllowed(namespace, rule.verbs[0], rule.apiGroups?.[0] ?? '', rule.resources?.[0] ?? '');
}

/** Poll SelfSubjectAccessReview as the restricted user until the verb is allowed. */
async function waitUntilAllowed(namespace: string, verb: string, group: string, resource: string): Promise<void> {
  const authz = restrictedConfig().makeApiClient(AuthorizationV1Api);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const review = await authz.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { namespace, verb, group, resource } } },
    });
    if (review.status?.allowed) return;
    if (Date.now() > deadline) throw new Error(`RBAC for ${RESTRICTED_USER} in ${namespace} not effective after 10 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The busy `--json` error of a one-shot lock whose claim koncli judged with the API server's write
 * time (managedFields) and the writer's own stamp (docs/clock.md): its rule says so, never "no managedFields".
 */
export function expectServerStampedRule(busy: { code: number | null; stdout: string }): void {
  expect(busy.code).toBe(3);
  const { rule } = (JSON.parse(busy.stdout) as { error: { rule: string } }).error;
  expect(rule).toMatch(
    /^the API server stamped its last write \S+ \(at most\), its writer's own timestamp agrees|\(later than the server's write time says\)$/,
  );
  expect(rule).not.toMatch(/no managedFields/);
}
