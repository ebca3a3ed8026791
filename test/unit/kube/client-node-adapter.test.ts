// KubeConfigAdapter against client-node's real KubeConfig, undici and a loopback HTTP server
// (what a request carries and where it goes; the kubectl comparison is in test/integration/kubeconfig.test.ts).
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreApi, createConfiguration, HttpMethod, KubeConfig, RequestContext, ServerConfiguration } from '@kubernetes/client-node';
import { Agent, ProxyAgent } from 'undici';
import { KubeConfigAdapter } from '../../../src/kube/client-node-adapter.js';
import { ExecPlugin, TokenFile } from '../../../src/kube/credentials.js';
import type { KubeconfigExtras, UserExtras } from '../../../src/kube/kubeconfig.js';
import { proxyFromEnvironment } from '../../../src/kube/proxy-from-environment.js';

const pem = (label: string, body: string) =>
  Buffer.from(`-----BEGIN ${label}-----\n${Buffer.from(body).toString('base64')}\n-----END ${label}-----\n`).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'koncli-adapter-'));

function adapter(
  opts: { server?: string; proxyUrl?: string; certBody?: string; user?: Record<string, unknown>; extra?: UserExtras; disableCompression?: boolean } = {},
): KubeConfigAdapter {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: opts.server ?? 'https://127.0.0.1:6443',
        caData: opts.server?.startsWith('http:') ? undefined : pem('CERTIFICATE', 'ca'),
        proxyUrl: opts.proxyUrl,
      },
    ],
    users: [{ name: 'u', ...(opts.user ?? { certData: pem('CERTIFICATE', opts.certBody ?? 'client-cert-1'), keyData: pem('PRIVATE KEY', 'key') }) }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const extras: KubeconfigExtras = {
    users: new Map(opts.extra ? [['u', opts.extra]] : []),
    clusters: new Map(opts.disableCompression ? [['c', { disableCompression: true }]] : []),
  };
  return new KubeConfigAdapter(kc, extras);
}

async function apply(kc: KubeConfigAdapter, url = 'https://127.0.0.1:6443/api'): Promise<RequestContext> {
  const ctx = new RequestContext(url, HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx;
}

/** A loopback server answering 401 to every token but `good`, recording each request's headers. */
async function apiServer(good: () => string): Promise<{ server: Server; url: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const ok = req.headers.authorization === `Bearer ${good()}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(ok ? { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } : { kind: 'Status', code: 401, message: 'Unauthorized' }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

const coreApi = (kc: KubeConfigAdapter, url: string) =>
  new CoreApi(createConfiguration({ baseServer: new ServerConfiguration(url, {}), httpApi: kc.httpLibrary(), authMethods: { default: kc } }));

describe('KubeConfigAdapter connections', () => {
  test('every request gets the same Agent while the options stay the same', async () => {
    const kc = adapter();
    const first = (await apply(kc)).getDispatcher();
    expect(first).toBeInstanceOf(Agent);
    expect((await apply(kc)).getDispatcher()).toBe(first);
    expect(kc.connections.agentsCreated).toBe(1);
  });

  test('a rotated client certificate gets a new Agent and the old one is closed; reset destroys', async () => {
    const kc = adapter({ certBody: 'client-cert-1' });
    const first = (await apply(kc)).getDispatcher() as unknown as { closed: boolean };
    (kc.getCurrentUser() as { certData?: string }).certData = pem('CERTIFICATE', 'client-cert-2'); // as a file re-read would
    const second = (await apply(kc)).getDispatcher() as unknown as { destroyed: boolean };
    expect(second).not.toBe(first);
    expect(first.closed).toBe(true);
    kc.connections.reset();
    expect(second.destroyed).toBe(true);
    expect(kc.connections.agentsCreated).toBe(2);
  });

  test('proxy-url gives a ProxyAgent; an http:// server is accepted without insecure-skip-tls-verify (client-node refuses it)', async () => {
    expect((await apply(adapter({ proxyUrl: 'http://127.0.0.1:3128' }))).getDispatcher()).toBeInstanceOf(ProxyAgent);
    const plain = adapter({ server: 'http://127.0.0.1:8001', user: {} });
    expect((await apply(plain, 'http://127.0.0.1:8001/api')).getDispatcher()).toBeInstanceOf(Agent);
    const raw = new KubeConfig();
    raw.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:8001' }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    await expect(raw.applySecurityAuthentication(new RequestContext('http://127.0.0.1:8001/api', HttpMethod.GET))).rejects.toThrow(
      /HTTP protocol is not allowed/,
    );
  });

  test('disable-compression asks for identity encoding', async () => {
    expect((await apply(adapter({ disableCompression: true }))).getHeaders()['Accept-Encoding']).toBe('identity');
    expect((await apply(adapter())).getHeaders()['Accept-Encoding']).toBeUndefined();
  });
});

describe('credentials', () => {
  test('tokenFile wins over token and is re-read after 60 s and after a 401', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'one\n');
    let now = 0;
    const source = new TokenFile(file, 60_000, () => now);
    expect(await source.current()).toEqual({ token: 'one' });
    writeFileSync(file, 'two\n');
    now = 59_000;
    expect(await source.current()).toEqual({ token: 'one' });
    now = 61_000;
    expect(await source.current()).toEqual({ token: 'two' });
    writeFileSync(file, 'three');
    expect(await source.rejected({ token: 'two' })).toBe(true);
    expect(await source.current()).toEqual({ token: 'three' });
    expect(await source.rejected({ token: 'three' })).toBe(false); // nothing new on disk: no retry
    const kc = adapter({ user: { token: 'static' }, extra: { tokenFile: file } });
    expect((await apply(kc)).getHeaders()['Authorization']).toBe('Bearer three');
  });

  function plugin(script: string): string {
    const path = join(dir, `plugin-${Math.random().toString(36).slice(2)}.sh`);
    writeFileSync(path, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
    return path;
  }
  const credential = (token: string, extra = '') =>
    `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"${extra}}}' "${token}"`;

  test('an exec credential without expirationTimestamp is kept until the server rejects it, then the plugin runs again', async () => {
    const counter = join(dir, 'count-a');
    const cmd = plugin(`n=$(($(cat ${counter} 2>/dev/null || echo 0) + 1)); echo $n > ${counter}; ${credential('t$n')}`);
    const source = new ExecPlugin({ command: cmd, apiVersion: 'client.authentication.k8s.io/v1' }, { server: 'https://x' }, 'u');
    expect(await source.current()).toMatchObject({ token: 't1' });
    expect(await source.current()).toMatchObject({ token: 't1' });
    expect(await source.rejected({ token: 't1' })).toBe(true);
    expect(await source.current()).toMatchObject({ token: 't2' });
    expect(source.runs).toBe(2);
  });

  test('an expired exec credential is replaced before it is sent; the plugin sees KUBERNETES_EXEC_INFO', async () => {
    const info = join(dir, 'exec-info');
    const past = new Date(Date.now() - 1000).toISOString();
    const cmd = plugin(`echo "$KUBERNETES_EXEC_INFO" > ${info}; ${credential('t', `,"expirationTimestamp":"${past}"`)}`);
    const source = new ExecPlugin({ command: cmd, apiVersion: 'client.authentication.k8s.io/v1', provideClusterInfo: true }, { server: 'https://x' }, 'u');
    await source.current();
    await source.current();
    expect(source.runs).toBe(2);
    expect(JSON.parse(readFileSync(info, 'utf8'))).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false, cluster: { server: 'https://x' } },
    });
  });

  test('a plugin that is missing, fails or prints the wrong apiVersion is a one-line unreachable error', async () => {
    const run = (command: string) =>
      new ExecPlugin(
        { command, apiVersion: 'client.authentication.k8s.io/v1', installHint: 'get it from example.com' },
        { server: 'https://x' },
        'u',
      ).current();
    await expect(run(join(dir, 'nope'))).rejects.toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/not found.*example\.com/) });
    await expect(run(plugin('exit 3'))).rejects.toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/failed \(exit 3\)/) });
    await expect(run(plugin(`echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"x"}}'`))).rejects.toThrow(
      /apiVersion/,
    );
  });

  test('a request answered 401 is sent again once with the refreshed credential', async () => {
    let good = 'new';
    const { server, url, seen } = await apiServer(() => good);
    try {
      const file = join(dir, 'token-401');
      writeFileSync(file, 'old');
      const kc = adapter({ server: url, user: {}, extra: { tokenFile: file } });
      const api = coreApi(kc, url);
      await expect(api.getAPIVersions()).rejects.toMatchObject({ code: 401 }); // nothing new on disk: one request, no retry
      expect(seen).toHaveLength(1);
      writeFileSync(file, 'new'); // rotated
      await expect(api.getAPIVersions()).resolves.toMatchObject({ versions: ['v1'] });
      expect(seen.slice(1).map((h) => h.authorization)).toEqual(['Bearer old', 'Bearer new']);
      good = 'newer';
      await expect(api.getAPIVersions()).rejects.toMatchObject({ code: 401 });
      expect(seen).toHaveLength(4);
    } finally {
      server.close();
    }
  });
});

describe('proxyFromEnvironment (Go http.ProxyFromEnvironment)', () => {
  const env = {
    HTTPS_PROXY: 'proxy.corp:3128',
    http_proxy: 'http://plain:8080',
    NO_PROXY: 'internal.example, .svc.local,10.0.0.0/8,192.168.1.5,api.example:8443',
  };
  test.each([
    ['https://api.example.com:6443', 'http://proxy.corp:3128'],
    ['http://api.example.com:8001', 'http://plain:8080'],
    ['https://127.0.0.1:6443', undefined], // loopback is never proxied
    ['https://localhost:6443', undefined],
    ['https://[::1]:6443', undefined],
    ['https://internal.example:443', undefined],
    ['https://k8s.internal.example', undefined], // a subdomain of a NO_PROXY name
    ['https://kubernetes.svc.local', undefined],
    ['https://svc.local', 'http://proxy.corp:3128'], // `.svc.local` matches subdomains only
    ['https://10.1.2.3:6443', undefined],
    ['https://192.168.1.5:6443', undefined],
    ['https://192.168.1.6:6443', 'http://proxy.corp:3128'],
    ['https://api.example:8443', undefined],
    ['https://api.example:6443', 'http://proxy.corp:3128'], // NO_PROXY entry for another port
  ])('%s → %s', (server, expected) => expect(proxyFromEnvironment(server, env)).toBe(expected));

  test('NO_PROXY=* and no proxy variables: connect directly', () => {
    expect(proxyFromEnvironment('https://api.example.com', { HTTPS_PROXY: 'http://p:1', NO_PROXY: '*' })).toBeUndefined();
    expect(proxyFromEnvironment('https://api.example.com', {})).toBeUndefined();
  });
});
