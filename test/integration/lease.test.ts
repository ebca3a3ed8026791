import { CoordinationV1Api, CoreV1Api, type V1Lease } from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterArgs, collect, KONCLI_COMMAND, runKoncli, spawnKoncli } from '../support/cli.js';
import { sleep } from '../support/poll.js';
import { runCommand } from '../support/access.js';
import { closedPort } from '../support/admission.js';
import { waiterIds } from '../support/waiters.js';
import { adminConfig, adminKubeconfigPath, bindRestricted, freshNamespace, grantRestricted, restrictedKubeconfigPath } from './helpers.js';

let ns: string;
let admin: string;
const leases = () => adminConfig().makeApiClient(CoordinationV1Api);
const koncli = (...args: string[]) => runKoncli([...args, ...clusterArgs(admin, ns)]);
const json = (stdout: string) => JSON.parse(stdout);
const readLease = (name: string) => leases().readNamespacedLease({ name, namespace: ns });
/** Resolves once `id` has registered as a waiter for lease `name` (its candidate exists). */
const queued = (name: string, id: string) =>
  waitFor(`${id} to queue`, async () => ((await waiterIds(adminConfig(), ns, name)).includes(id) ? true : undefined));

/** MicroTime as client-go writes it (client-node's own Date serialisation is rejected by the server). */
const micro = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z') as unknown as Date;

/** Writes a Lease the way client-go's leader election (and klock) does: spec fields only, no koncli annotations. */
async function writeForeignLease(name: string, spec: V1Lease['spec']) {
  await leases().createNamespacedLease({ namespace: ns, body: { metadata: { name }, spec }, fieldManager: 'leader-elector' });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('lease');
});

describe('lease acquire / status / renew / release on the real API server', () => {
  test('acquire --timeout 0 creates and holds; a second holder gets busy (exit 3) and nothing changes', async () => {
    const first = await koncli('lease', 'acquire', 'daily-report', '--holder', 'host-a', '--timeout', '0', '--json', '--labels', 'team=ops');
    expect(first.code).toBe(0);
    const doc = json(first.stdout);
    expect(doc).toMatchObject({ lease: 'daily-report', holder: 'host-a', outcome: 'acquired', ttlSeconds: 300 });
    const lease = await readLease('daily-report');
    expect(lease.spec?.holderIdentity).toBe('host-a');
    expect(lease.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'koncli', team: 'ops' });
    expect(doc.fencingToken).toBe(lease.metadata?.resourceVersion);

    const busy = await koncli('lease', 'acquire', 'daily-report', '--holder', 'host-b', '--timeout', '0', '--json');
    expect(busy.code).toBe(3);
    expect(json(busy.stdout).error).toMatchObject({ kind: 'busy', holder: 'host-a', exitCode: 3 });
    expect(busy.stderr.trim().split('\n')).toHaveLength(1);
    expect((await readLease('daily-report')).metadata?.resourceVersion).toBe(lease.metadata?.resourceVersion);
  });

  test('acquiring again as the holder extends; renew counts; renew by another is lost (exit 4)', async () => {
    await koncli('lease', 'acquire', 'ext', '--holder', 'h', '--ttl', '30s', '--timeout', '0');
    const again = await koncli('lease', 'acquire', 'ext', '--holder', 'h', '--ttl=10m', '--json');
    expect(json(again.stdout)).toMatchObject({ outcome: 'extended', ttlSeconds: 600 });
    const renewed = await koncli('lease', 'renew', 'ext', '--holder', 'h', '--json');
    expect(renewed.code).toBe(0);
    expect(json(renewed.stdout).renewals).toBe(2);
    const stranger = await koncli('lease', 'renew', 'ext', '--holder', 'stranger', '--json');
    expect(stranger.code).toBe(4);
    expect(json(stranger.stdout).error.kind).toBe('lost');
  });

  test('--renewable=false makes a one-time lease: renew is refused', async () => {
    expect((await koncli('lease', 'acquire', 'init-once', '--holder', 'h', '--renewable=false', '--timeout', '0')).code).toBe(0);
    const renew = await koncli('lease', 'renew', 'init-once', '--holder', 'h');
    expect(renew.code).toBe(4);
    expect(renew.stderr).toMatch(/one-time/);
  });

  test('release wakes a watching waiter within milliseconds', async () => {
    await koncli('lease', 'acquire', 'handover', '--holder', 'first', '--timeout', '0');
    const waiter = spawnKoncli(['lease', 'acquire', 'handover', '--holder', 'second', '--wait', '--timeout', '30s', '--json', ...clusterArgs(admin, ns)]);
    const done = collect(waiter);
    await queued('handover', 'second');
    const released = await koncli('lease', 'release', 'handover', '--holder', 'first');
    expect(released.code).toBe(0);
    const releasedAt = Date.now();
    const result = await done;
    expect(result.code).toBe(0);
    expect(json(result.stdout)).toMatchObject({ outcome: 'acquired', holder: 'second' });
    const lease = await readLease('handover');
    expect(lease.spec?.holderIdentity).toBe('second');
    // The waiter's write happened soon after the release: measured from the waiter's exit.
    expect(Date.now() - releasedAt).toBeLessThan(3000);
    expect(lease.metadata?.annotations?.['koncli.dev/waiters']).toBeUndefined();
    expect(await waiterIds(adminConfig(), ns, 'handover')).toEqual([]); // the new holder deleted its candidate
  });

  test('a waiter takes over after the holder stops renewing (expiry on the observer clock)', async () => {
    await koncli('lease', 'acquire', 'expiring', '--holder', 'crashed', '--ttl', '2s', '--timeout', '0');
    const started = Date.now();
    const taken = await koncli('lease', 'acquire', 'expiring', '--holder', 'next', '--wait', '--timeout', '20s', '--json');
    expect(taken.code).toBe(0);
    expect(json(taken.stdout)).toMatchObject({ outcome: 'acquired', previousHolder: 'crashed' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect((await readLease('expiring')).spec?.leaseTransitions).toBe(1);
  });

  test("a skewed holder: its renewTime alone never ends its claim early, nor does the server's clock alone", async () => {
    // Alive, but its clock is 10 minutes behind: its renewTime looks ancient.
    const past = micro(Date.now() - 10 * 60_000);
    await writeForeignLease('skew-slow', { holderIdentity: 'slow-clock', leaseDurationSeconds: 60, acquireTime: past, renewTime: past, leaseTransitions: 0 });
    const busy = await koncli('lease', 'acquire', 'skew-slow', '--holder', 'me', '--timeout', '0', '--json');
    expect(busy.code).toBe(3);

    // Dead, and its clock was 10 minutes ahead: its renewTime is in our future. Its 2 s ran out by the
    // server's write time, but the server's clock alone ends nothing early (docs/clock.md rule 3): a
    // one-shot is busy and says why and from when ...
    const future = micro(Date.now() + 10 * 60_000);
    await writeForeignLease('skew-fast', {
      holderIdentity: 'fast-clock',
      leaseDurationSeconds: 2,
      acquireTime: future,
      renewTime: future,
      leaseTransitions: 0,
    });
    await sleep(3200);
    const oneShot = await koncli('lease', 'acquire', 'skew-fast', '--holder', 'me', '--timeout', '0', '--json');
    expect(oneShot.code).toBe(3);
    expect(json(oneShot.stdout).error).toMatchObject({ kind: 'busy', judgedBy: 'observed' });
    // ... and a waiter that sees it unchanged for its 2 s takes it (client-go's observed-time rule).
    const started = Date.now();
    const taken = await koncli('lease', 'acquire', 'skew-fast', '--holder', 'me', '--wait', '--timeout', '20s', '--json');
    expect(taken.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(json(taken.stdout).previousHolder).toBe('fast-clock');
  });

  test('a Lease written by client-go leader election is read correctly and respected', async () => {
    const now = micro(Date.now());
    await writeForeignLease('leader', { holderIdentity: 'controller-0_abc', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 7 });
    const status = await koncli('lease', 'status', 'leader', '--json');
    expect(status.code).toBe(0);
    expect(json(status.stdout)).toMatchObject({
      holder: 'controller-0_abc',
      phase: 'Held',
      ttlSeconds: 15,
      transitions: 7,
      renewals: 0,
      priority: 0,
      renewable: true,
      alive: null,
      aliveReason: `unknown: no Pod in any namespace and no Node is named controller-0; it may be a process outside the cluster`,
    });
    expect((await koncli('lease', 'acquire', 'leader', '--holder', 'me', '--timeout', '0')).code).toBe(3);
  });

  test('waiters acquire in priority order, equal priorities in arrival order', async () => {
    await koncli('lease', 'acquire', 'prio', '--holder', 'holder', '--timeout', '0');
    const start = (holder: string, priority: number) => {
      const child = spawnKoncli([
        'lease',
        'acquire',
        'prio',
        '--holder',
        holder,
        '--wait',
        '--timeout',
        '60s',
        '--priority',
        String(priority),
        '--json',
        ...clusterArgs(admin, ns),
      ]);
      return collect(child, Date.now(), { timeoutMs: 90_000 });
    };
    const low1 = start('low-1', 1);
    await queued('prio', 'low-1');
    const low2 = start('low-2', 1);
    await queued('prio', 'low-2');
    const high = start('high', 5);
    await queued('prio', 'high');

    const order: string[] = [];
    let previous = 'holder';
    for (const expected of ['high', 'low-1', 'low-2']) {
      expect((await koncli('lease', 'release', 'prio', '--holder', previous)).code).toBe(0);
      const holder = await waitFor(`next holder after ${previous}`, async () => {
        const h = (await readLease('prio')).spec?.holderIdentity;
        return h && h !== previous ? h : undefined;
      });
      order.push(holder);
      previous = holder;
      expect(holder).toBe(expected);
    }
    expect(order).toEqual(['high', 'low-1', 'low-2']);
    for (const r of await Promise.all([high, low1, low2])) expect(r.code).toBe(0);
  });

  test('release: only the holder; --force displaces and records an Event; --delete is guarded', async () => {
    await koncli('lease', 'acquire', 'stuck', '--holder', 'gone-pod', '--timeout', '0');
    const notMine = await koncli('lease', 'release', 'stuck', '--holder', 'operator', '--json');
    expect(notMine.code).toBe(5);
    const forced = await koncli('lease', 'release', 'stuck', '--holder', 'operator', '--force', '--json');
    expect(forced.code).toBe(0);
    expect(json(forced.stdout)).toMatchObject({ outcome: 'released', previousHolder: 'gone-pod', forced: true });
    const events = await adminConfig().makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns });
    const event = events.items.find((e) => e.involvedObject.name === 'stuck' && e.reason === 'ForceReleased');
    // The Event names the Kubernetes user (SelfSubjectReview: the plane's admin certificate's CN) and the --holder given.
    expect(event?.message).toBe('user koncli-admin as operator force-released the lease from gone-pod (koncli)');
    expect((await readLease('stuck')).spec?.holderIdentity).toBe('');
    const idempotent = await koncli('lease', 'release', 'stuck', '--holder', 'gone-pod', '--json');
    expect(json(idempotent.stdout).outcome).toBe('already-free');

    await koncli('lease', 'acquire', 'stuck', '--holder', 'someone', '--timeout', '0');
    expect((await koncli('lease', 'release', 'stuck', '--holder', 'me', '--delete')).code).toBe(5);
    expect((await readLease('stuck')).spec?.holderIdentity).toBe('someone');
    const deleted = await koncli('lease', 'release', 'stuck', '--holder', 'someone', '--delete', '--json');
    expect(json(deleted.stdout).outcome).toBe('deleted');
    await expect(readLease('stuck')).rejects.toMatchObject({ code: 404 });
  });

  test('status lists leases with koncli status columns (-A adds NAMESPACE), in its LockList document', async () => {
    const table = await koncli('lease', 'status');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+HOLDER\(S\)\s+STATE\s+EXPIRES\s+LAST RENEWED\s+ALIVE\s+WAITERS\s+AGE$/);
    expect(table.stdout).toMatch(/daily-report\s+host-a\s+held\s+in \S+\s+\S+ ago\s+unknown\s+0\s/);
    const all = await runKoncli(['lease', 'status', '-A', '--json', '--kubeconfig', admin]);
    const names = json(all.stdout).items.map((i: { namespace: string; name: string }) => `${i.namespace}/${i.name}`);
    expect(names).toContain(`${ns}/daily-report`);
    const yaml = await koncli('lease', 'status', 'daily-report', '-o', 'yaml');
    expect(yaml.stdout).toMatch(/^name: daily-report$/m);
  });

  test('the restricted user can use leases in its namespace and gets a clear 403 elsewhere', async () => {
    const own = await freshNamespace('lease-rbac');
    await bindRestricted(own);
    const restricted = restrictedKubeconfigPath();
    const as = (namespace: string, ...args: string[]) => runKoncli([...args, ...clusterArgs(restricted, namespace)]);
    expect((await as(own, 'lease', 'acquire', 'r', '--holder', 'me', '--timeout', '0')).code).toBe(0);
    expect((await as(own, 'lease', 'renew', 'r', '--holder', 'me')).code).toBe(0);
    expect((await as(own, 'lease', 'status', 'r', '--json')).code).toBe(0);
    expect((await as(own, 'lease', 'release', 'r', '--holder', 'me')).code).toBe(0);
    const denied = await as(ns, 'lease', 'acquire', 'r', '--holder', 'me', '--timeout', '0', '--json');
    expect(denied.code).toBe(7);
    expect(json(denied.stdout).error.message).toMatch(/cannot get leases.coordination.k8s.io r in namespace .*forbidden/);
  });
});

describe('cluster access and degraded permissions', () => {
  test('KUBECONFIG with several files: the first file to set the current context wins (as kubectl)', async () => {
    const second = join(tmpdir(), `koncli-second-${process.pid}.kubeconfig`);
    writeFileSync(
      second,
      `apiVersion: v1\nkind: Config\nclusters: [{name: elsewhere, cluster: {server: "https://127.0.0.1:9"}}]\nusers: [{name: nobody, user: {token: t}}]\ncontexts: [{name: elsewhere, context: {cluster: elsewhere, user: nobody}}]\ncurrent-context: elsewhere\n`,
    );
    const result = await runKoncli(['lease', 'status', '-n', ns, '--json'], { env: { KUBECONFIG: `${admin}:${second}` } });
    expect(result.code).toBe(0);
    const reversed = await runKoncli(['lease', 'status', '-n', ns, '--request-timeout', '2s'], { env: { KUBECONFIG: `${second}:${admin}` } });
    expect(reversed.code).toBe(8);
  });

  test("status tells whether the holder's Pod is alive, and the command that breaks the lease", async () => {
    await adminConfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedPod({ namespace: ns, body: { metadata: { name: 'worker-0' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
    await koncli('lease', 'acquire', 'pod-held', '--holder', 'worker-0', '--timeout', '0');
    const status = json((await koncli('lease', 'status', 'pod-held', '--json')).stdout);
    expect(status).toMatchObject({
      alive: true,
      aliveReason: 'Pod worker-0 is Pending',
      breakCommand: `koncli lease release pod-held -n ${ns} --force --if-holder worker-0`,
    });
  });

  test('one process opens one connection for all its requests and its watch (-v shows each)', async () => {
    const connections = (stderr: string) => stderr.split('\n').filter((l) => /^koncli: api: connected to 127\.0\.0\.1:\d+ \((h2|http\/1\.1)\)$/.test(l));
    const requests = (stderr: string) => stderr.split('\n').filter((l) => /^koncli: api: (GET|PATCH|POST|PUT|DELETE) /.test(l));
    const acquire = await koncli('lease', 'acquire', 'one-connection', '--holder', 'host-a', '--ttl', '1m', '-v');
    expect(acquire.code).toBe(0);
    expect(requests(acquire.stderr).length).toBeGreaterThanOrEqual(2);
    expect(connections(acquire.stderr)).toHaveLength(1);

    // A waiter: reads, watches, then writes when the holder releases; still one connection.
    const waiter = collect(
      spawnKoncli(['lease', 'acquire', 'one-connection', '--holder', 'host-b', '--wait', '--timeout', '30s', '-v', ...clusterArgs(admin, ns)]),
    );
    await queued('one-connection', 'host-b');
    expect((await koncli('lease', 'release', 'one-connection', '--holder', 'host-a')).code).toBe(0);
    const waited = await waiter;
    expect(waited.code).toBe(0);
    expect((await readLease('one-connection')).spec?.holderIdentity).toBe('host-b');
    expect(requests(waited.stderr).length).toBeGreaterThanOrEqual(3);
    expect(connections(waited.stderr)).toHaveLength(1);
  });

  test('without watch permission, --wait falls back to polling, says so once, and still acquires', async () => {
    const own = await freshNamespace('lease-nowatch');
    await grantRestricted(own, 'no-watch', [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'patch'] }]);
    const restricted = restrictedKubeconfigPath();
    expect((await runKoncli(['lease', 'acquire', 'polled', '--holder', 'first', '--timeout', '0', ...clusterArgs(restricted, own)])).code).toBe(0);
    const waiter = collect(spawnKoncli(['lease', 'acquire', 'polled', '--holder', 'second', '--wait', '--timeout', '30s', ...clusterArgs(restricted, own)]));
    await sleep(1500);
    expect((await runKoncli(['lease', 'release', 'polled', '--holder', 'first', ...clusterArgs(restricted, own)])).code).toBe(0);
    const result = await waiter;
    expect(result.code).toBe(0);
    expect(result.stderr.match(/watch on polled is forbidden/g)).toHaveLength(1);
    expect(result.stderr).toMatch(/polling instead, with backoff/);
  });
});

describe('bad input: one line, documented exit code, nothing changed', () => {
  test.each([
    [['lease', 'acquire', 'Bad_Name', '--holder', 'h'], 2, /lease name "Bad_Name" is invalid/],
    [['lease', 'acquire', 'ok', '--holder', 'h', '--ttl', '10x'], 2, /--ttl "10x" is not a duration/],
    [['lease', 'acquire', 'ok', '--holder', 'h', '--ttl', '-5s'], 2, /negative/],
    [['lease', 'acquire', 'ok', '--holder', 'h', '--timeout', 'soon'], 2, /--timeout "soon" is not a duration/],
    [['lease', 'acquire', 'ok', '--holder', 'h', '--labels', 'bad label'], 2, /--labels/],
    [['lease', 'acquire', 'ok', '--holder', 'h', '--context', 'nope'], 8, /context "nope" is not in/],
    [['lease', 'acquire'], 2, /Missing 1 required arg/],
  ])('%j → exit %d', async (args, code, message) => {
    const result = await runKoncli([...args, '--kubeconfig', admin, '-n', ns]);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });

  test('acquire in a namespace that does not exist: exit 6, one line with the fix', async () => {
    const result = await runKoncli(['lease', 'acquire', 'nowhere', '--holder', 'h', '--kubeconfig', admin, '-n', `${ns}-absent`]);
    expect(result.code).toBe(6);
    expect(result.stderr.trim()).toBe(
      `koncli: error: cannot create leases.coordination.k8s.io nowhere in namespace ${ns}-absent: namespace ${ns}-absent does not exist; create it (kubectl create namespace ${ns}-absent) or pass another -n`,
    );
  });

  test('--json with -o yaml asks for two formats: a usage error (exit 2) as a JSON document, nothing sent', async () => {
    const result = await runKoncli(['lease', 'acquire', 'two-formats', '--holder', 'h', '--json', '-o', 'yaml', '--kubeconfig', admin, '-n', ns]);
    expect(result.code).toBe(2);
    expect(json(result.stdout).error).toMatchObject({ kind: 'usage', message: '--json and -o yaml ask for two output formats; pass one of them' });
    await expect(readLease('two-formats')).rejects.toThrow();
  });

  test('an unreachable server fails within the request timeout (exit 8)', async () => {
    const port = await closedPort();
    const dead = join(tmpdir(), `koncli-dead-${process.pid}.kubeconfig`);
    writeFileSync(
      dead,
      `apiVersion: v1\nkind: Config\nclusters: [{name: dead, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: secret-token-123}}]\ncontexts: [{name: dead, context: {cluster: dead, user: u}}]\ncurrent-context: dead\n`,
    );
    const result = await runKoncli(['lease', 'status', 'x', '--kubeconfig', dead, '--request-timeout', '2s', '-v']);
    expect(result.code).toBe(8);
    expect(result.ms).toBeLessThan(10_000);
    expect(result.stderr).toMatch(new RegExp(`cannot reach the API server at https://127.0.0.1:${port} \\(ECONNREFUSED\\)`));
    expect(result.stderr + result.stdout).not.toContain('secret-token-123');
  });

  test('a Lease with corrupt koncli annotations is reported (exit 9) and left untouched', async () => {
    await leases().createNamespacedLease({
      namespace: ns,
      body: { metadata: { name: 'corrupt', annotations: { 'koncli.dev/renewals': 'many' } }, spec: { holderIdentity: '', leaseDurationSeconds: 10 } },
    });
    const before = (await readLease('corrupt')).metadata?.resourceVersion;
    const result = await koncli('lease', 'acquire', 'corrupt', '--holder', 'h', '--timeout', '0');
    expect(result.code).toBe(9);
    expect(result.stderr).toMatch(/koncli.dev\/renewals/);
    expect((await readLease('corrupt')).metadata?.resourceVersion).toBe(before);
  });
});

describe('stdout closed or full (scripts: `koncli … | head -1`)', () => {
  const shell = (pipeline: string) => runCommand('bash', ['-c', `set -o pipefail; ${pipeline}; echo "rc=$?" >&2`]);
  const cli = (...args: string[]) => [KONCLI_COMMAND, ...args, ...clusterArgs(admin, ns)].join(' ');

  test('a reader that is gone: exit 141 as for SIGPIPE, nothing on stderr, and what the command did is done', async () => {
    const r = await shell(`${cli('lease', 'acquire', 'piped', '--holder', 'host-p', '--json')} | true`);
    expect(r.stderr.trim()).toBe('rc=141');
    expect((await readLease('piped')).spec?.holderIdentity).toBe('host-p');
  });

  test('a full disk: one line naming stdout and the error, exit 1', async () => {
    const r = await shell(`${cli('lease', 'status', 'piped', '--json')} > /dev/full`);
    expect(r.stderr.trim().split('\n')).toEqual([
      'koncli: error: cannot write to stdout (ENOSPC: no space left on device, write); the command ran, only its output is lost',
      'rc=1',
    ]);
  });
});
