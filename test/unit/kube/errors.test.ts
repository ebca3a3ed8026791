// kube/errors.ts: how a client-node failure becomes a KoncliError — the kind (and so the exit code),
// whether the retry policy may retry it, the server's Retry-After, and RBAC's 403 apart from
// admission's. The failures are client-node's own ApiException and undici-shaped network errors.
import { ApiException } from '@kubernetes/client-node';
import { KoncliError } from '../../../src/core/errors.js';
import { isRbacDenial, redactCredentials, retryAfterMs, toKoncliError } from '../../../src/kube/errors.js';

const site = { verb: 'patch', resource: 'leases.coordination.k8s.io', name: 'job', namespace: 'team-a' };
const status = (code: number, message: string, reason: string, headers: Record<string, string> = {}) =>
  new ApiException(code, `HTTP-Code: ${code}`, JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code }), headers);
const networkFailure = (code: string) =>
  Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(`connect ${code} 10.0.0.1:6443`), { code }) });

describe('toKoncliError: HTTP statuses', () => {
  test('409 is a conflict (the read-decide-write loop reads again), not transient', () => {
    const err = toKoncliError(status(409, 'the object has been modified; please apply your changes to the latest version', 'Conflict'), site);
    expect(err.kind).toBe('conflict');
    expect(err.details).toMatchObject({ status: 409, reason: 'Conflict', transient: false });
  });

  test('404 is not-found, with the server message', () => {
    const err = toKoncliError(status(404, 'leases.coordination.k8s.io "job" not found', 'NotFound'), site);
    expect(err).toMatchObject({ kind: 'not-found', message: 'leases.coordination.k8s.io "job" not found' });
    expect(err.details).toMatchObject({ status: 404, transient: false });
  });

  test('404 naming only the namespace (creating in one that does not exist) says so, with the fix', () => {
    const err = toKoncliError(status(404, 'namespaces "gone" not found', 'NotFound'), { ...site, verb: 'create', namespace: 'gone' });
    expect(err).toMatchObject({
      kind: 'not-found',
      message:
        'cannot create leases.coordination.k8s.io job in namespace gone: namespace gone does not exist; create it (kubectl create namespace gone) or pass another -n',
    });
  });

  test("RBAC's 403 is forbidden, naming the verb and resource to grant", () => {
    const message =
      'leases.coordination.k8s.io "job" is forbidden: User "restricted" cannot patch resource "leases" in API group "coordination.k8s.io" in the namespace "team-a"';
    const err = toKoncliError(status(403, message, 'Forbidden'), site);
    expect(err.kind).toBe('forbidden');
    expect(err.message).toContain('grant "patch" on leases.coordination.k8s.io');
    expect(err.details).toMatchObject({ verb: 'patch', resource: 'leases.coordination.k8s.io', status: 403, reason: 'Forbidden', transient: false });
  });

  test('a 403 that is not RBAC (admission: webhook, terminating namespace) is rejected, quoting the server', () => {
    const webhook = 'admission webhook "deny.koncli.test" denied the request: leases are frozen';
    expect(toKoncliError(status(403, webhook, 'Forbidden'), site)).toMatchObject({
      kind: 'rejected',
      message: `the API server refused to patch leases.coordination.k8s.io job in namespace team-a: ${webhook}`,
    });
    const terminating = 'leases.coordination.k8s.io "job" is forbidden: unable to create new content in namespace team-a because it is being terminated';
    expect(toKoncliError(status(403, terminating, 'Forbidden'), site).kind).toBe('rejected');
  });

  test('a 403 without a message is taken as RBAC (forbidden)', () => {
    expect(toKoncliError(new ApiException(403, 'HTTP-Code: 403', '', {}), site).kind).toBe('forbidden');
  });

  test('isRbacDenial knows the authorizer’s two forms (resource and non-resource path)', () => {
    expect(isRbacDenial('User "u" cannot list resource "leases" in API group "coordination.k8s.io"')).toBe(true);
    expect(isRbacDenial('User "u" cannot get path "/apis"')).toBe(true);
    expect(isRbacDenial('admission webhook "x" denied the request')).toBe(false);
    expect(isRbacDenial(undefined)).toBe(false);
  });

  test('401 is unreachable (bad credentials), 400 and 422 are rejected (validation)', () => {
    expect(toKoncliError(status(401, 'Unauthorized', 'Unauthorized'), site).kind).toBe('unreachable');
    expect(
      toKoncliError(status(422, 'Lease.coordination.k8s.io "job" is invalid: spec.leaseDurationSeconds: Invalid value: 0', 'Invalid'), site),
    ).toMatchObject({
      kind: 'rejected',
      details: { status: 422, reason: 'Invalid', transient: false },
    });
    expect(toKoncliError(status(400, 'bad patch', 'BadRequest'), site).kind).toBe('rejected');
  });

  test('429 and 5xx are transient errors; the Retry-After of a 429 is kept in ms', () => {
    const throttled = toKoncliError(status(429, 'Too many requests, please try again later.', 'TooManyRequests', { 'retry-after': '3' }), site);
    expect(throttled.kind).toBe('error');
    expect(throttled.details).toMatchObject({ status: 429, reason: 'TooManyRequests', transient: true, retryAfterMs: 3000 });
    for (const code of [500, 502, 503, 504]) {
      expect(toKoncliError(status(code, 'internal error', 'InternalError'), site).details).toMatchObject({ status: code, transient: true });
    }
    // Other statuses are not retried, and a Retry-After on them means nothing.
    expect(toKoncliError(status(418, 'teapot', '', { 'retry-after': '3' }), site).details).toEqual({ status: 418, transient: false });
  });

  test('a body that is not JSON gives its first line as the message', () => {
    const err = toKoncliError(new ApiException(502, 'HTTP-Code: 502', '<html>Bad Gateway</html>\nmore', {}), site);
    expect(err.message).toBe('patch leases.coordination.k8s.io job in namespace team-a failed (HTTP 502): <html>Bad Gateway</html>');
  });

  test('a KoncliError passes through unchanged', () => {
    const original = new KoncliError('busy', 'held');
    expect(toKoncliError(original, site)).toBe(original);
  });
});

describe('toKoncliError: failures before any HTTP status', () => {
  test('a refused connection is unreachable; transient only when the server answered this process before', () => {
    const first = toKoncliError(networkFailure('ECONNREFUSED'), site, 'https://10.0.0.1:6443');
    expect(first).toMatchObject({ kind: 'unreachable', details: { transient: false } });
    expect(first.message).toContain('cannot reach the API server at https://10.0.0.1:6443 (ECONNREFUSED)');
    expect(toKoncliError(networkFailure('ECONNRESET'), site, undefined, true).details.transient).toBe(true);
  });

  test('a TLS or certificate failure is never transient', () => {
    expect(toKoncliError(networkFailure('ERR_TLS_CERT_ALTNAME_INVALID'), site, undefined, true).details.transient).toBe(false);
    expect(toKoncliError(networkFailure('DEPTH_ZERO_SELF_SIGNED_CERT'), site, undefined, true).details.transient).toBe(false);
    expect(toKoncliError(networkFailure('CERT_HAS_EXPIRED'), site, undefined, true).details.transient).toBe(false);
    expect(toKoncliError(networkFailure('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), site, undefined, true)).toMatchObject({
      kind: 'unreachable',
      details: { transient: false },
    });
  });

  test('a request timeout (AbortSignal.timeout) is unreachable: "request timed out", not an HTTP status', () => {
    const err = toKoncliError(new DOMException('The operation was aborted due to timeout', 'TimeoutError'), site, undefined, true);
    expect(err.kind).toBe('unreachable');
    expect(err.message).toContain('(request timed out)');
    expect(err.details).toEqual({ transient: true });
  });

  test('a credential that is not a valid header value is never quoted', () => {
    const err = toKoncliError(new TypeError('Headers.append: "Bearer s3cr3t\nx" is an invalid header value.'), site);
    expect(err.kind).toBe('unreachable');
    expect(err.message).not.toContain('s3cr3t');
  });

  test('credentials in any other message are redacted', () => {
    expect(toKoncliError(new Error('proxy said: Authorization: Bearer abc.def rejected by https://u:pw@proxy:3128'), site).message).toBe(
      'patch leases.coordination.k8s.io job in namespace team-a failed: proxy said: Authorization: Bearer <redacted> rejected by https://<redacted>@proxy:3128',
    );
    expect(redactCredentials('Basic dXNlcjpwdw==')).toBe('Basic <redacted>');
  });
});

describe('retryAfterMs', () => {
  test('seconds, or an HTTP date relative to now; nothing for garbage or no header', () => {
    expect(retryAfterMs({ headers: { 'retry-after': '2' } })).toBe(2000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs({ headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' } }, now)).toBe(5000);
    expect(retryAfterMs({ headers: { 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' } }, now)).toBe(0);
    expect(retryAfterMs({ headers: { 'retry-after': 'soon' } })).toBeUndefined();
    expect(retryAfterMs({ headers: {} })).toBeUndefined();
    expect(retryAfterMs(new Error('x'))).toBeUndefined();
  });
});
