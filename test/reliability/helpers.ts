// Helpers for the reliability tests: objects seeded as admin and their resourceVersions
// snapshotted, kubeconfigs for broken cluster access, the restricted user bound to the
// documented Role minus one verb, and the "one error line / one JSON document" assertion.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthorizationV1Api, CoreV1Api, KubernetesObjectApi, RbacAuthorizationV1Api, type KubernetesObject, type V1PolicyRule } from '@kubernetes/client-node';
import { EXIT_CODE_TABLE } from '../../src/cli/exit-codes.js';
import type { CliResult } from '../support/cli.js';
import {
  RESTRICTED_USER,
  adminConfig,
  adminKubeconfigPath,
  documentedRbac,
  freshNamespace,
  isApiError,
  restrictedConfig,
  restrictedKubeconfigPath,
} from '../integration/helpers.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- objects and snapshots

/** An object by apiVersion, kind and name; `namespace` is filled in where the case runs (cluster-scoped: null). */
export interface Ref {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string | null;
}

/** An object a case involves: created as admin before the case (body), or one that must stay absent (no body). */
export interface Seed {
  ref: Ref;
  body?: Record<string, unknown>;
}

const objects = () => KubernetesObjectApi.makeApiClient(adminConfig());
const located = (ref: Ref, namespace: string): Ref => ({ ...ref, namespace: ref.namespace === null ? undefined : (ref.namespace ?? namespace) });
const keyOf = (ref: Ref) => `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;

export const lease = (name: string, holder = 'someone-else', annotations: Record<string, string> = {}): Seed => ({
  ref: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name },
  body: { metadata: { name, annotations }, spec: { holderIdentity: holder, leaseDurationSeconds: 3600, renewTime: microNow(), acquireTime: microNow() } },
});
export const configMap = (name: string, annotations: Record<string, string> = {}): Seed => ({
  ref: { apiVersion: 'v1', kind: 'ConfigMap', name },
  body: { metadata: { name, annotations }, data: { keep: 'me' } },
});
export const deployment = (name: string): Seed => ({
  ref: { apiVersion: 'apps/v1', kind: 'Deployment', name },
  body: {
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'example.invalid/none' }] } },
    },
  },
});
export const absent = (kind: 'Lease' | 'ConfigMap', name: string): Seed => ({
  ref: kind === 'Lease' ? { apiVersion: 'coordination.k8s.io/v1', kind, name } : { apiVersion: 'v1', kind, name },
});
/** The konductor CRD: whatever state the shared cluster has it in must not change. */
export const KONDUCTOR_CRD: Ref = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'leases.konductor.io', namespace: null };

/** A kube-lock annotation value (docs/semaphore.md): max slots, holders by name. */
export const kubeLock = (max: number, ...holders: string[]) =>
  JSON.stringify({ max, holders: Object.fromEntries(holders.map((h) => [h, { date: '2026-01-01 00:00:00.000000000 +0000 UTC', reason: '' }])) });
/** A giantswarm/kubelock record (docs/kubelock.md), TTL one hour. */
export const giantswarmLock = (owner: string) => JSON.stringify({ owner, createdAt: new Date().toISOString(), ttl: 3600 * 1e9 });

/** MicroTime as client-go writes it. */
function microNow(): string {
  return new Date().toISOString().replace('Z', '000Z');
}

/** Creates the seeds that have a body, as admin, in `namespace`. */
export async function createSeeds(seeds: Seed[], namespace: string): Promise<void> {
  for (const { ref, body } of seeds) {
    if (!body) continue;
    const where = located(ref, namespace);
    await objects().create({
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      ...body,
      metadata: { ...(body.metadata as object), namespace: where.namespace },
    } as KubernetesObject);
  }
}

/** resourceVersion of every involved object ("absent" if it does not exist), and the Events of the namespace. */
export async function snapshot(refs: Ref[], namespace: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const ref of refs) {
    const where = located(ref, namespace);
    try {
      const obj = await objects().read({
        apiVersion: where.apiVersion,
        kind: where.kind,
        metadata: { name: where.name, namespace: where.namespace ?? undefined },
      });
      out[keyOf(where)] = obj.metadata?.resourceVersion ?? '?';
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
      out[keyOf(where)] = 'absent';
    }
  }
  const events = await adminConfig().makeApiClient(CoreV1Api).listNamespacedEvent({ namespace });
  out[`Events in ${namespace}`] =
    events.items
      .map((e) => e.metadata?.name)
      .sort()
      .join(',') || 'none';
  return out;
}

// ---------------------------------------------------------------- kubeconfigs

const scratch = mkdtempSync(join(tmpdir(), 'koncli-reliability-'));
let files = 0;

export interface KubeconfigSpec {
  server?: string;
  user?: Record<string, unknown>;
  cluster?: Record<string, unknown>;
  /** Names the context references (default: the ones defined). */
  contextCluster?: string;
  contextUser?: string;
  currentContext?: string | null;
}

/** The admin kubeconfig's server and CA. */
export function adminCluster(): { server: string; caData: string } {
  const cluster = adminConfig().getCurrentCluster()!;
  return { server: cluster.server, caData: cluster.caData! };
}

/** The admin kubeconfig's client certificate and key (base64, as in the file). */
export function adminUserData(): { certData: string; keyData: string } {
  const user = adminConfig().getCurrentUser()!;
  return { certData: user.certData!, keyData: user.keyData! };
}

/** Writes a kubeconfig (JSON is YAML) to a scratch file and returns its path. */
export function writeKubeconfig(spec: KubeconfigSpec): string {
  const { server, caData } = adminCluster();
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: spec.cluster ?? { server: spec.server ?? server, 'certificate-authority-data': caData } }],
    users: [{ name: 'u', user: spec.user ?? { token: 'koncli-test-token' } }],
    contexts: [{ name: 'ctx', context: { cluster: spec.contextCluster ?? 'c', user: spec.contextUser ?? 'u' } }],
    ...(spec.currentContext === null ? {} : { 'current-context': spec.currentContext ?? 'ctx' }),
  };
  return writeScratch(JSON.stringify(config, null, 2));
}

export function writeScratch(text: string, name = `kubeconfig-${++files}`): string {
  const path = join(scratch, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

export const scratchPath = (name: string) => join(scratch, name);

/** koncli argv with `flags` placed before a `--` that starts lease run's command. */
export function withFlags(args: string[], flags: string[]): string[] {
  const dash = args.indexOf('--');
  return dash < 0 ? [...args, ...flags] : [...args.slice(0, dash), ...flags, ...args.slice(dash)];
}

/** A loopback server that accepts connections and never answers (a hung API server). */
export async function silentServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

// ---------------------------------------------------------------- RBAC

/** A resource of the documented Role (docs/rbac/koncli-role.yaml). */
export type RoleResource = 'leases' | 'configmaps' | 'events';

/** The documented Role's rules with `verb` removed from every rule on `resource`. */
export function documentedRulesWithout(resource: RoleResource, verb: string): V1PolicyRule[] {
  return documentedRbac()
    .role.rules!.map((rule) => (rule.resources?.includes(resource) ? { ...rule, verbs: rule.verbs.filter((v) => v !== verb) } : rule))
    .filter((rule) => rule.verbs.length > 0);
}

const boundNamespaces = new Map<string, Promise<string>>();

/**
 * A fresh namespace where the restricted user has `rules` (memoised by `key`). Resolves once
 * the authorizer has seen the binding: a SelfSubjectAccessReview of `probe` comes back allowed.
 */
export function restrictedNamespaceWith(key: string, rules: V1PolicyRule[], probe: { verb: string; group: string; resource: string }): Promise<string> {
  let ns = boundNamespaces.get(key);
  if (!ns) {
    ns = bind(key, rules, probe);
    boundNamespaces.set(key, ns);
  }
  return ns;
}

async function bind(key: string, rules: V1PolicyRule[], probe: { verb: string; group: string; resource: string }): Promise<string> {
  const namespace = await freshNamespace(`rel-${key}`);
  const rbac = adminConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name: 'koncli-partial' }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'koncli-partial' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'koncli-partial' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: RESTRICTED_USER }],
    },
  });
  const authz = restrictedConfig().makeApiClient(AuthorizationV1Api);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const review = await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace, ...probe } } } });
    if (review.status?.allowed) return namespace;
    if (Date.now() > deadline) throw new Error(`RBAC ${key} for ${RESTRICTED_USER} in ${namespace} not effective after 15 s`);
    await sleep(100);
  }
}

export { adminKubeconfigPath, restrictedKubeconfigPath, freshNamespace };

// ---------------------------------------------------------------- assertions

const EXIT_NAMES = new Map(EXIT_CODE_TABLE.map((e) => [e.code, e.name]));

/** The documented name of an exit code: the `kind` of a JSON error document. */
export const exitName = (code: number) => EXIT_NAMES.get(code);

const lines = (text: string) => text.split('\n').filter((l) => l !== '');

/**
 * A failure as koncli promises it: the exit code; on stderr exactly one `koncli: error:` line
 * matching `error`, and otherwise only `koncli: warning:` lines matching `warning`; with --json,
 * stdout is exactly one JSON document {error:{kind,message,exitCode,…}} whose message is the
 * stderr line's; without, stdout is empty.
 */
export function expectFailure(result: CliResult, expected: { code: number; error: RegExp; warning?: RegExp; json: boolean }): void {
  const diagnostic = `exit ${result.code}${result.signal ? ` (${result.signal})` : ''}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  expect({ code: result.code, diagnostic }).toEqual({ code: expected.code, diagnostic });
  const err = lines(result.stderr);
  const errors = err.filter((l) => l.startsWith('koncli: error: '));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(expected.error);
  const others = err.filter((l) => !l.startsWith('koncli: error: '));
  for (const line of others) {
    expect(line).toMatch(/^koncli: warning: /);
    expect(line).toMatch(expected.warning ?? /^$/);
  }
  if (expected.warning) expect(others.length).toBeGreaterThan(0);
  if (!expected.json) {
    expect(result.stdout).toBe('');
    return;
  }
  const doc = JSON.parse(result.stdout);
  expect(Object.keys(doc)).toEqual(['error']);
  expect(doc.error).toMatchObject({ kind: exitName(expected.code) === 'error' ? expect.any(String) : exitName(expected.code), exitCode: expected.code });
  expect(`koncli: error: ${doc.error.message}`).toBe(errors[0]);
}

/** Reads a text file (for secrets: the admin's key material). */
export const readText = (path: string) => readFileSync(path, 'utf8');
