import {
  createConfiguration,
  ServerConfiguration,
  Watch,
  type Configuration,
  type Middleware,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { AsyncLocalStorage } from 'node:async_hooks';
import { ServerClock } from '../core/server-clock.js';
import { DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_REQUEST_TIMEOUT_MS, WATCH_CLIENT_IDLE_MS } from '../core/timing.js';
import { systemClock, type Clock } from '../core/clock.js';
import { KoncliError } from '../core/errors.js';
import { timeoutSignal } from '../core/timer.js';
import { toKoncliError, type CallSite } from './errors.js';
import { KubeConfigAdapter } from './client-node-adapter.js';
import { resolveAccess, type ClusterAccessOptions } from './kubeconfig.js';
import { traceConnections, type SharedConnections } from './shared-connections.js';

export interface ClientOptions extends ClusterAccessOptions {
  /** Bound on every non-watch request (ms). */
  requestTimeoutMs?: number;
  /** --max-clock-skew (ms): how far apart two machines' clocks may be (docs/clock.md). */
  maxClockSkewMs?: number;
  /** Called with one line per HTTP request at high verbosity (never with headers or bodies). */
  trace?: (line: string) => void;
}

export const USER_AGENT = 'koncli';
/** Field managers: holder writes and queue bookkeeping are kept apart (see ExpiryTracker). */
export const FIELD_MANAGER = 'koncli';
export const QUEUE_FIELD_MANAGER = 'koncli-queue';

/** The server URL without any user:password@ part. */
export function withoutUserinfo(server: string): string {
  return server.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@]*@/i, '$1');
}

/**
 * What one API call knows while client-node runs it: its own send time (so that a `Date` header is
 * paired with the request it answers, even when several are in flight) and its time bound.
 */
interface CallScope {
  timeoutMs?: number;
  sentAt?: number;
}
const callScope = new AsyncLocalStorage<CallScope>();

/** A client-node configuration that bounds request time and learns the server's clock from `Date` headers. */
export class KubeClient {
  readonly serverClock = new ServerClock();
  readonly clock: Clock = systemClock;
  readonly configuration: Configuration;
  readonly namespace: string;
  readonly server: string;
  readonly connections: SharedConnections;
  readonly maxClockSkewMs: number;
  /** --request-timeout (ms). */
  readonly requestTimeoutMs: number;
  /** The server has answered this process (any status): later connection failures are an outage, not a wrong address. */
  answered = false;

  constructor(
    readonly kc: KubeConfigAdapter,
    namespace: string,
    private readonly opts: ClientOptions = {},
  ) {
    this.namespace = namespace;
    this.maxClockSkewMs = opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KoncliError('unreachable', 'the kubeconfig has no current cluster; pass --context');
    this.server = withoutUserinfo(cluster.server); // only for messages: a URL may carry user:password@
    if (!/^https?:\/\//.test(cluster.server)) {
      throw new KoncliError('unreachable', `cluster "${cluster.name}" has no usable server address ("${this.server}"); fix the kubeconfig`);
    }
    if (this.server !== cluster.server) {
      throw new KoncliError(
        'unreachable',
        `cluster "${cluster.name}" has a user name or password in its server address (${this.server.replace('://', '://<redacted>@')}); put credentials in the kubeconfig's user entry`,
      );
    }
    this.connections = kc.connections;
    if (opts.trace) traceConnections(opts.trace);
    this.configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      httpApi: kc.httpLibrary(),
      authMethods: { default: kc },
      promiseMiddleware: [this.middleware()],
    });
  }

  static connect(opts: ClientOptions): KubeClient {
    const access = resolveAccess(opts);
    return new KubeClient(new KubeConfigAdapter(access.kc, access.extras, { trace: opts.trace }), access.namespace, opts);
  }

  api<T>(ApiClass: new (configuration: Configuration) => T): T {
    return new ApiClass(this.configuration);
  }

  watcher(): Watch {
    const watch = new Watch(this.kc);
    // client-node aborts a watch after 30 s without data; the server closes ours sooner (timeoutSeconds).
    (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = WATCH_CLIENT_IDLE_MS;
    // A watch answered 401 lets the credentials refresh (the adapter retries other requests itself).
    const start = watch.watch.bind(watch);
    watch.watch = (path, query, callback, done) =>
      start(path, query, callback, (err) => {
        if ((err as { statusCode?: number } | null)?.statusCode === 401) void this.kc.watchRejected().finally(() => done(err));
        else done(err);
      });
    return watch;
  }

  /** One line of the -v request log (no-op without -v). */
  trace(line: string): void {
    this.opts.trace?.(line);
  }

  /**
   * Runs `fn` with each request it makes bounded by `timeoutMs` instead of --request-timeout (a
   * holder's renewal attempts: core/timing.ts). The timeout aborts the request, and a request that
   * timed out drops the connection (see `call`), so the next try does not queue behind a dead one.
   */
  withRequestTimeout<T>(timeoutMs: number, fn: () => Promise<T>): Promise<T> {
    // AbortSignal.timeout takes whole milliseconds.
    return callScope.run({ timeoutMs: Math.max(1, Math.ceil(Math.min(timeoutMs, this.requestTimeoutMs))) }, fn);
  }

  /** Runs one API call, translating failures into KoncliErrors that name the verb and resource. */
  async call<T>(site: CallSite, fn: () => Promise<T>): Promise<T> {
    try {
      return await callScope.run({ timeoutMs: callScope.getStore()?.timeoutMs }, fn);
    } catch (err) {
      const failure = toKoncliError(err, site, this.server, this.answered);
      // A connection that stopped answering must not take the next request down with it.
      if (failure.kind === 'unreachable') this.connections.reset();
      throw failure;
    }
  }

  /**
   * Bounds each request and samples the server's clock: the `Date` of each response against the
   * monotonic instants its own request was sent and answered (kept in the call's scope; a response
   * whose send time is not known is not sampled).
   */
  private middleware(): Middleware {
    const timeoutMs = this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return {
      pre: (ctx: RequestContext) => {
        const scope = callScope.getStore();
        ctx.setSignal(timeoutSignal(scope?.timeoutMs ?? timeoutMs));
        ctx.setHeaderParam('User-Agent', USER_AGENT);
        if (scope) scope.sentAt = this.clock.now();
        this.opts.trace?.(`${ctx.getHttpMethod()} ${new URL(ctx.getUrl()).pathname}`);
        return Promise.resolve(ctx);
      },
      post: (res: ResponseContext) => {
        this.answered = true;
        const sentAt = callScope.getStore()?.sentAt;
        const date = Date.parse(res.headers['date'] ?? '');
        if (!Number.isNaN(date) && sentAt !== undefined) this.serverClock.sample(date, sentAt, this.clock.now());
        this.opts.trace?.(`  -> ${res.httpStatusCode}`);
        return Promise.resolve(res);
      },
    };
  }
}
