import type { ConnectionOptions } from 'node:tls';
import {
  bufferFromFileOrString,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  RequestContext,
  wrapHttpLibrary,
  type Cluster,
  type HttpLibrary,
  type User,
} from '@kubernetes/client-node';
import { Agent, ProxyAgent } from 'undici';
import { KoncliError } from '../core/errors.js';
import { ExecPlugin, StaticToken, TokenFile, type Credential, type CredentialSource } from './credentials.js';
import type { KubeconfigExtras } from './kubeconfig.js';
import { proxyFromEnvironment } from './proxy-from-environment.js';
import { ConnectionPool } from './shared-connections.js';

/** A URL without any user:password@ part (for messages). */
const withoutUserinfo = (url: string) => url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@]*@/i, '$1');

export interface AdapterOptions {
  /** One line per plugin run, credential refresh and retry (-v). */
  trace?: (line: string) => void;
}

const configError = (message: string) => new KoncliError('unreachable', message);

/**
 * client-node adapter: a KubeConfig that sends requests the way kubectl (client-go) would with the
 * same kubeconfig, where @kubernetes/client-node 2.x does not. Built only on client-node's public
 * API: it overrides `applySecurityAuthentication` (what every API call and Watch asks of a
 * KubeConfig) and supplies the `httpApi` of the configuration (createConfiguration's option).
 *
 * What it changes, each with the client-node behaviour it replaces:
 * - `http://` servers (kubectl proxy) are used as given; client-node refuses them unless
 *   insecure-skip-tls-verify is set.
 * - `proxy-url` (http, https, socks5) through undici's ProxyAgent: CONNECT for https servers,
 *   forward requests for http ones, as Go's transport does. Without proxy-url, HTTPS_PROXY,
 *   HTTP_PROXY and NO_PROXY as kubectl reads them (proxy-from-environment.ts); client-node and
 *   undici's fetch ignore them.
 * - One dispatcher (connection pool) while the connection options stay the same; client-node
 *   builds a new undici Agent, i.e. a new TCP+TLS connection, per request.
 * - `tokenFile` is re-read (after 60 s and after a 401: client-go's cachedFileTokenSource);
 *   client-node reads it once, relative to the working directory.
 * - `exec` plugins run again when their credential expires or the server answers 401; client-node
 *   keeps a credential without expirationTimestamp for ever.
 * - A request answered 401 is sent once more when the credential could be refreshed (kubectl
 *   refreshes for the next request; a `lease run` renewal should not be lost to a rotation).
 * - `disable-compression` asks for identity encoding; `as-uid` and one `as-groups` entry are sent.
 */
export class KubeConfigAdapter extends KubeConfig {
  readonly connections = new ConnectionPool<Agent | ProxyAgent>();
  private readonly sent = new WeakMap<RequestContext, Credential>();
  private lastSent: Credential | undefined;
  private source: CredentialSource | null | undefined;

  constructor(
    base: KubeConfig,
    private readonly extras: KubeconfigExtras,
    private readonly opts: AdapterOptions = {},
  ) {
    super();
    this.loadFromOptions({
      clusters: base.getClusters(),
      users: base.getUsers(),
      contexts: base.getContexts(),
      currentContext: base.getCurrentContext(),
    });
  }

  /** The current user's credential source (tokenFile wins over token, as in client-go), or null. */
  credentials(): CredentialSource | null {
    if (this.source !== undefined) return this.source;
    const user = this.getCurrentUser();
    const extra = user ? this.extras.users.get(user.name) : undefined;
    const cluster = this.getCurrentCluster();
    if (extra?.exec && cluster) {
      const caData = cluster.caData ?? (cluster.caFile ? readOrExplain(cluster.caFile, 'certificate-authority', cluster.name)?.toString('base64') : undefined);
      this.source = new ExecPlugin(
        extra.exec,
        {
          server: cluster.server,
          ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
          ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
          ...(caData ? { 'certificate-authority-data': caData } : {}),
          ...(cluster.proxyUrl ? { 'proxy-url': cluster.proxyUrl } : {}),
          ...(this.extras.clusters.get(cluster.name)?.disableCompression ? { 'disable-compression': true } : {}),
        },
        user!.name,
        this.opts.trace,
      );
    } else if (extra?.tokenFile) this.source = new TokenFile(extra.tokenFile);
    else if (user?.token) this.source = new StaticToken(user.token);
    else this.source = null;
    return this.source;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    if (!cluster) throw configError('the kubeconfig has no current cluster; pass --context');
    const credential = (await this.credentials()?.current()) ?? {};
    this.sent.set(context, credential);
    this.lastSent = credential;
    if (credential.token) context.setHeaderParam('Authorization', `Bearer ${credential.token}`);
    else if (user?.username) context.setHeaderParam('Authorization', `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`);
    else if (user?.authProvider) await this.authProviderHeader(context, cluster);
    this.impersonation(context, user);
    if (this.extras.clusters.get(cluster.name)?.disableCompression) context.setHeaderParam('Accept-Encoding', 'identity');
    context.setDispatcher(this.dispatcher(cluster, user, credential));
  }

  /**
   * The configuration's HTTP library: client-node's fetch, plus one retry of a request answered
   * 401 when the credential source says a different credential is now available.
   */
  httpLibrary(): HttpLibrary {
    const base = new IsomorphicFetchHttpLibrary();
    return wrapHttpLibrary({
      send: async (request) => {
        const response = await base.send(request).toPromise();
        if (response.httpStatusCode !== 401) return response;
        const sent = this.sent.get(request);
        const source = this.credentials();
        if (!sent || !source || !(await source.rejected(sent))) return response;
        await response.body.text().catch(() => undefined);
        this.opts.trace?.('401 Unauthorized: credentials refreshed, sending the request again');
        await this.applySecurityAuthentication(request);
        return await base.send(request).toPromise();
      },
    });
  }

  /** A watch was answered 401: let the credential source refresh, so the next list or watch carries a new one. */
  async watchRejected(): Promise<void> {
    if (this.lastSent) await this.credentials()?.rejected(this.lastSent);
  }

  private dispatcher(cluster: Cluster, user: User | null, credential: Credential): Agent | ProxyAgent {
    const tls = cluster.server.startsWith('http:') ? {} : this.tlsOptions(cluster, user, credential);
    const proxy = cluster.proxyUrl || proxyFromEnvironment(cluster.server);
    return this.connections.get({ proxy, tls }, () => {
      if (!proxy) return new Agent({ connect: { ...tls, keepAlive: true, keepAliveInitialDelay: 30_000 } });
      if (!/^(https?|socks5?):\/\//.test(proxy))
        throw configError(
          `cluster "${cluster.name}": proxy ${withoutUserinfo(proxy)} is not an http, https or socks5 URL; fix the kubeconfig's proxy-url or HTTPS_PROXY`,
        );
      return new ProxyAgent({ uri: proxy.replace(/^socks:/, 'socks5:'), requestTls: tls, connect: { keepAlive: true, keepAliveInitialDelay: 30_000 } });
    });
  }

  private tlsOptions(cluster: Cluster, user: User | null, credential: Credential): ConnectionOptions {
    const tls: ConnectionOptions = {};
    const ca = cluster.caFile ? readOrExplain(cluster.caFile, 'certificate-authority', cluster.name) : bufferFromFileOrString(undefined, cluster.caData);
    if (ca) tls.ca = ca;
    if (cluster.skipTLSVerify) tls.rejectUnauthorized = false;
    if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;
    if (credential.cert && credential.key) {
      tls.cert = credential.cert;
      tls.key = credential.key;
    } else if (user) {
      const cert = user.certFile ? readOrExplain(user.certFile, 'client-certificate', user.name) : bufferFromFileOrString(undefined, user.certData);
      const key = user.keyFile ? readOrExplain(user.keyFile, 'client-key', user.name) : bufferFromFileOrString(undefined, user.keyData);
      if (cert && !key) throw configError(`user "${user.name}" has a client certificate but no client key; add client-key or client-key-data`);
      if (key && !cert) throw configError(`user "${user.name}" has a client key but no client certificate; add client-certificate or client-certificate-data`);
      if (cert) tls.cert = cert;
      if (key) tls.key = key;
    }
    return tls;
  }

  private impersonation(context: RequestContext, user: User | null): void {
    if (!user) return;
    const extra = this.extras.users.get(user.name);
    if (user.impersonateUser) context.setHeaderParam('Impersonate-User', user.impersonateUser);
    const groups = extra?.impersonateGroups ?? [];
    if (groups.length > 1) throw configError(`user "${user.name}": koncli can impersonate one group only (as-groups has ${groups.length}); keep one`);
    if (groups[0]) context.setHeaderParam('Impersonate-Group', groups[0]);
    if (extra?.impersonateUid) context.setHeaderParam('Impersonate-Uid', extra.impersonateUid);
    for (const [key, values] of Object.entries(extra?.impersonateExtra ?? {})) {
      if (values.length !== 1) throw configError(`user "${user.name}": koncli can send one value per as-user-extra key (${key} has ${values.length})`);
      context.setHeaderParam(`Impersonate-Extra-${encodeURIComponent(key)}`, String(values[0]));
    }
  }

  /** auth-provider users (oidc and the like): client-node's own authenticators compute the header. */
  private async authProviderHeader(context: RequestContext, cluster: Cluster): Promise<void> {
    const scratch = new RequestContext(`${cluster.server}/`, HttpMethod.GET);
    await super.applySecurityAuthentication(scratch);
    const header = scratch.getHeaders()['Authorization'];
    if (header) context.setHeaderParam('Authorization', header);
    await scratch
      .getDispatcher()
      ?.close()
      .catch(() => undefined);
  }
}

function readOrExplain(path: string, field: string, owner: string): Buffer {
  try {
    return bufferFromFileOrString(path) as Buffer;
  } catch (err) {
    throw configError(`cannot read ${field} ${path} of "${owner}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); fix the kubeconfig`);
  }
}
