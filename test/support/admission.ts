// Real server-side faults for tests, registered as admin on the local control plane:
// - a ValidatingWebhookConfiguration scoped to one namespace whose URL nothing listens on
//   (failurePolicy Fail: every matching write answers 500 while it is registered);
// - a webhook server on 127.0.0.1 (TLS, self-signed with openssl) that denies every request;
// - API Priority and Fairness: a FlowSchema sending the restricted user to a priority level with
//   the smallest concurrency and no queuing (limitResponse Reject: a burst gets 429 + Retry-After).
import { AdmissionregistrationV1Api, CoordinationV1Api, CoreV1Api, FlowcontrolApiserverV1Api, type V1ValidatingWebhook } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminConfig, isApiError, RESTRICTED_USER, restrictedConfig } from '../integration/helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const webhooks = () => adminConfig().makeApiClient(AdmissionregistrationV1Api);

/** A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it). */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Registers a validating webhook for writes (CREATE and UPDATE unless `rules.operations` says) of
 * `rules.resources` in namespace `ns` only (by its kubernetes.io/metadata.name label), failurePolicy
 * Fail, timeout 10 s. Returns the configuration's name.
 */
export async function registerWebhook(
  name: string,
  ns: string,
  clientConfig: V1ValidatingWebhook['clientConfig'],
  rules: { apiGroup: string; resources: string[]; operations?: string[] } = { apiGroup: 'coordination.k8s.io', resources: ['leases'] },
): Promise<string> {
  await webhooks().createValidatingWebhookConfiguration({
    body: {
      metadata: { name },
      webhooks: [
        {
          name: `${name}.koncli.test`,
          failurePolicy: 'Fail',
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          clientConfig,
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
          timeoutSeconds: 10,
          rules: [{ apiGroups: [rules.apiGroup], apiVersions: ['*'], operations: rules.operations ?? ['CREATE', 'UPDATE'], resources: rules.resources }],
        },
      ],
    },
  });
  return name;
}

export async function deleteWebhook(name: string): Promise<void> {
  await webhooks()
    .deleteValidatingWebhookConfiguration({ name })
    .catch((err) => {
      if (!isApiError(err, 404)) throw err;
    });
}

/**
 * Waits until a Lease write in `ns` (a probe Lease, as admin) answers as `expect` says: 'failing'
 * while the webhook is being picked up, 'passing' once it is gone. Returns when that was seen.
 */
export async function leaseWritesAre(ns: string, expect: 'failing' | 'passing', timeoutMs = 30_000): Promise<number> {
  const leases = adminConfig().makeApiClient(CoordinationV1Api);
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    let passed: boolean;
    try {
      await leases.createNamespacedLease({ namespace: ns, body: { metadata: { name: `webhook-probe-${Date.now().toString(36)}-${i}` } } });
      passed = true;
    } catch (err) {
      if (!isApiError(err, 500)) throw err;
      passed = false;
    }
    if (passed === (expect === 'passing')) return Date.now();
    if (Date.now() > deadline) throw new Error(`Lease writes in ${ns} still not ${expect} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** A webhook that is down: registered for Leases in `ns`, at an https URL on 127.0.0.1 where nothing listens. */
export async function registerDownWebhook(name: string, ns: string): Promise<string> {
  await registerWebhook(name, ns, { url: `https://127.0.0.1:${await closedPort()}/validate` });
  await leaseWritesAre(ns, 'failing');
  return name;
}

/** A key and a self-signed certificate for 127.0.0.1 (it is its own CA bundle), made with openssl. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'koncli-webhook-'));
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'tls.key',
      '-out',
      'tls.crt',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,digitalSignature,keyCertSign',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr || r.error}`);
  return { key: readFileSync(join(dir, 'tls.key'), 'utf8'), cert: readFileSync(join(dir, 'tls.crt'), 'utf8') };
}

export interface TestWebhook {
  url: string;
  caBundle: string;
  server: Server;
  /** AdmissionReviews answered so far. */
  reviews: () => number;
}

/**
 * An HTTPS admission webhook on 127.0.0.1. `deny`: every request is denied with that message
 * (code 403 in its status); otherwise allowed. Each answer comes after `delayMs`.
 */
export async function startWebhook({ deny, delayMs = 0 }: { deny?: string; delayMs?: number }): Promise<TestWebhook> {
  const { key, cert } = selfSignedCert();
  let reviews = 0;
  const server = createHttpsServer({ key, cert }, (req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const review = JSON.parse(body || '{}');
      const answer = deny === undefined ? { allowed: true } : { allowed: false, status: { code: 403, message: deny } };
      setTimeout(() => {
        reviews++;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request?.uid, ...answer } }));
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `https://127.0.0.1:${port}/validate`, caBundle: Buffer.from(cert).toString('base64'), server, reviews: () => reviews };
}

/**
 * Keeps the restricted user's (throttled) priority level busy: `concurrency` creates of ConfigMaps in
 * `ns`, each held `holdMs` by `webhook` (a slow one registered for ConfigMap CREATEs there), one after
 * another until `stop()`. Requests of that user meanwhile find no free seat and get 429.
 */
export function occupyPriorityLevel(ns: string, concurrency: number): { stop: () => Promise<{ created: number; throttled: number; retryAfter: string[] }> } {
  const api = restrictedConfig().makeApiClient(CoreV1Api);
  let running = true;
  const stats = { created: 0, throttled: 0, retryAfter: new Set<string>() };
  const workers = Array.from({ length: concurrency }, async (_, w) => {
    for (let i = 0; running; i++) {
      try {
        await api.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `load-${w}-${i}-${Date.now().toString(36)}` } } });
        stats.created++;
      } catch (err) {
        const e = err as { code?: number; headers?: Record<string, string> };
        if (e.code !== 429) throw err;
        stats.throttled++;
        stats.retryAfter.add(e.headers?.['retry-after'] ?? '-');
        await sleep(20);
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return { created: stats.created, throttled: stats.throttled, retryAfter: [...stats.retryAfter] };
    },
  };
}

const flowcontrol = () => adminConfig().makeApiClient(FlowcontrolApiserverV1Api);

/**
 * Throttles the restricted user with API Priority and Fairness: its requests go to a priority level
 * with the smallest concurrency limit and no queue (Reject), so a burst of them gets 429s with a
 * Retry-After. Returns a function that removes both objects.
 */
export async function throttleRestrictedUser(name: string): Promise<() => Promise<void>> {
  await flowcontrol().createPriorityLevelConfiguration({
    body: {
      metadata: { name },
      spec: { type: 'Limited', limited: { nominalConcurrencyShares: 0, lendablePercent: 0, borrowingLimitPercent: 0, limitResponse: { type: 'Reject' } } },
    },
  });
  await flowcontrol().createFlowSchema({
    body: {
      metadata: { name },
      spec: {
        priorityLevelConfiguration: { name },
        matchingPrecedence: 100,
        distinguisherMethod: { type: 'ByUser' },
        rules: [
          {
            subjects: [{ kind: 'User', user: { name: RESTRICTED_USER } }],
            resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }],
            nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          },
        ],
      },
    },
  });
  return async () => {
    await flowcontrol()
      .deleteFlowSchema({ name })
      .catch(() => {});
    await flowcontrol()
      .deletePriorityLevelConfiguration({ name })
      .catch(() => {});
  };
}
