// KubeClient's connection sharing, against client-node's real KubeConfig and undici Agents (no
// request is sent: which Agent a request would use is decided before any connection is made).
import { KubeConfig, RequestContext, HttpMethod } from '@kubernetes/client-node';
import { shareConnections } from '../../../src/kube/shared-connections.js';

const pem = (label: string, body: string) => Buffer.from(`-----BEGIN ${label}-----\n${Buffer.from(body).toString('base64')}\n-----END ${label}-----\n`).toString('base64');

function kubeconfig(certBody = 'client-cert-1'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: pem('CERTIFICATE', 'ca') }],
    users: [{ name: 'u', certData: pem('CERTIFICATE', certBody), keyData: pem('PRIVATE KEY', 'key') }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function dispatcherFor(kc: KubeConfig): Promise<unknown> {
  const ctx = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getDispatcher();
}

describe('shareConnections', () => {
  test('client-node alone builds a new Agent for every request (why this exists)', async () => {
    const kc = kubeconfig();
    expect(await dispatcherFor(kc)).not.toBe(await dispatcherFor(kc));
  });

  test('every request and watch of one KubeConfig gets the same Agent', async () => {
    const kc = kubeconfig();
    const shared = shareConnections(kc);
    const first = await dispatcherFor(kc);
    expect(first).toBeDefined();
    expect(await dispatcherFor(kc)).toBe(first);
    expect(await dispatcherFor(kc)).toBe(first);
    expect(shared.agentsCreated).toBe(1);
  });

  test('changed connection options (a rotated client certificate) get a new Agent; the old one is closed', async () => {
    const kc = kubeconfig('client-cert-1');
    const shared = shareConnections(kc);
    const first = (await dispatcherFor(kc)) as { closed?: boolean };
    (kc.getCurrentUser() as { certData?: string }).certData = pem('CERTIFICATE', 'client-cert-2'); // as a file re-read would
    const second = await dispatcherFor(kc);
    expect(second).not.toBe(first);
    expect(shared.agentsCreated).toBe(2);
    expect(first.closed).toBe(true);
    expect(await dispatcherFor(kc)).toBe(second);
  });

  test('reset drops the Agent (destroyed): the next request gets a fresh one', async () => {
    const kc = kubeconfig();
    const shared = shareConnections(kc);
    const first = (await dispatcherFor(kc)) as { destroyed?: boolean };
    shared.reset();
    expect(first.destroyed).toBe(true);
    const second = await dispatcherFor(kc);
    expect(second).not.toBe(first);
    expect(shared.agentsCreated).toBe(2);
  });
});
