// Helpers for the cluster-access tests: the plane's kubectl, its PKI, commands run to completion,
// ServiceAccount tokens, and a CONNECT proxy on loopback.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface PlaneState {
  server: string;
  bin: { kubectl: string };
  pki: { caCert: string; adminCert: string; adminKey: string; restrictedCert: string; restrictedKey: string };
}

/** The running plane's state.json (binaries, certificates, server URL). */
export function planeState(): PlaneState {
  const path = join(process.env.KONCLI_CLUSTER_DIR ?? join(REPO_ROOT, '.cluster'), 'state.json');
  if (!existsSync(path)) throw new Error(`${path} is missing: start the plane (npm run cluster:up)`);
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * Writes a kubeconfig for the local plane to `path` and returns `path`: one cluster "plane" (its
 * server the plane's unless `cluster` names another, plus `cluster`'s fields), one user "me"
 * (`user`'s fields), one context "ctx" in `namespace`, current; `extra`: more top-level fields.
 */
export function writePlaneKubeconfig(
  path: string,
  opts: { cluster?: Record<string, unknown>; user: Record<string, unknown>; namespace: string; extra?: Record<string, unknown> },
): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'plane', cluster: { server: planeState().server, ...opts.cluster } }],
    users: [{ name: 'me', user: opts.user }],
    contexts: [{ name: 'ctx', context: { cluster: 'plane', user: 'me', namespace: opts.namespace } }],
    'current-context': 'ctx',
    ...opts.extra,
  };
  writeFileSync(path, stringify(config));
  return path;
}

/** The kubectl built with the plane (same version as its API server). */
export const kubectlPath = () => planeState().bin.kubectl;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (stdin: `input`, else closed), killing it after `timeoutMs`. */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(opts.input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/**
 * A ServiceAccount in `namespace` allowed everything on Leases there (a Role and RoleBinding made
 * as admin). Deleting and re-creating the ServiceAccount (same name, new uid) revokes every token
 * issued for the old one: the API server checks a bound token's ServiceAccount uid.
 */
export async function leaseServiceAccount(admin: KubeConfig, namespace: string, name: string): Promise<void> {
  await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name },
      rules: [
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['*'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
}

/** A token for the ServiceAccount from the TokenRequest API (what the kubelet mounts in a Pod). */
export async function serviceAccountToken(admin: KubeConfig, namespace: string, name: string, expirationSeconds = 3600): Promise<string> {
  const review = await admin
    .makeApiClient(CoreV1Api)
    .createNamespacedServiceAccountToken({ namespace, name, body: { spec: { expirationSeconds, audiences: [] } } });
  return review.status!.token!;
}

/** Deletes and re-creates the ServiceAccount: its old tokens stop working (401). */
export async function recreateServiceAccount(admin: KubeConfig, namespace: string, name: string): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api);
  await core.deleteNamespacedServiceAccount({ namespace, name });
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
}

export interface ConnectProxy {
  url: string;
  /** host:port of every CONNECT, in order. */
  tunnels: string[];
  /** Tunnels still open. */
  open(): number;
  close(): Promise<void>;
}

/**
 * An HTTP CONNECT proxy on 127.0.0.1 (what `proxy-url` points at). `resolve` maps the requested
 * host to the address to dial, so a kubeconfig can name a host that only the proxy can reach.
 */
export async function connectProxy(resolveHost: (host: string) => string = (h) => h): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => res.writeHead(405).end('CONNECT only\n'));
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const at = target.lastIndexOf(':');
    tunnels.push(target);
    const upstream = connect(Number(target.slice(at + 1)), resolveHost(target.slice(0, at).replace(/^\[|\]$/g, '')), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(client);
    const end = () => {
      sockets.delete(client);
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', end).on('close', end);
    client.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    tunnels,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
