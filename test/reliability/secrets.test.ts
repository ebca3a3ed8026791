// No command prints a credential: not at -v, not with DEBUG=* (oclif's own logging), not with
// --json, not in any error. Kubeconfigs carry known secrets — a real ServiceAccount token, the
// admin's client certificate and key, bogus tokens, a password, a token with a line break, a
// password in the server URL — and every command runs through its success and failure paths
// while stdout and stderr are searched for each secret in every form it could be printed in.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { runKoncli, type CliResult } from '../support/cli.js';
import { adminConfig, documentedRbac } from '../integration/helpers.js';
import { closedPort } from '../support/admission.js';
import { adminKubeconfigPath, adminUserData, freshNamespace, sleep, withFlags, writeKubeconfig, writeScratch } from './helpers.js';

const hex = (n: number) => randomBytes(n).toString('hex');

/** Every form of a secret worth searching for: as given, and each line and PEM body line of it. */
function formsOf(secret: string): string[] {
  const forms = new Set([secret]);
  for (const line of secret.split('\n')) if (line.length >= 8 && !line.startsWith('-----')) forms.add(line.trim());
  return [...forms];
}

/** A base64 kubeconfig field (…-data): the base64 itself, the PEM it decodes to, and the PEM's body lines and joined body. */
function formsOfData(base64: string): string[] {
  const pem = Buffer.from(base64, 'base64').toString('utf8');
  const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
  return [...new Set([base64, pem.trim(), ...body, body.join('')])];
}

const needles: { what: string; text: string }[] = [];
const secret = (what: string, ...forms: string[]) => needles.push(...forms.filter((text) => text.length >= 8).map((text) => ({ what, text })));

/** Fails naming the secret and the command if any form of any secret appears in the output. */
function expectNoSecrets(result: CliResult, command: string): void {
  const output = result.stdout + result.stderr;
  const found = needles.filter((n) => output.includes(n.text)).map((n) => n.what);
  expect({ command, leaked: [...new Set(found)] }).toEqual({ command, leaked: [] });
}

// ---------------------------------------------------------------- the kubeconfigs

let ns: string;
const kubeconfigs: Record<string, string> = {};

/** A ServiceAccount bound to the documented Role, and a real token for it (TokenRequest). */
async function serviceAccountToken(namespace: string): Promise<string> {
  const core = adminConfig().makeApiClient(CoreV1Api);
  const rbac = adminConfig().makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'koncli-secrets' } } });
  await rbac.createNamespacedRole({ namespace, body: { ...documentedRbac().role, metadata: { name: 'koncli', namespace } } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'koncli', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'koncli' },
      subjects: [{ kind: 'ServiceAccount', name: 'koncli-secrets', namespace }],
    },
  });
  const request = await core.createNamespacedServiceAccountToken({
    name: 'koncli-secrets',
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return request.status!.token!;
}

beforeAll(async () => {
  ns = await freshNamespace('rel-secrets');
  const token = await serviceAccountToken(ns);
  const { certData, keyData } = adminUserData();
  const bogus = `koncli-bogus-${hex(16)}`;
  const lineBreak = `koncli-nl-${hex(8)}\nkoncli-second-${hex(8)}`;
  const password = `koncli-pw-${hex(12)}`;
  const port = await closedPort();

  secret('service account token', token, token.split('.')[2]);
  secret('admin client key', ...formsOfData(keyData));
  secret('admin client certificate', ...formsOfData(certData));
  secret('bogus token', bogus);
  secret('token with a line break', ...formsOf(lineBreak));
  secret('password', password, Buffer.from(`koncli-user:${password}`).toString('base64'));

  Object.assign(kubeconfigs, {
    // success paths
    'service account token': writeKubeconfig({ user: { token } }),
    'admin client certificate and key': adminKubeconfigPath(),
    // failure paths
    'bogus token (401)': writeKubeconfig({ user: { token: bogus } }),
    'password (basic auth, refused)': writeKubeconfig({ user: { username: 'koncli-user', password } }),
    'token with a line break': writeKubeconfig({ user: { token: lineBreak } }),
    'unreachable server, token and key': writeKubeconfig({
      server: `https://127.0.0.1:${port}`,
      user: { token: bogus, 'client-certificate-data': certData, 'client-key-data': keyData },
    }),
    'password in the server URL': writeKubeconfig({ server: `https://koncli-user:${password}@127.0.0.1:${port}`, user: { token: bogus } }),
    'password in a server URL without a scheme': writeKubeconfig({ server: `koncli-user:${password}@127.0.0.1:${port}`, user: { token: bogus } }),
    'context naming a missing cluster': writeKubeconfig({ contextCluster: 'gone', user: { token: bogus, 'client-key-data': keyData } }),
    'invalid YAML around the token': writeScratch(`apiVersion: v1\nusers:\n- name: u\n  user:\n    token: "${bogus}\n  client-key-data: ${keyData}\n: :\n`),
    'invalid YAML after the key': writeScratch(`apiVersion: v1\nusers:\n- name: u\n  user: {token: ${bogus}, client-key-data: ${keyData}}\n   bad: [\n`),
  });

  // The ServiceAccount's Role takes a moment to reach the authorizer.
  for (let i = 0; (await koncli('service account token', ['lease', 'status'])).code !== 0; i++) {
    if (i > 100) throw new Error('the ServiceAccount RBAC never took effect');
    await sleep(100);
  }
});

const koncli = (kubeconfig: string, args: string[], extra: string[] = [], env: Record<string, string> = {}) =>
  runKoncli(withFlags(args, ['--kubeconfig', kubeconfigs[kubeconfig], '-n', ns, ...extra]), { env, timeoutMs: 60_000 });

/** Maximum verbosity, as text and as JSON, and with oclif's own debug logging. */
const MODES: { name: string; flags: string[]; env?: Record<string, string> }[] = [
  { name: '-v', flags: ['-v'] },
  { name: '-v --json', flags: ['-v', '--json'] },
  { name: '-v -o yaml, DEBUG=*', flags: ['-v', '-o', 'yaml'], env: { DEBUG: '*' } },
];

/** Runs one command in every mode and checks the output of each. Returns the exit codes. */
async function runEverywhere(kubeconfig: string, args: string[]): Promise<number[]> {
  const codes: number[] = [];
  for (const mode of MODES) {
    const result = await koncli(kubeconfig, args, mode.flags, mode.env);
    expectNoSecrets(result, `${kubeconfig}: koncli ${args.join(' ')} ${mode.name}`);
    codes.push(result.code ?? -1);
  }
  return codes;
}

/** Success and failure paths of every command, as sequences on objects named with `p` (ok: must succeed; false: must fail). */
const SCRIPTS = (p: string): Record<string, { args: string[]; ok?: boolean }[]> => ({
  lease: [
    { args: ['lease', 'acquire', `${p}-lease`, '--holder', 'me', '--ttl', '60s'], ok: true },
    { args: ['lease', 'acquire', `${p}-lease`, '--holder', 'other', '--timeout', '1s'], ok: false },
    { args: ['lease', 'renew', `${p}-lease`, '--holder', 'me'], ok: true },
    { args: ['lease', 'renew', `${p}-lease`, '--holder', 'other'], ok: false },
    { args: ['lease', 'status', `${p}-lease`], ok: true },
    { args: ['lease', 'status'], ok: true },
    { args: ['lease', 'status', '-A'] },
    { args: ['lease', 'status', 'Bad_Name'], ok: false },
    { args: ['lease', 'release', `${p}-lease`, '--holder', 'other'], ok: false },
    { args: ['lease', 'release', `${p}-lease`, '--holder', 'oncall', '--force'], ok: true },
    { args: ['lease', 'release', `${p}-lease`, '--holder', 'oncall', '--delete'], ok: true },
  ],
  'lease run': [
    { args: ['lease', 'run', `${p}-run`, '--', 'true'], ok: true },
    { args: ['lease', 'run', `${p}-run`, '--', 'sh', '-c', 'exit 3'], ok: false },
    { args: ['lease', 'run', `${p}-run`, '--', '/nonexistent/command'], ok: false },
  ],
  'semaphore and kubelock': [
    { args: ['semaphore', 'lock', `${p}-sem`, '--holder', 'me', '--create', '--ttl', '60s'], ok: true },
    { args: ['semaphore', 'lock', `${p}-sem`, '--holder', 'other', '--timeout', '1s'], ok: false },
    { args: ['semaphore', 'status', `${p}-sem`], ok: true },
    { args: ['semaphore', 'status'], ok: true },
    { args: ['semaphore', 'unlock', `${p}-sem`, '--holder', 'ghost'], ok: true }, // nothing of ghost's to give back: already-free (issue 22)
    { args: ['semaphore', 'unlock', `${p}-sem`, '--force', '--if-holder', 'ghost'], ok: false }, // ghost holds nothing: nothing broken
    { args: ['semaphore', 'unlock', `${p}-sem`, '--force', '--if-holder', 'me'], ok: true },
    { args: ['kubelock', 'annotate', `cm/${p}-sem`, '--lock', 'l', '--owner', 'me'], ok: true },
    { args: ['kubelock', 'annotate', `cm/${p}-sem`, '--lock', 'l', '--owner', 'other', '--timeout', '1s'], ok: false },
    { args: ['kubelock', 'status', `cm/${p}-sem`], ok: true },
    { args: ['kubelock', 'annotate', `cm/${p}-sem`, '--lock', 'l', '--owner', 'me', '--release'], ok: true },
    { args: ['kubelock', 'annotate', `deploy/${p}-none`, '--lock', 'l', '--owner', 'me'], ok: false },
    { args: ['kubelock', 'status', 'frobnicators/x'], ok: false },
  ],
  crd: [{ args: ['crd', 'install', '--dry-run'], ok: true }, { args: ['crd', 'install'] }],
});

describe('no credential in any output', () => {
  test('the secrets searched for are there to be found: the admin key, its PEM body, the token', () => {
    expect(new Set(needles.map((n) => n.what))).toEqual(
      new Set(['service account token', 'admin client key', 'admin client certificate', 'bogus token', 'token with a line break', 'password']),
    );
    expect(needles.filter((n) => n.what === 'admin client key').length).toBeGreaterThan(4);
  });

  const SUCCESS = [
    ['service account token', 'sa'],
    ['admin client certificate and key', 'adm'],
  ].flatMap(([kubeconfig, prefix]) => Object.entries(SCRIPTS(prefix)).map(([group, steps]) => ({ kubeconfig, group, steps })));

  test.concurrent.each(SUCCESS)(
    'success and failure paths of $group with $kubeconfig',
    async ({ kubeconfig, steps }) => {
      for (const step of steps) {
        const codes = await runEverywhere(kubeconfig, step.args);
        // The first mode's run does the work; the repeats are idempotent or fail the same way.
        if (step.ok !== undefined) expect({ step: step.args.join(' '), succeeded: codes[0] === 0 }).toEqual({ step: step.args.join(' '), succeeded: step.ok });
      }
    },
    300_000,
  );

  const FAILING = [
    ['lease', 'acquire', 'f-lease', '--holder', 'me'],
    ['lease', 'run', 'f-run', '--request-timeout', '2s', '--', 'true'],
    ['lease', 'status', '-A'],
    ['semaphore', 'lock', 'f-sem', '--holder', 'me', '--wait', '--timeout', '2s', '--request-timeout', '2s'],
    ['semaphore', 'unlock', 'f-sem', '--force', '--if-holder', 'me'],
    ['kubelock', 'annotate', 'cm/f-obj', '--lock', 'l', '--owner', 'me', '--release', '--force'],
    ['kubelock', 'status', 'ns/default'],
    ['crd', 'install'],
  ];

  test.concurrent.each([
    'bogus token (401)',
    'password (basic auth, refused)',
    'token with a line break',
    'unreachable server, token and key',
    'password in the server URL',
    'password in a server URL without a scheme',
    'context naming a missing cluster',
    'invalid YAML around the token',
    'invalid YAML after the key',
  ])(
    'every command fails without printing the credentials: %s',
    async (kubeconfig) => {
      for (const args of FAILING) {
        const codes = await runEverywhere(kubeconfig, args);
        expect({ args: args.join(' '), failed: codes.every((c) => c !== 0) }).toEqual({ args: args.join(' '), failed: true });
      }
    },
    300_000,
  );
});
