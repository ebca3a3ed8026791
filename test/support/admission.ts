// Real server-side faults for tests, registered as admin on the local control plane:
// - a ValidatingWebhookConfiguration scoped to one namespace whose URL nothing listens on
//   (failurePolicy Fail: every matching write answers 500 while it is registered);
// - a webhook server on 127.0.0.1 (TLS, self-signed with openssl) that denies every request;
// - API Priority and Fairness: a FlowSchema sending the restricted user to a priority level with
//   the smallest concurrency and no queuing (limitResponse Reject: a burst gets 429 + Retry-After).
import {
  AdmissionregistrationV1Api,
  CoordinationV1Api,
  FlowcontrolApiserverV1Api,
  type V1ValidatingWebhook,
} from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminConfig, isApiError, RESTRICTED_USER } from '../integration/helpers.js';

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

/** One webhook rule set: CREATE and UPDATE of `resources` in `apiGroup` (all versions). */
const rulesFor = (apiGroup: string, resources: string[]) => [{ apiGroups: [apiGroup], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources }];

/**
 * Registers a validating webhook for writes of `resources` in namespace `ns` only (by its
 * kubernetes.io/metadata.name label), failurePolicy Fail. Returns the configuration's name.
 */
export async function registerWebhook(
  name: string,
  ns: string,
  clientConfig: V1ValidatingWebhook['clientConfig'],
  resources: { apiGroup: string; resources: string[] } = { apiGroup: 'coordination.k8s.io', resources: ['leases'] },
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
          timeoutSeconds: 2,
          clientConfig,
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
          rules: rulesFor(resources.apiGroup, resources.resources),
        },
      ],
    },
  });
  return name;
}

export async function deleteWebhook(name: string): Promise<void> {
  await webhooks().deleteValidatingWebhookConfiguration({ name }).catch((err) => {
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
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tls.key', '-out', 'tls.crt', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyCertSign'],
    { cwd: dir, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr || r.error}`);
  return { key: readFileSync(join(dir, 'tls.key'), 'utf8'), cert: readFileSync(join(dir, 'tls.crt'), 'utf8') };
}

/** An HTTPS admission webhook on 127.0.0.1 that denies every request with `message` (HTTP code 403 in its status). */
export async function startDenyingWebhook(message: string): Promise<{ url: string; caBundle: string; server: Server; reviews: () => number }> {
  const { key, cert } = selfSignedCert();
  let reviews = 0;
  const server = createHttpsServer({ key, cert }, (req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      reviews++;
      const review = JSON.parse(body || '{}');
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: review.request?.uid, allowed: false, status: { code: 403, message } },
      }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `https://127.0.0.1:${port}/validate`, caBundle: Buffer.from(cert).toString('base64'), server, reviews: () => reviews };
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
    await flowcontrol().deleteFlowSchema({ name }).catch(() => {});
    await flowcontrol().deletePriorityLevelConfiguration({ name }).catch(() => {});
  };
}
