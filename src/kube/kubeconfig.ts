import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
// client-node's own YAML parser: the file is parsed the way client-node always parsed it, and the
// JSON handed to loadFromString below is parsed again by a parser that is already warm.
import { CORE_SCHEMA, load as parseYaml, mergeTag } from 'js-yaml';
import { KoncliError } from '../core/errors.js';
import type { ExecConfig } from './credentials.js';

export interface ClusterAccessOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** Kubeconfig fields client-node drops or handles unlike kubectl; KubeConfigAdapter applies them. */
export interface UserExtras {
  /** `tokenFile`, absolute: re-read like client-go (client-node reads only `token-file`, once, relative to the cwd). */
  tokenFile?: string;
  /** `exec`, command resolved like client-go; client-node caches its output for ever. */
  exec?: ExecConfig;
  /** `as-groups`, `as-uid`, `as-user-extra` (client-node sends only `as`). */
  impersonateGroups?: string[];
  impersonateUid?: string;
  impersonateExtra?: Record<string, string[]>;
}

export interface ClusterExtras {
  /** `disable-compression`: ask for uncompressed responses (client-node ignores it). */
  disableCompression?: boolean;
}

export interface KubeconfigExtras {
  users: Map<string, UserExtras>;
  clusters: Map<string, ClusterExtras>;
}

export interface ResolvedAccess {
  kc: KubeConfig;
  extras: KubeconfigExtras;
  namespace: string;
  /** Where the configuration came from, for messages (never contains credentials). */
  source: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const configError = (message: string) => new KoncliError('unreachable', message);

interface LoadedFile {
  kc: KubeConfig;
  extras: KubeconfigExtras;
}

/** kubectl's YAML reader (go-yaml) takes merge keys (`<<: *defaults`); js-yaml's core schema needs the tag. */
const KUBECONFIG_SCHEMA = CORE_SCHEMA.withTags(mergeTag);

/**
 * Refuses a document that aliases make far larger than its file ("billion laughs": nine nested
 * levels of ten aliases are 10^9 values). js-yaml shares an aliased value, but the JSON handed to
 * client-node below would spell out every copy. Size: one per value plus the characters of each
 * string, every alias counted again; the limit, 16 × the file's characters + 100,000, is far above
 * what sharing a few stanzas costs. kubectl refuses such a file too ("excessive aliasing").
 * @throws what `cannot` makes of the reason
 */
export function checkAliasExpansion(doc: unknown, fileChars: number, cannot: (why: string) => Error): void {
  const limit = 16 * fileChars + 100_000;
  let size = 0;
  for (const stack = [doc]; stack.length > 0;) {
    const value = stack.pop();
    size += typeof value === 'string' ? value.length + 1 : 1;
    if (size > limit) throw cannot(`its aliases expand it to over ${limit} values and characters: excessive aliasing`);
    if (typeof value === 'object' && value !== null) for (const child of Object.values(value)) stack.push(child);
  }
}

const absolute = (dir: string, file: string) => (isAbsolute(file) ? file : resolve(dir, file));

type Json = Record<string, unknown>;
/** A YAML mapping (or list: both are objects, as the checks below have always taken them). */
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null;

/**
 * Reads one kubeconfig file. The YAML is parsed here so that the fields client-node mishandles
 * (tokenFile, exec, disable-compression, as-groups…) are kept aside; client-node loads the rest.
 * Relative paths are resolved against the file's directory, as kubectl does.
 */
function loadFile(path: string): LoadedFile {
  if (!existsSync(path)) throw configError(`kubeconfig ${path} does not exist; pass --kubeconfig or set KUBECONFIG`);
  const dir = dirname(resolve(path));
  const cannot = (why: string) => configError(`kubeconfig ${path} cannot be read (${why}); fix the file or pass another with --kubeconfig`);
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    // json: a key given twice takes its last value, as kubectl reads it (js-yaml would refuse the file).
    raw = parseYaml(text, { schema: KUBECONFIG_SCHEMA, json: true }) ?? {};
    checkAliasExpansion(raw, text.length, cannot);
  } catch (err) {
    if (err instanceof KoncliError) throw err;
    throw cannot((err as Error).message.split('\n')[0]);
  }
  if (!isObject(raw) || Array.isArray(raw)) throw cannot('not a kubeconfig mapping');
  const extras: KubeconfigExtras = { users: new Map(), clusters: new Map() };
  const users: unknown[] = Array.isArray(raw.users) ? raw.users : [];
  raw.users = users.map((entry) => {
    if (!isObject(entry) || !entry.name || !isObject(entry.user)) return entry;
    const name = entry.name as string;
    const { extra, rest } = userExtras(entry.user, dir, (why) => cannot(`user "${name}": ${why}`));
    extras.users.set(name, extra);
    return { ...entry, user: rest };
  });
  for (const entry of Array.isArray(raw.clusters) ? (raw.clusters as unknown[]) : []) {
    if (isObject(entry) && entry.name && isObject(entry.cluster) && entry.cluster['disable-compression'] === true) {
      extras.clusters.set(entry.name as string, { disableCompression: true });
    }
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromString(JSON.stringify(raw));
  } catch (err) {
    throw cannot((err as Error).message.split('\n')[0]);
  }
  kc.makePathsAbsolute(dir);
  return { kc, extras };
}

/** A user entry's fields client-node mishandles (`extra`), and the rest, which client-node loads. */
function userExtras(user: Json, dir: string, cannot: (why: string) => KoncliError): { extra: UserExtras; rest: Json } {
  const extra: UserExtras = {};
  // kubectl's field is tokenFile; client-node reads token-file (once, relative to the cwd): accept both.
  const { tokenFile: camel, 'token-file': kebab, exec, ...rest } = user;
  const tokenFile = camel ?? kebab;
  if (typeof tokenFile === 'string' && tokenFile) extra.tokenFile = absolute(dir, tokenFile);
  if (isObject(exec)) extra.exec = execConfig(exec, dir, cannot);
  const groups = user['as-groups'];
  if (Array.isArray(groups)) extra.impersonateGroups = groups.map(String);
  if (typeof user['as-uid'] === 'string') extra.impersonateUid = user['as-uid'];
  const impersonateExtra = user['as-user-extra'];
  if (isObject(impersonateExtra)) extra.impersonateExtra = impersonateExtra as Record<string, string[]>;
  return { extra, rest };
}

/** The `exec` stanza, its command resolved as client-go does. */
function execConfig(exec: Json, dir: string, cannot: (why: string) => KoncliError): ExecConfig {
  if (typeof exec.command !== 'string' || !exec.command) throw cannot('exec has no command');
  // client-go resolves a relative command that names a directory against the kubeconfig's directory.
  const command = !isAbsolute(exec.command) && exec.command.includes(sep) ? resolve(dir, exec.command) : exec.command;
  const args = Array.isArray(exec.args) ? exec.args.map(String) : [];
  const env = Array.isArray(exec.env) ? (exec.env as ExecConfig['env']) : [];
  return { ...exec, command, args, env };
}

/** Merges kubeconfig files the way kubectl does: the first file to define a name or the current context wins. */
function mergeFirstWins(files: LoadedFile[]): LoadedFile {
  const pick = <T extends { name: string }>(lists: T[][]) => {
    const byName = new Map<string, T>();
    for (const item of lists.flat()) if (!byName.has(item.name)) byName.set(item.name, item);
    return [...byName.values()];
  };
  // A name's extras come from the file whose entry won.
  const extrasOf = <V>(entries: (f: LoadedFile) => { name: string }[], extras: (f: LoadedFile) => Map<string, V>) => {
    const out = new Map<string, V>();
    const seen = new Set<string>();
    for (const f of files) {
      for (const { name } of entries(f)) {
        if (seen.has(name)) continue;
        seen.add(name);
        const extra = extras(f).get(name);
        if (extra) out.set(name, extra);
      }
    }
    return out;
  };
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: pick<Cluster>(files.map((f) => f.kc.getClusters())),
    users: pick<User>(files.map((f) => f.kc.getUsers())),
    contexts: pick<Context>(files.map((f) => f.kc.getContexts())),
    currentContext: files.map((f) => f.kc.getCurrentContext()).find((c) => c) ?? '',
  });
  return {
    kc,
    extras: {
      users: extrasOf(
        (f) => f.kc.getUsers(),
        (f) => f.extras.users,
      ),
      clusters: extrasOf(
        (f) => f.kc.getClusters(),
        (f) => f.extras.clusters,
      ),
    },
  };
}

function inCluster(): boolean {
  return !!process.env.KUBERNETES_SERVICE_HOST && !!process.env.KUBERNETES_SERVICE_PORT && existsSync(join(SERVICE_ACCOUNT_DIR, 'token'));
}

function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(join(SERVICE_ACCOUNT_DIR, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A Pod's service account, as client-go's rest.InClusterConfig: https to
 * KUBERNETES_SERVICE_HOST:PORT, the mounted CA, and the mounted token file, re-read as it rotates.
 */
function inClusterAccess(): LoadedFile {
  const host = process.env.KUBERNETES_SERVICE_HOST!;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'in-cluster',
        server: `https://${hostPart}:${process.env.KUBERNETES_SERVICE_PORT}`,
        caFile: join(SERVICE_ACCOUNT_DIR, 'ca.crt'),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'service-account' }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'service-account' }],
    currentContext: 'in-cluster',
  });
  return { kc, extras: { users: new Map([['service-account', { tokenFile: join(SERVICE_ACCOUNT_DIR, 'token') }]]), clusters: new Map() } };
}

/** Finds cluster access as kubectl does: --kubeconfig, KUBECONFIG (merged), ~/.kube/config, then the Pod's service account. */
export function resolveAccess(opts: ClusterAccessOptions): ResolvedAccess {
  let loaded: LoadedFile;
  let source: string;
  const envFiles = (process.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const homeConfig = join(homedir(), '.kube', 'config');
  if (opts.kubeconfig) {
    loaded = loadFile(opts.kubeconfig);
    source = opts.kubeconfig;
  } else if (envFiles.length > 0) {
    const existing = envFiles.filter((f) => existsSync(f));
    if (existing.length === 0) throw configError(`none of the KUBECONFIG files exist (${envFiles.join(delimiter)}); fix KUBECONFIG or pass --kubeconfig`);
    loaded = mergeFirstWins(existing.map(loadFile));
    source = `KUBECONFIG=${existing.join(delimiter)}`;
  } else if (existsSync(homeConfig)) {
    loaded = loadFile(homeConfig);
    source = homeConfig;
  } else if (inCluster()) {
    loaded = inClusterAccess();
    if (opts.context) throw configError(`--context ${opts.context}: there is no kubeconfig here, only the Pod's service account`);
    return { ...loaded, namespace: opts.namespace ?? inClusterNamespace() ?? 'default', source: 'in-cluster service account' };
  } else {
    throw configError('no cluster configured: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run inside a Pod');
  }
  const { kc } = loaded;
  // An empty file (or one with no contexts) loads as an empty configuration: say so, not "pass --context".
  if (kc.getContexts().length === 0)
    throw configError(
      `kubeconfig ${source} cannot be read as a cluster configuration (it defines no contexts; empty?); fix the file or pass another with --kubeconfig`,
    );
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw configError(`context "${opts.context}" is not in ${source}; known contexts: ${known.join(', ') || 'none'}`);
    }
    kc.setCurrentContext(opts.context);
  }
  const current = kc.getCurrentContext();
  const context = kc.getContextObject(current);
  if (!context) {
    const known = kc.getContexts().map((c) => c.name);
    // kubectl: "context was not found for specified context: X" when current-context names a missing one.
    const why = current ? `sets current-context "${current}", which it does not define` : 'has no current context';
    throw configError(`${source} ${why}; pass --context or fix current-context (known: ${known.join(', ') || 'none'})`);
  }
  const cluster = kc.getCluster(context.cluster);
  if (!cluster) throw configError(`context "${context.name}" names cluster "${context.cluster}", which ${source} does not define`);
  if (!kc.getUser(context.user)) throw configError(`context "${context.name}" names user "${context.user}", which ${source} does not define`);
  // kubectl refuses this combination before sending anything (client-go: ErrInsecureAndRootCAs… in rest.Config validation).
  if (cluster.skipTLSVerify && (cluster.caFile || cluster.caData)) {
    throw configError(
      `cluster "${cluster.name}" sets both insecure-skip-tls-verify and a certificate authority, which kubectl refuses too ("specifying a root certificates file with the insecure flag is not allowed"); remove one of them from the kubeconfig`,
    );
  }
  return { ...loaded, namespace: opts.namespace ?? context.namespace ?? 'default', source };
}
