// Every kubeconfig kubectl accepts works with koncli: each case runs koncli AND the plane's kubectl
// with the same kubeconfig against the local plane and expects the same outcome (success, or a
// failure of the same kind). KONCLI_KUBECONFIG_MATRIX=<file> appends what each tool did (for the report).
import { CoordinationV1Api } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { collect, spawnKoncli, runKoncli } from '../support/cli.js';
import {
  connectProxy,
  kubectlPath,
  leaseServiceAccount,
  planeState,
  runCommand,
  serviceAccountToken,
  writePlaneKubeconfig,
  type Run,
} from '../support/access.js';
import { closedPort } from '../support/admission.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

let ns: string;
let dir: string;
let port: string;
let saToken: string;
const files: Record<string, string> = {};

type Outcome = 'ok' | 'tls' | 'unauthorized' | 'refused' | 'config';

/** What kind of outcome a koncli run had, from its exit code and its one-line error. */
function koncliOutcome(r: Run): Outcome | `other: ${string}` {
  if (r.code === 0) return 'ok';
  const err = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('koncli:'))
    .join(' ');
  if (r.code !== 8) return `other: exit ${r.code} ${err}`;
  if (/TLS certificate was not accepted/.test(err)) return 'tls';
  if (/401 Unauthorized/.test(err)) return 'unauthorized';
  if (/ECONNREFUSED/.test(err)) return 'refused';
  if (/kubeconfig|exec plugin/.test(err)) return 'config';
  return `other: ${err}`;
}

/** The same for kubectl (always exit 1 on failure). */
function kubectlOutcome(r: Run): Outcome | `other: ${string}` {
  if (r.code === 0) return 'ok';
  const err = r.stderr;
  if (/insecure flag|unable to read|getting credentials|executable .* not found|invalid configuration/i.test(err)) return 'config';
  if (/Unauthorized|must be logged in/i.test(err)) return 'unauthorized';
  if (/was refused|connection refused/i.test(err)) return 'refused';
  if (/x509|tls: failed to verify/i.test(err)) return 'tls';
  return `other: ${err.trim().split('\n').pop()}`;
}

const writeConfig = (name: string, cluster: Record<string, unknown>, user: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  writePlaneKubeconfig(join(dir, `${name}.kubeconfig`), { cluster, user, namespace: ns, extra });

const b64 = (path: string) => readFileSync(path).toString('base64');

/** koncli and kubectl read the same Lease with the same kubeconfig (from elsewhere than its directory). */
async function both(kubeconfig: string, env: NodeJS.ProcessEnv = {}): Promise<{ koncli: Run; kubectl: Run }> {
  const cwd = tmpdir();
  const [koncli, kubectl] = await Promise.all([
    runKoncli(['lease', 'status', 'probe', '--kubeconfig', kubeconfig, '--request-timeout', '5s'], { cwd, env }),
    runCommand(kubectlPath(), ['get', 'lease', 'probe', '-o', 'name', '--kubeconfig', kubeconfig, '--request-timeout', '5s'], { cwd, env }),
  ]);
  return { koncli, kubectl };
}

/** Appends what both tools did to $KONCLI_KUBECONFIG_MATRIX (for the report), if set. */
function record(feature: string, koncli: Run, kubectl: Run): void {
  if (!process.env.KONCLI_KUBECONFIG_MATRIX) return;
  const line = (run: Run) => (run.code === 0 ? 'exit 0' : `exit ${run.code}: ${run.stderr.trim().split('\n').pop()?.slice(0, 160)}`);
  appendFileSync(process.env.KONCLI_KUBECONFIG_MATRIX, `${JSON.stringify({ feature, koncli: line(koncli), kubectl: line(kubectl) })}\n`);
}

async function expectSame(feature: string, kubeconfig: string, expected: Outcome, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const r = await both(kubeconfig, env);
  const k = koncliOutcome(r.koncli);
  const c = kubectlOutcome(r.kubectl);
  record(feature, r.koncli, r.kubectl);
  expect({ feature, koncli: k, kubectl: c }).toEqual({ feature, koncli: expected, kubectl: expected });
  // koncli's own message is one line (a failing exec plugin's stderr comes before it, as with kubectl).
  if (expected !== 'ok')
    expect(
      r.koncli.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('koncli:')),
    ).toHaveLength(1);
}

beforeAll(async () => {
  ns = await freshNamespace('kubeconfig');
  dir = mkdtempSync(join(tmpdir(), 'koncli-kubeconfig-'));
  const state = planeState();
  port = new URL(state.server).port;
  for (const [name, path] of Object.entries({ 'ca.crt': state.pki.caCert, 'admin.crt': state.pki.adminCert, 'admin.key': state.pki.adminKey })) {
    files[name] = join(dir, name);
    writeFileSync(files[name], readFileSync(path));
  }
  const admin = adminConfig();
  await admin
    .makeApiClient(CoordinationV1Api)
    .createNamespacedLease({ namespace: ns, body: { metadata: { name: 'probe' }, spec: { holderIdentity: 'someone', leaseDurationSeconds: 30 } } });
  await leaseServiceAccount(admin, ns, 'reader');
  saToken = await serviceAccountToken(admin, ns, 'reader');
});

const adminData = () => ({ 'client-certificate-data': b64(files['admin.crt']), 'client-key-data': b64(files['admin.key']) });

describe('kubeconfig features: koncli does what kubectl does', () => {
  test('client-certificate/client-key and certificate-authority files, relative to the kubeconfig', async () => {
    await expectSame(
      'client-certificate + client-key + certificate-authority files (relative paths)',
      writeConfig('files', { 'certificate-authority': 'ca.crt' }, { 'client-certificate': 'admin.crt', 'client-key': 'admin.key' }),
      'ok',
    );
    await expectSame(
      'client-key file missing',
      writeConfig('files-missing', { 'certificate-authority': 'ca.crt' }, { 'client-certificate': 'admin.crt', 'client-key': 'nope.key' }),
      'config',
    );
  });

  test('client-certificate-data/client-key-data and certificate-authority-data', async () => {
    await expectSame(
      'client-certificate-data + client-key-data + certificate-authority-data',
      writeConfig('data', { 'certificate-authority-data': b64(files['ca.crt']) }, adminData()),
      'ok',
    );
    await expectSame('no certificate-authority (server certificate not trusted)', writeConfig('no-ca', {}, adminData()), 'tls');
  });

  test('tls-server-name: a name on the certificate works, another fails verification', async () => {
    const viaName = { server: `https://127.0.0.1:${port}`, 'certificate-authority': files['ca.crt'] };
    await expectSame(
      'tls-server-name: kubernetes.default.svc',
      writeConfig('sni-ok', { ...viaName, 'tls-server-name': 'kubernetes.default.svc' }, adminData()),
      'ok',
    );
    await expectSame('tls-server-name: not on the certificate', writeConfig('sni-bad', { ...viaName, 'tls-server-name': 'wrong.example' }, adminData()), 'tls');
  });

  test('insecure-skip-tls-verify: works without a CA; with a CA both refuse the kubeconfig', async () => {
    await expectSame('insecure-skip-tls-verify', writeConfig('insecure', { 'insecure-skip-tls-verify': true }, adminData()), 'ok');
    await expectSame(
      'insecure-skip-tls-verify + certificate-authority',
      writeConfig('insecure-ca', { 'insecure-skip-tls-verify': true, 'certificate-authority': files['ca.crt'] }, adminData()),
      'config',
    );
  });

  test('disable-compression', async () => {
    await expectSame(
      'disable-compression: true',
      writeConfig('nocompress', { 'certificate-authority': files['ca.crt'], 'disable-compression': true }, adminData()),
      'ok',
    );
  });

  test('token and tokenFile users (a ServiceAccount token); a revoked or wrong token is Unauthorized for both', async () => {
    writeFileSync(join(dir, 'sa.token'), `${saToken}\n`);
    writeFileSync(join(dir, 'bad.token'), 'not-a-token\n');
    const ca = { 'certificate-authority': files['ca.crt'] };
    await expectSame('token', writeConfig('token', ca, { token: saToken }), 'ok');
    await expectSame('tokenFile (relative path)', writeConfig('tokenfile', ca, { tokenFile: 'sa.token' }), 'ok');
    await expectSame('tokenFile with a wrong token', writeConfig('tokenfile-bad', ca, { tokenFile: 'bad.token' }), 'unauthorized');
  });

  test('exec credential plugins: a working plugin, one that is not installed, one that fails', async () => {
    const plugin = join(dir, 'sa-plugin.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat "$TOKEN_FILE")"\n`,
    );
    chmodSync(plugin, 0o755);
    const failing = join(dir, 'failing-plugin.sh');
    writeFileSync(failing, '#!/bin/sh\necho "no credentials for you" >&2\nexit 1\n');
    chmodSync(failing, 0o755);
    const ca = { 'certificate-authority': files['ca.crt'] };
    const exec = (command: string) => ({
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command,
        args: [],
        env: [{ name: 'TOKEN_FILE', value: join(dir, 'sa.token') }],
        interactiveMode: 'Never',
      },
    });
    writeFileSync(join(dir, 'sa.token'), `${saToken}\n`);
    await expectSame('exec plugin (relative command ./sa-plugin.sh)', writeConfig('exec', ca, exec('./sa-plugin.sh')), 'ok');
    await expectSame('exec plugin not installed', writeConfig('exec-missing', ca, exec('koncli-no-such-plugin')), 'config');
    await expectSame('exec plugin exits 1', writeConfig('exec-failing', ca, exec(failing)), 'config');
  });

  test('several KUBECONFIG files: the first to set current-context or a name wins', async () => {
    const first = writeConfig('merge-first', { 'certificate-authority': files['ca.crt'] }, adminData());
    // The second file names the same cluster, user and context (pointing nowhere) and another current-context.
    const second = join(dir, 'merge-second.kubeconfig');
    const nowhere = `https://127.0.0.1:${await closedPort()}`;
    writeFileSync(
      second,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'plane', cluster: { server: nowhere } },
          { name: 'nowhere', cluster: { server: nowhere, 'insecure-skip-tls-verify': true } },
        ],
        users: [{ name: 'me', user: { token: 'x' } }],
        contexts: [
          { name: 'ctx', context: { cluster: 'nowhere', user: 'me' } },
          { name: 'other', context: { cluster: 'nowhere', user: 'me', namespace: ns } },
        ],
        'current-context': 'other',
      }),
    );
    const env = { KUBECONFIG: `${first}:${second}` };
    const r = await Promise.all([
      runKoncli(['lease', 'status', 'probe', '--json'], { env, cwd: tmpdir() }),
      runCommand(kubectlPath(), ['get', 'lease', 'probe', '-o', 'name'], { env, cwd: tmpdir() }),
      runKoncli(['--context', 'other', 'lease', 'status', 'probe'], { env, cwd: tmpdir() }),
      runCommand(kubectlPath(), ['--context', 'other', 'get', 'lease', 'probe'], { env, cwd: tmpdir() }),
    ]);
    record('KUBECONFIG=a:b (first file wins)', r[0], r[1]);
    record('KUBECONFIG=a:b --context from the second file', r[2], r[3]);
    expect([koncliOutcome(r[0]), kubectlOutcome(r[1])]).toEqual(['ok', 'ok']);
    expect(JSON.parse(r[0].stdout)).toMatchObject({ name: 'probe', namespace: ns });
    expect([koncliOutcome(r[2]), kubectlOutcome(r[3])]).toEqual(['refused', 'refused']);
  });

  test('a plain http:// server (kubectl proxy)', async () => {
    const proxy: ChildProcess = spawn(kubectlPath(), ['proxy', '--port=0', '--kubeconfig', adminKubeconfigPath()], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        proxy.stdout!.on('data', (d) => {
          out += d;
          const m = /Starting to serve on ([\d.]+:\d+)/.exec(out);
          if (m) resolve(`http://${m[1]}`);
        });
        proxy.on('exit', (code) => reject(new Error(`kubectl proxy exited ${code}`)));
      });
      const path = join(dir, 'http.kubeconfig');
      writeFileSync(
        path,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'p', cluster: { server: url } }],
          users: [{ name: 'anon', user: {} }],
          contexts: [{ name: 'c', context: { cluster: 'p', user: 'anon', namespace: ns } }],
          'current-context': 'c',
        }),
      );
      await expectSame('plain http:// server (kubectl proxy)', path, 'ok');
    } finally {
      proxy.kill();
    }
  });

  test('proxy-url: requests and watches go through a CONNECT proxy (the server name resolves only there)', async () => {
    // kubernetes.default.svc is on the serving certificate and resolves nowhere but in the proxy.
    const proxy = await connectProxy((host) => (host === 'kubernetes.default.svc' ? '127.0.0.1' : host));
    try {
      const path = writeConfig(
        'proxy',
        { server: `https://kubernetes.default.svc:${port}`, 'certificate-authority': files['ca.crt'], 'proxy-url': proxy.url },
        adminData(),
      );
      await expectSame('proxy-url (CONNECT proxy on 127.0.0.1)', path, 'ok');
      expect(proxy.tunnels.filter((t) => t === `kubernetes.default.svc:${port}`).length).toBeGreaterThanOrEqual(2); // one per tool at least
      // A waiter learns of the release through its watch, through the proxy.
      const adminArgs = ['--kubeconfig', adminKubeconfigPath(), '-n', ns];
      expect((await runKoncli(['lease', 'acquire', 'proxied', '--holder', 'first', '--ttl', '60s', ...adminArgs])).code).toBe(0);
      const before = proxy.tunnels.length;
      const waiter = spawnKoncli(['-v', 'lease', 'acquire', 'proxied', '--holder', 'second', '--wait', '--timeout', '30s', '--kubeconfig', path, '--json']);
      const done = collect(waiter);
      let stderr = '';
      waiter.stderr!.on('data', (d) => (stderr += d));
      const deadline = Date.now() + 15_000;
      while (!/WATCH /.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(proxy.open()).toBeGreaterThanOrEqual(1); // the watch's connection is a tunnel through the proxy
      expect((await runKoncli(['lease', 'release', 'proxied', '--holder', 'first', ...adminArgs])).code).toBe(0);
      const result = await done;
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ holder: 'second' });
      expect(result.stderr).toMatch(/WATCH \/apis\/coordination\.k8s\.io\/v1\/namespaces\/[^/]+\/leases/);
      expect(proxy.tunnels.length).toBeGreaterThan(before);

      // No proxy-url: HTTPS_PROXY as kubectl reads it, and NO_PROXY turning it off for the server.
      const direct = writeConfig('env-proxy', { server: `https://kubernetes.default.svc:${port}`, 'certificate-authority': files['ca.crt'] }, adminData());
      const tunnels = proxy.tunnels.length;
      await expectSame('HTTPS_PROXY (no proxy-url)', direct, 'ok', { HTTPS_PROXY: proxy.url, NO_PROXY: '' });
      expect(proxy.tunnels.length).toBeGreaterThanOrEqual(tunnels + 2);
      // NO_PROXY covering the server: both connect directly, where the name does not resolve. How a
      // failed lookup ends depends on the machine's resolver (an answer, or the request timeout), so
      // the check is that both fail and neither used the proxy.
      const bypass = proxy.tunnels.length;
      const r = await both(direct, { HTTPS_PROXY: proxy.url, NO_PROXY: '.svc' });
      record('HTTPS_PROXY with NO_PROXY=.svc (direct: the name does not resolve)', r.koncli, r.kubectl);
      expect([r.koncli.code, r.kubectl.code]).toEqual([8, 1]);
      expect(proxy.tunnels.length).toBe(bypass);
    } finally {
      await proxy.close();
    }
  });
});
