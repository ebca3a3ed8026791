import { ConflictError, KoncliError } from '../core/errors.js';

/** What the failed call was doing, so messages can name the verb and resource. */
export interface CallSite {
  verb: string;
  resource: string;
  name?: string;
  namespace?: string;
  /** A cluster-wide list or watch (-A): named as such instead of a namespace. */
  allNamespaces?: boolean;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'EPIPE',
]);

/** The parts of a Kubernetes `Status` body (metav1.Status) koncli reads. */
interface ServerStatus {
  message?: string;
  /** StatusReason, e.g. Forbidden, Invalid, TooManyRequests, InternalError. */
  reason?: string;
}

function serverStatus(body: unknown): ServerStatus {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return { message: body.split('\n')[0].slice(0, 300) || undefined };
    }
  }
  const { message, reason } = (parsed ?? {}) as { message?: unknown; reason?: unknown };
  return {
    // Validation messages can quote a whole object: keep the gist on one readable line.
    message: typeof message !== 'string' ? undefined : message.length > 300 ? `${message.slice(0, 140)} … ${message.slice(-140)}` : message,
    reason: typeof reason === 'string' && reason ? reason : undefined,
  };
}

/** HTTP statuses worth retrying (src/core/retry.ts): throttled (429, API Priority and Fairness), or the server or something in front of it failing for now. */
const TRANSIENT_STATUSES = new Set([429, 500, 502, 503, 504]);

/**
 * The server's `Retry-After` in ms: seconds (what kube-apiserver sends) or an HTTP date. client-node's
 * ApiException keeps the response headers (names lower-cased by fetch).
 */
export function retryAfterMs(err: unknown, nowMs = Date.now()): number | undefined {
  const headers = (err as { headers?: Record<string, unknown> } | undefined)?.headers;
  const value = headers && typeof headers === 'object' ? (headers['retry-after'] ?? headers['Retry-After']) : undefined;
  if (typeof value !== 'string' || !value.trim()) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Whether a 403 is RBAC's denial. The authorizer's message is `User "u" cannot VERB resource "r" …`
 * (or `cannot VERB path "/p"`); other 403s come from admission: a namespace being terminated, a
 * validating webhook's denial, a ResourceQuota.
 */
export const isRbacDenial = (message: string | undefined) => message !== undefined && /\bcannot [a-z]+ (resource|path) "/i.test(message);

function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown; name?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || e.code.startsWith('ERR_TLS') || e.code.includes('CERT') || isTlsVerification(e.code)))
      return e.code;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timeout';
  }
  // undici's transport failures: TypeError('fetch failed') whose cause says why.
  const failed = err as { message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (failed?.message === 'fetch failed') {
    const why = failed.cause?.code ?? failed.cause?.message;
    return typeof why === 'string' || typeof why === 'number' ? String(why) : 'connection failed';
  }
  return undefined;
}

/** Node's codes for a server certificate that failed verification (not a transport failure). */
const isTlsVerification = (code: string) => /^(ERR_TLS_CERT|UNABLE_TO_VERIFY|SELF_SIGNED|DEPTH_ZERO|CERT_|UNABLE_TO_GET_ISSUER)/.test(code);

/** undici/fetch refusing a header value (it quotes the value in its message). */
function isHeaderError(err: unknown): boolean {
  for (let e = err as { message?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (typeof e.message === 'string' && /invalid header value|Headers\.(append|set)|header content/i.test(e.message)) return true;
  }
  return false;
}

/** Whatever follows an HTTP auth scheme, and the user:password@ of a URL, is a credential. */
export const redactCredentials = (text: string) =>
  text.replace(/\b(Bearer|Basic) +\S+/g, '$1 <redacted>').replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1<redacted>@');

/** An HTTP status: DOMException's numeric legacy codes (TimeoutError is 23) are not. */
const isHttpStatus = (n: unknown): n is number => typeof n === 'number' && n >= 100 && n <= 599;

function httpStatus(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  if (isHttpStatus(e?.code)) return e.code;
  if (isHttpStatus(e?.statusCode)) return e.statusCode;
  return undefined;
}

/**
 * Translates a client-node failure into a one-line KoncliError. Only the server's status message
 * is quoted: never request headers, so credentials cannot leak into output.
 */
export function toKoncliError(err: unknown, site: CallSite, server?: string, answeredBefore = false): KoncliError {
  if (err instanceof KoncliError) return err;
  const what = `${site.verb} ${site.resource}${site.name ? ` ${site.name}` : ''}${site.allNamespaces ? ' in all namespaces' : site.namespace ? ` in namespace ${site.namespace}` : ''}`;
  const status = httpStatus(err);
  const { message, reason } = serverStatus((err as { body?: unknown })?.body);
  // What the server said, for scripts (--json) and for the retry policy (src/core/retry.ts).
  const said = status === undefined ? {} : { status, ...(reason && { reason }), transient: TRANSIENT_STATUSES.has(status) };
  const known = status === undefined ? transportError(err, what, server, answeredBefore) : statusError(status, message, said, what, site);
  if (known) return known;
  const text = redactCredentials(message ?? (err instanceof Error ? err.message.split('\n')[0] : String(err)));
  const retryAfter = status !== undefined && TRANSIENT_STATUSES.has(status) ? retryAfterMs(err) : undefined;
  return new KoncliError('error', `${what} failed${status ? ` (HTTP ${status})` : ''}: ${text.slice(0, 300)}`, {
    ...said,
    ...(retryAfter !== undefined && { retryAfterMs: retryAfter }),
  });
}

/** The HTTP statuses with a kind of their own; undefined for the others (a plain `error`). */
function statusError(status: number, message: string | undefined, said: Record<string, unknown>, what: string, site: CallSite): KoncliError | undefined {
  switch (status) {
    case 409:
      return new ConflictError(message ?? `${what}: conflict`, said);
    case 404: {
      // Creating in a namespace that does not exist: the server names only the namespace.
      const ns = /^namespaces "([^"]+)" not found$/.exec(message ?? '')?.[1];
      if (ns)
        return new KoncliError(
          'not-found',
          `cannot ${what}: namespace ${ns} does not exist; create it (kubectl create namespace ${ns}) or pass another -n`,
          said,
        );
      return new KoncliError('not-found', message ?? `${what}: not found`, said);
    }
    case 403:
      if (!isRbacDenial(message) && message !== undefined) {
        return new KoncliError('rejected', `the API server refused to ${what}: ${message}`, said);
      }
      return new KoncliError(
        'forbidden',
        `cannot ${what}: forbidden (${message ?? 'RBAC denied it'}); grant "${site.verb}" on ${site.resource} (see docs/rbac.md)`,
        { verb: site.verb, resource: site.resource, ...said },
      );
    case 401:
      return new KoncliError(
        'unreachable',
        `the API server rejected the credentials (401 Unauthorized) while trying to ${what}; refresh the token or certificate in your kubeconfig`,
        said,
      );
    case 422:
    case 400:
      return new KoncliError('rejected', `the API server refused to ${what}: ${message ?? 'invalid request'}`, said);
    case 410:
      return new KoncliError('conflict', `${what}: resource version expired`, said);
  }
  return undefined;
}

/** A failure before any HTTP status: a credential that cannot be sent, TLS, the network; undefined for others. */
function transportError(err: unknown, what: string, server: string | undefined, answeredBefore: boolean): KoncliError | undefined {
  if (isHeaderError(err)) {
    // The HTTP client quotes the rejected header, i.e. the credential: never repeat its message.
    return new KoncliError(
      'unreachable',
      `the credentials in the kubeconfig cannot be sent (not a valid HTTP header value: a token with a line break or other control character?) while trying to ${what}; fix the user entry`,
      { transient: false },
    );
  }
  const code = networkCode(err);
  if (code && isTlsVerification(code)) {
    return new KoncliError(
      'unreachable',
      `cannot reach the API server${server ? ` at ${server}` : ''}: its TLS certificate was not accepted (${code}) while trying to ${what}; check the kubeconfig's certificate-authority, tls-server-name or insecure-skip-tls-verify`,
      { transient: false },
    );
  }
  if (code) {
    // A server that answered this process before is having an outage (retry); one that never
    // answered is a wrong address, network or certificate: say so at once. TLS failures never pass.
    const transient = answeredBefore && !code.startsWith('ERR_TLS') && !code.includes('CERT');
    return new KoncliError(
      'unreachable',
      `cannot reach the API server${server ? ` at ${server}` : ''} (${code === 'timeout' ? 'request timed out' : code}) while trying to ${what}; check the cluster address, network and --request-timeout`,
      { transient },
    );
  }
  return undefined;
}
