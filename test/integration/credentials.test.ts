// Credentials that change during a long `lease run` (issue 14, part 5), on the real plane: a
// ServiceAccount's token is revoked (the ServiceAccount deleted and re-created) and replaced while
// koncli holds a lease with renewals every second. kubectl's rules: an exec plugin runs again
// after a 401, a tokenFile and a Pod's service-account token file are read again; koncli then
// retries the renewal, and the healthy command runs to its end.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect, KONCLI_COMMAND, spawnKoncli } from '../support/cli.js';
import { sleep } from '../support/poll.js';
import { leaseServiceAccount, planeState, recreateServiceAccount, serviceAccountToken, writePlaneKubeconfig } from '../support/access.js';
import { adminConfig, freshNamespace } from './helpers.js';
import { spawn } from 'node:child_process';

let ns: string;
let dir: string;
const admin = () => adminConfig();

/** Writes `token` to `path` the way the kubelet rotates a projected token: a new file renamed over the old. */
function writeToken(path: string, token: string): void {
  writeFileSync(`${path}.new`, token);
  renameSync(`${path}.new`, path);
}

const kubeconfig = (name: string, user: Record<string, unknown>) =>
  writePlaneKubeconfig(join(dir, `${name}.kubeconfig`), { cluster: { 'certificate-authority': planeState().pki.caCert }, user, namespace: ns });

/**
 * Runs `start` (a `lease run` renewing every 4 s — a 12 s TTL: with 3 s and 6 s, a loaded machine
 * (load 49) lost the renewal or answered the claim too late — of a command that works until `marker`
 * exists); after its first renewal the ServiceAccount `sa` is re-created (its tokens revoked) and
 * `tokenFile` gets a new token. The API server keeps a token it accepted for about 10 s (its
 * authentication cache), so the old token is refused some seconds later. Once koncli has logged the
 * refresh, two more renewal periods pass before the command is let finish. Returns koncli's result.
 */
async function runThroughRotation(sa: string, tokenFile: string, marker: string, start: () => ReturnType<typeof spawnKoncli>) {
  const child = start();
  const done = collect(child, Date.now(), { timeoutMs: 80_000 });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const until = async (what: RegExp, ms: number) => {
    const deadline = Date.now() + ms;
    while (!what.test(stderr) && child.exitCode === null && Date.now() < deadline) await sleep(50);
  };
  await until(/PATCH [^\n]*\n[^\n]*-> 200/, 15_000); // renewing
  await recreateServiceAccount(admin(), ns, sa);
  writeToken(tokenFile, await serviceAccountToken(admin(), ns, sa));
  await until(/credentials refreshed/, 40_000);
  await sleep(8500); // two renewals after the refresh (every 4 s under the 12 s TTL)
  writeFileSync(marker, '');
  return await done;
}

/** A healthy command: works until the test lets it finish, then prints `done`. */
const command = (marker: string) => ['--', 'sh', '-c', `while [ ! -e '${marker}' ]; do sleep 0.2; done; echo done`];

beforeAll(async () => {
  ns = await freshNamespace('credentials');
  dir = mkdtempSync(join(tmpdir(), 'koncli-credentials-'));
});

test.concurrent(
  'an exec plugin without expirationTimestamp whose token is revoked and replaced: runs again after the 401, lease run keeps the command',
  async () => {
    await leaseServiceAccount(admin(), ns, 'exec-sa');
    const tokenFile = join(dir, 'exec.token');
    writeToken(tokenFile, await serviceAccountToken(admin(), ns, 'exec-sa'));
    const runs = join(dir, 'exec.runs');
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh\necho run >> ${runs}\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat ${tokenFile})"\n`,
    );
    chmodSync(plugin, 0o755);
    const config = kubeconfig('exec', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } });
    const marker = join(dir, 'exec.finish');
    const r = await runThroughRotation('exec-sa', tokenFile, marker, () =>
      spawnKoncli(['-v', 'lease', 'run', 'exec-job', '--ttl', '12s', '--kubeconfig', config, ...command(marker)]),
    );
    expect({ code: r.code, stdout: r.stdout.trim() }).toEqual({ code: 0, stdout: 'done' });
    expect(r.stderr).toMatch(/401 Unauthorized: credentials refreshed/);
    expect(r.stderr).toMatch(/exec credential plugin .* \(run 2\)/);
    expect(readFileSync(runs, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(2);
    // Released at the end, by the same holder: every renewal after the rotation landed.
    const lease = await admin().makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: ns, name: 'exec-job' });
    expect(lease.spec?.holderIdentity ?? '').toBe('');
  },
  90_000,
);

test.concurrent(
  'a kubeconfig tokenFile rotated with the old token revoked: read again after the 401',
  async () => {
    await leaseServiceAccount(admin(), ns, 'file-sa');
    const tokenFile = join(dir, 'file.token');
    writeToken(tokenFile, await serviceAccountToken(admin(), ns, 'file-sa'));
    const config = kubeconfig('tokenfile', { tokenFile });
    const marker = join(dir, 'file.finish');
    const r = await runThroughRotation('file-sa', tokenFile, marker, () =>
      spawnKoncli(['-v', 'lease', 'run', 'file-job', '--ttl', '12s', '--kubeconfig', config, ...command(marker)]),
    );
    expect({ code: r.code, stdout: r.stdout.trim() }).toEqual({ code: 0, stdout: 'done' });
    expect(r.stderr).toMatch(/credentials refreshed/);
  },
  90_000,
);

/** Whether this process may make a private mount namespace (root with CAP_SYS_ADMIN). */
const canUnshare = () => process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;

(canUnshare() ? test.concurrent : test.skip)(
  'in a Pod (simulated: private mount namespace, the service-account directory bind-mounted, KUBERNETES_SERVICE_HOST/PORT): the rotated token file is read again',
  async () => {
    if (!canUnshare()) console.warn('SKIPPED: the in-cluster token test needs root and unshare -m');
    await leaseServiceAccount(admin(), ns, 'pod-sa');
    const state = planeState();
    const saDir = join(dir, 'serviceaccount');
    mkdirSync(saDir);
    writeFileSync(join(saDir, 'ca.crt'), readFileSync(state.pki.caCert));
    writeFileSync(join(saDir, 'namespace'), ns);
    const tokenFile = join(saDir, 'token');
    writeToken(tokenFile, await serviceAccountToken(admin(), ns, 'pod-sa'));
    const home = mkdtempSync(join(tmpdir(), 'koncli-home-')); // no ~/.kube/config: in-cluster it is
    const mountpoint = '/var/run/secrets/kubernetes.io/serviceaccount';
    // /run is replaced by a tmpfs in the private namespace only, so nothing is created on the host.
    const script = `mount -t tmpfs none /run && mkdir -p ${mountpoint} && mount --bind "$SA_DIR" ${mountpoint} && exec $KONCLI "$@"`;
    const { hostname, port } = new URL(state.server);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NO_COLOR: '1',
      HOME: home,
      KUBERNETES_SERVICE_HOST: hostname,
      KUBERNETES_SERVICE_PORT: port,
      SA_DIR: saDir,
      KONCLI: KONCLI_COMMAND,
    };
    delete env.KUBECONFIG;
    const marker = join(dir, 'pod.finish');
    const r = await runThroughRotation('pod-sa', tokenFile, marker, () =>
      spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', '-v', 'lease', 'run', 'pod-job', '--ttl', '12s', ...command(marker)], {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    expect({ code: r.code, stdout: r.stdout.trim() }).toEqual({ code: 0, stdout: 'done' });
    expect(r.stderr).toMatch(/credentials refreshed/);
    const lease = await admin().makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: ns, name: 'pod-job' });
    expect(lease.metadata?.namespace).toBe(ns); // the Pod's namespace file chose it
  },
  90_000,
);
