// Least-privilege RBAC for the restricted test user, applied with kubectl as admin.
// The Role comes from docs/rbac/koncli-role.yaml, the same file the docs publish.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlaneError } from './proc.mjs';

export const RESTRICTED_USER = 'koncli-restricted';
export const RESTRICTED_NAMESPACE = 'koncli-restricted';

/** The documented Role manifest with its namespace set to `namespace`. */
export function documentedRole(repoRoot, namespace) {
  const text = readFileSync(join(repoRoot, 'docs', 'rbac', 'koncli-role.yaml'), 'utf8');
  const role = text.split(/^---\s*$/m).find((doc) => /^kind:\s*Role\s*$/m.test(doc));
  if (!role) throw new PlaneError('docs/rbac/koncli-role.yaml has no Role document');
  return role.replace(/^(\s*namespace:\s*)koncli\s*$/m, `$1${namespace}`);
}

/** Namespace + documented Role + a RoleBinding of that Role to the restricted user. */
export function restrictedManifests(repoRoot, namespace = RESTRICTED_NAMESPACE) {
  return [
    `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
    documentedRole(repoRoot, namespace),
    [
      'apiVersion: rbac.authorization.k8s.io/v1',
      'kind: RoleBinding',
      'metadata:',
      '  name: koncli',
      `  namespace: ${namespace}`,
      'roleRef:',
      '  apiGroup: rbac.authorization.k8s.io',
      '  kind: Role',
      '  name: koncli',
      'subjects:',
      '  - apiGroup: rbac.authorization.k8s.io',
      '    kind: User',
      `    name: ${RESTRICTED_USER}`,
      '',
    ].join('\n'),
  ].join('\n---\n');
}

/** `kubectl apply` the restricted user's RBAC using the admin kubeconfig. */
export function applyRestrictedRbac({ kubectl, kubeconfig, repoRoot, namespace = RESTRICTED_NAMESPACE }) {
  const r = spawnSync(kubectl, ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {
    input: restrictedManifests(repoRoot, namespace),
    encoding: 'utf8',
  });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr || r.stdout).trim();
    throw new PlaneError(`applying restricted RBAC failed: ${why}`);
  }
  return r.stdout.trim();
}
