import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { KoncliError } from '../core/errors.js';

export interface ClusterAccessOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface ResolvedAccess {
  kc: KubeConfig;
  namespace: string;
  /** Where the configuration came from, for messages (never contains credentials). */
  source: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const configError = (message: string) => new KoncliError('unreachable', message);

function loadFile(path: string): KubeConfig {
  if (!existsSync(path)) throw configError(`kubeconfig ${path} does not exist; pass --kubeconfig or set KUBECONFIG`);
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (err) {
    throw configError(`kubeconfig ${path} cannot be read (${(err as Error).message.split('\n')[0]}); fix the file or pass another with --kubeconfig`);
  }
  return kc;
}

/** Merges kubeconfig files the way kubectl does: the first file to define a name or the current context wins. */
function mergeFirstWins(files: KubeConfig[]): KubeConfig {
  const pick = <T extends { name: string }>(lists: T[][]) => {
    const byName = new Map<string, T>();
    for (const item of lists.flat()) if (!byName.has(item.name)) byName.set(item.name, item);
    return [...byName.values()];
  };
  const merged = new KubeConfig();
  merged.loadFromOptions({
    clusters: pick<Cluster>(files.map((f) => f.getClusters())),
    users: pick<User>(files.map((f) => f.getUsers())),
    contexts: pick<Context>(files.map((f) => f.getContexts())),
    currentContext: files.map((f) => f.getCurrentContext()).find((c) => c) ?? '',
  });
  return merged;
}

function inCluster(): boolean {
  return !!process.env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT_DIR, 'token'));
}

function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(join(SERVICE_ACCOUNT_DIR, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Finds cluster access as kubectl does: --kubeconfig, KUBECONFIG (merged), ~/.kube/config, then the Pod's service account. */
export function resolveAccess(opts: ClusterAccessOptions): ResolvedAccess {
  let kc: KubeConfig;
  let source: string;
  const envFiles = (process.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const homeConfig = join(homedir(), '.kube', 'config');
  if (opts.kubeconfig) {
    kc = loadFile(opts.kubeconfig);
    source = opts.kubeconfig;
  } else if (envFiles.length > 0) {
    const existing = envFiles.filter((f) => existsSync(f));
    if (existing.length === 0) throw configError(`none of the KUBECONFIG files exist (${envFiles.join(delimiter)}); fix KUBECONFIG or pass --kubeconfig`);
    kc = mergeFirstWins(existing.map(loadFile));
    source = `KUBECONFIG=${existing.join(delimiter)}`;
  } else if (existsSync(homeConfig)) {
    kc = loadFile(homeConfig);
    source = homeConfig;
  } else if (inCluster()) {
    kc = new KubeConfig();
    kc.loadFromCluster();
    return { kc, namespace: opts.namespace ?? inClusterNamespace() ?? 'default', source: 'in-cluster service account' };
  } else {
    throw configError('no cluster configured: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run inside a Pod');
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw configError(`context "${opts.context}" is not in ${source}; known contexts: ${known.join(', ') || 'none'}`);
    }
    kc.setCurrentContext(opts.context);
  }
  const context = kc.getContextObject(kc.getCurrentContext());
  if (!context) throw configError(`${source} has no current context; pass --context (known: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
  if (!kc.getCluster(context.cluster)) throw configError(`context "${context.name}" names cluster "${context.cluster}", which ${source} does not define`);
  if (!kc.getUser(context.user)) throw configError(`context "${context.name}" names user "${context.user}", which ${source} does not define`);
  return { kc, namespace: opts.namespace ?? context.namespace ?? 'default', source };
}
