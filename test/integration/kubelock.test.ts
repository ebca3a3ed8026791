// `koncli kubelock` against the real API server: giantswarm/kubelock's annotation on ConfigMaps,
// Deployments, custom resources and Namespaces; races of 10 processes (one winner per round, and
// with --wait one holder at a time, checked by an independent watch); a lock in giantswarm's
// format honoured until its TTL passes; RBAC that allows get but not patch; nothing else touched.
import { randomBytes } from 'node:crypto';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { clusterArgs, collect, runKoncli, spawnKoncli, type CliResult } from '../support/cli.js';
import { sleep } from '../support/poll.js';
import { adminConfig, adminKubeconfigPath, freshNamespace, grantRestricted, restrictedKubeconfigPath } from './helpers.js';

const PREFIX = 'kubelock.giantswarm.io/';
/** What giantswarm/kubelock's Go code writes and reads: exactly these keys, ttl in nanoseconds. */
const KUBELOCK_VALUE = /^\{"owner":"[^"]*","createdAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z","ttl":\d+\}$/;

let ns: string;
let admin: string;
const koncli = (...args: string[]) => runKoncli(['kubelock', ...args, ...clusterArgs(admin, ns)], { timeoutMs: 90_000 });
const spawnKubelock = (...args: string[]) => spawnKoncli(['kubelock', ...args, ...clusterArgs(admin, ns)]);
const core = () => adminConfig().makeApiClient(CoreV1Api);
const objects = () => KubernetesObjectApi.makeApiClient(adminConfig());
const json = (r: CliResult) => JSON.parse(r.stdout);
const errorLines = (r: CliResult) => r.stderr.split('\n').filter((l) => l.includes('error:'));

async function read(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubernetesObject> {
  return objects().read({ apiVersion, kind, metadata: { name, namespace } });
}
const lockOf = (obj: KubernetesObject, lock: string) => {
  const value = obj.metadata?.annotations?.[PREFIX + lock];
  return value === undefined ? undefined : (JSON.parse(value) as { owner: string; createdAt: string; ttl: number });
};

/** Sets one annotation as another tool would (here: as giantswarm/kubelock's field manager). */
async function annotate(apiVersion: string, kind: string, name: string, namespace: string | undefined, annotations: Record<string, string | null>) {
  await objects().patch(
    { apiVersion, kind, metadata: { name, namespace, annotations } } as KubernetesObject,
    undefined,
    undefined,
    'kubelock-operator',
    undefined,
    PatchStrategy.MergePatch,
  );
}

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('kubelock');
});

describe('kubelock annotate / status on the real API server', () => {
  test("--holder names the claimant as on every kind; --owner (giantswarm's word) is the same flag; without either, KONCLI_HOLDER", async () => {
    await core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'holder-flag' } } });
    const took = await koncli('annotate', 'cm/holder-flag', '--lock', 'l', '--holder', 'worker-1', '--json');
    expect(took.code).toBe(0);
    expect(json(took)).toMatchObject({ holder: 'worker-1', outcome: 'acquired' });
    expect(lockOf(await read('v1', 'ConfigMap', 'holder-flag', ns), 'l')?.owner).toBe('worker-1');
    const again = await koncli('annotate', 'cm/holder-flag', '--lock', 'l', '--owner', 'worker-1', '--json');
    expect(json(again)).toMatchObject({ holder: 'worker-1', outcome: 'refreshed' });
    const other = await runKoncli(['kubelock', 'annotate', 'cm/holder-flag', '--lock', 'l', '--json', ...clusterArgs(admin, ns)], {
      env: { KONCLI_HOLDER: 'worker-2' },
    });
    expect(other.code).toBe(3);
    expect(json(other).error).toMatchObject({ kind: 'busy' });
    expect(other.stderr).toContain('worker-1');
    const released = await runKoncli(['kubelock', 'annotate', 'cm/holder-flag', '--lock', 'l', '--release', '--json', ...clusterArgs(admin, ns)], {
      env: { KONCLI_HOLDER: 'worker-1' },
    });
    expect(released.code).toBe(0);
    expect(lockOf(await read('v1', 'ConfigMap', 'holder-flag', ns), 'l')).toBeUndefined();
  });

  test('a ConfigMap: acquire, busy for another owner, refresh, status, release rules; nothing else on the object changes', async () => {
    const annotations = { 'example.com/owner': 'team-db', 'example.com/notes': ' spaces, "quotes" and ünïcødé ' };
    await core().createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'cfg', labels: { app: 'db' }, annotations }, data: { 'config.yaml': 'a: 1\n' } },
    });
    const before = await core().readNamespacedConfigMap({ name: 'cfg', namespace: ns });

    const first = await koncli('annotate', 'cm/cfg', '--lock', 'ip-allocation', '--owner', 'operator-v1.2.0', '--json');
    expect(first.code).toBe(0);
    expect(json(first)).toMatchObject({
      object: 'configmaps/cfg',
      namespace: ns,
      lock: 'ip-allocation',
      owner: 'operator-v1.2.0',
      outcome: 'acquired',
      ttlSeconds: 300,
    });
    const held = await core().readNamespacedConfigMap({ name: 'cfg', namespace: ns });
    const value = held.metadata!.annotations![PREFIX + 'ip-allocation'];
    expect(value).toMatch(KUBELOCK_VALUE);
    expect(JSON.parse(value)).toMatchObject({ owner: 'operator-v1.2.0', ttl: 300_000_000_000 });
    // One field manager per lock, owning only that annotation.
    const manager = held.metadata!.managedFields!.find((m) => m.manager === 'koncli-kubelock-ip-allocation');
    expect(manager?.fieldsV1).toEqual({ 'f:metadata': { 'f:annotations': { [`f:${PREFIX}ip-allocation`]: {} } } });

    const busy = await koncli('annotate', 'configmap/cfg', '--lock', 'ip-allocation', '--owner', 'operator-v1.3.0');
    expect(busy.code).toBe(3);
    expect(errorLines(busy)).toEqual([
      expect.stringMatching(
        /lock ip-allocation on configmaps\/cfg in namespace \S+ is held by "operator-v1.2.0" until \S+ \(in \d+s by this machine's clock\) unless renewed; to break it safely: koncli kubelock annotate configmaps\/cfg --lock ip-allocation -n \S+ --release --force --if-holder operator-v1.2.0$/,
      ),
    ]);

    // Another lock on the same object is independent.
    expect((await koncli('annotate', 'configmaps/cfg', '--lock', 'other', '--owner', 'operator-v1.3.0', '--ttl', '1m')).code).toBe(0);

    await sleep(1100);
    const refreshed = await koncli('annotate', 'ConfigMap/cfg', '--lock', 'ip-allocation', '--owner', 'operator-v1.2.0', '--ttl', '2m', '--json');
    expect(refreshed.code).toBe(0);
    expect(json(refreshed)).toMatchObject({ outcome: 'refreshed', previousOwner: 'operator-v1.2.0', ttlSeconds: 120 });
    expect(json(refreshed).createdAt > json(first).createdAt).toBe(true);

    const status = await koncli('status', 'cm/cfg', '--json');
    expect(status.code).toBe(0);
    expect(json(status).locks).toEqual([
      expect.objectContaining({ lock: 'ip-allocation', owner: 'operator-v1.2.0', state: 'held', ttlSeconds: 120, createdAt: json(refreshed).createdAt }),
      expect.objectContaining({ lock: 'other', owner: 'operator-v1.3.0', state: 'held', ttlSeconds: 60 }),
    ]);
    const table = await koncli('status', 'cm/cfg');
    expect(table.stdout).toMatch(/^LOCK\s+OWNER\s+STATE\s+CREATED\s+TTL\s+EXPIRES\s+ALIVE\n/);
    expect(table.stdout).toMatch(/ip-allocation\s+operator-v1\.2\.0\s+held\s+\S+Z\s+2m\s+in \d+\S*\s+unknown \(/);
    expect(table.stdout).toMatch(
      /^Break ip-allocation with: koncli kubelock annotate configmaps\/cfg --lock ip-allocation -n \S+ --release --force --if-holder operator-v1\.2\.0$/m,
    );

    const notMine = await koncli('annotate', 'cm/cfg', '--lock', 'ip-allocation', '--owner', 'operator-v1.3.0', '--release', '--json');
    expect(notMine.code).toBe(5);
    expect(json(notMine).error).toMatchObject({ kind: 'not-held', reason: 'other-owner', owner: 'operator-v1.2.0' });

    for (const lock of ['ip-allocation', 'other']) {
      const owner = lock === 'other' ? 'operator-v1.3.0' : 'operator-v1.2.0';
      const released = await koncli('annotate', 'cm/cfg', '--lock', lock, '--owner', owner, '--release', '--json');
      expect(released.code).toBe(0);
      expect(json(released)).toMatchObject({ outcome: 'released', previousOwner: owner, forced: false });
    }
    const absent = await koncli('annotate', 'cm/cfg', '--lock', 'ip-allocation', '--owner', 'operator-v1.2.0', '--release', '--json');
    expect(absent.code).toBe(0); // one's own release of a lock already gone is idempotent (issue 22)
    expect(json(absent)).toMatchObject({ outcome: 'already-free', previousOwner: null });

    const after = await core().readNamespacedConfigMap({ name: 'cfg', namespace: ns });
    expect(after.metadata!.annotations).toEqual(before.metadata!.annotations);
    expect(after.metadata!.labels).toEqual(before.metadata!.labels);
    expect(after.data).toEqual(before.data);
    expect(after.metadata!.uid).toBe(before.metadata!.uid);
  });

  test('a Deployment, by short name, kind and group-qualified plural; --force records an Event', async () => {
    await adminConfig()
      .makeApiClient(AppsV1Api)
      .createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name: 'web', labels: { app: 'web' } },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'web' } },
            template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
          },
        },
      });
    const got = await koncli('annotate', 'deploy/web', '--lock', 'rollout', '--owner', 'ci-1', '--json');
    expect(got.code).toBe(0);
    expect(json(got)).toMatchObject({ object: 'deployments.apps/web', outcome: 'acquired' });
    expect(lockOf(await read('apps/v1', 'Deployment', 'web', ns), 'rollout')).toMatchObject({ owner: 'ci-1' });
    expect((await koncli('annotate', 'Deployment/web', '--lock', 'rollout', '--owner', 'ci-2')).code).toBe(3);
    expect((await koncli('annotate', 'deployments.apps/web', '--lock', 'rollout', '--owner', 'ci-2', '--release')).code).toBe(5);

    const forced = await koncli('annotate', 'deployments.v1.apps/web', '--lock', 'rollout', '--owner', 'oncall', '--release', '--force', '--json');
    expect(forced.code).toBe(0);
    expect(json(forced)).toMatchObject({ forced: true, previousOwner: 'ci-1' });
    expect(lockOf(await read('apps/v1', 'Deployment', 'web', ns), 'rollout')).toBeUndefined();
    const events = await core().listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=web,reason=KubelockForceReleased' });
    expect(events.items).toHaveLength(1);
    expect(events.items[0]).toMatchObject({
      involvedObject: { kind: 'Deployment', apiVersion: 'apps/v1', name: 'web' },
      message: 'user koncli-admin as oncall force-released kubelock rollout held by ci-1 (koncli)',
    });
  });

  test("a custom resource, by its CRD's kind, plural and short name", async () => {
    const suffix = randomBytes(4)
      .toString('hex')
      .replace(/\d/g, (d) => 'ghijklmnop'[Number(d)]);
    const group = `kl${suffix}.koncli.test`;
    const kind = `Gadget${suffix[0].toUpperCase()}${suffix.slice(1)}`;
    const plural = `gadget${suffix}s`;
    const short = `gd${suffix}`;
    const ext = adminConfig().makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: `${plural}.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { kind, plural, singular: `gadget${suffix}`, shortNames: [short] },
          versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
        },
      },
    });
    for (let i = 0; ; i++) {
      const crd = await ext.readCustomResourceDefinition({ name: `${plural}.${group}` });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (i > 100) throw new Error('CRD not Established after 10 s');
      await sleep(100);
    }
    await adminConfig()
      .makeApiClient(CustomObjectsApi)
      .createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace: ns,
        plural,
        body: { apiVersion: `${group}/v1`, kind, metadata: { name: 'g1', annotations: { keep: 'me' } }, spec: { size: 3 } },
      });
    const got = await koncli('annotate', `${kind}/g1`, '--lock', 'resize', '--owner', 'op-a', '--json');
    expect(got.code).toBe(0);
    expect(json(got)).toMatchObject({ object: `${plural}.${group}/g1`, namespace: ns, outcome: 'acquired' });
    expect((await koncli('annotate', `${short}/g1`, '--lock', 'resize', '--owner', 'op-b')).code).toBe(3);
    const status = await koncli('status', `${plural}.${group}/g1`, '--json');
    expect(json(status)).toMatchObject({
      kind: 'kubelock',
      objectKind: kind,
      apiVersion: `${group}/v1`,
      locks: [expect.objectContaining({ lock: 'resize', owner: 'op-a', state: 'held' })],
    });
    expect((await koncli('annotate', `${plural}/g1`, '--lock', 'resize', '--owner', 'op-a', '--release')).code).toBe(0);
    const after = (await read(`${group}/v1`, kind, 'g1', ns)) as KubernetesObject & { spec?: unknown };
    expect(after.metadata?.annotations).toEqual({ keep: 'me' });
    expect(after.spec).toEqual({ size: 3 });
  });

  test('a Namespace (cluster-scoped), as ns/NAME and namespace/NAME', async () => {
    const target = await freshNamespace('kubelock-target');
    const got = await koncli('annotate', `ns/${target}`, '--lock', 'quota', '--owner', 'team-a', '--json');
    expect(got.code).toBe(0);
    expect(json(got)).toMatchObject({ object: `namespaces/${target}`, namespace: null, outcome: 'acquired' });
    expect(lockOf(await read('v1', 'Namespace', target), 'quota')).toMatchObject({ owner: 'team-a' });
    const busy = await koncli('annotate', `namespace/${target}`, '--lock', 'quota', '--owner', 'team-b');
    expect(busy.code).toBe(3);
    expect(errorLines(busy)[0]).toContain(`lock quota on namespaces/${target} is held by "team-a"`);
    expect((await koncli('annotate', `Namespace/${target}`, '--lock', 'quota', '--owner', 'team-a', '--release')).code).toBe(0);
    expect(lockOf(await read('v1', 'Namespace', target), 'quota')).toBeUndefined();
  });

  test('an unknown TYPE exits 6 naming it and suggesting kubectl api-resources; a missing object exits 6', async () => {
    const unknown = await koncli('annotate', 'widgets/x', '--lock', 'l', '--owner', 'o');
    expect(unknown.code).toBe(6);
    expect(errorLines(unknown)).toEqual([expect.stringContaining(`the server doesn't have a resource type "widgets"; run "kubectl api-resources"`)]);
    const missing = await koncli('annotate', 'cm/nope', '--lock', 'l', '--owner', 'o');
    expect(missing.code).toBe(6);
    expect(errorLines(missing)[0]).toContain('configmaps/nope');
  });

  test('10 processes race for one lock: exactly one wins each round', async () => {
    await core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'race' } } });
    for (let round = 0; round < 3; round++) {
      const owners = Array.from({ length: 10 }, (_, i) => `r${round}-p${i}`);
      const results = await Promise.all(owners.map((o) => collect(spawnKubelock('annotate', 'cm/race', '--lock', 'leader', '--owner', o, '--json'))));
      const winners = owners.filter((_, i) => results[i].code === 0);
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => r.code === 3)).toHaveLength(9);
      expect(lockOf(await read('v1', 'ConfigMap', 'race', ns), 'leader')?.owner).toBe(winners[0]);
      expect((await koncli('annotate', 'cm/race', '--lock', 'leader', '--owner', winners[0], '--release')).code).toBe(0);
    }
  }, 120_000);

  test('with --wait, 10 processes all get the lock, one at a time (checked by an independent watch)', async () => {
    await core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'queue' } } });
    const seen: (string | null)[] = [];
    const watch = await new Watch(adminConfig()).watch(
      `/api/v1/namespaces/${ns}/configmaps`,
      { fieldSelector: 'metadata.name=queue' },
      (_type, obj: KubernetesObject) => {
        const owner = lockOf(obj, 'deploy')?.owner ?? null;
        if (seen.at(-1) !== owner) seen.push(owner);
      },
      () => {},
    );
    await sleep(300);
    const owners = Array.from({ length: 10 }, (_, i) => `w${i}`);
    const holds: { owner: string; from: number; to: number }[] = [];
    const runs = owners.map(async (owner) => {
      const result = await collect(
        spawnKubelock('annotate', 'cm/queue', '--lock', 'deploy', '--owner', owner, '--ttl', '60s', '--wait', '--timeout', '100s', '--json'),
      );
      const from = Date.now();
      expect(result.code).toBe(0);
      await sleep(200); // hold it a little
      const to = Date.now();
      const released = await koncli('annotate', 'cm/queue', '--lock', 'deploy', '--owner', owner, '--release');
      expect(released.code).toBe(0);
      holds.push({ owner, from, to });
    });
    await Promise.all(runs);
    await sleep(300);
    watch.abort();

    expect(holds.map((h) => h.owner).sort()).toEqual(owners);
    // Never two at once: each owner's hold (as this test saw it) ends before the next begins...
    const byStart = [...holds].sort((a, b) => a.from - b.from);
    for (let i = 1; i < byStart.length; i++) expect(byStart[i].from).toBeGreaterThan(byStart[i - 1].to);
    // ...and on the object, the lock only ever passed from an owner to nobody and back.
    const held = seen.filter((o): o is string => o !== null);
    expect(held.sort()).toEqual(owners);
    for (let i = 1; i < seen.length; i++) if (seen[i] !== null) expect(seen[i - 1]).toBeNull();
  }, 150_000);

  test("a lock written in giantswarm's format is honoured until its TTL (3 s, nanoseconds) passes, then taken over; createdAt is not trusted", async () => {
    for (const [name, skewMs] of [
      ['gs-past', -3_600_000],
      ['gs-future', 3_600_000],
    ] as const) {
      // With data, so the server stamps the annotation's write (managedFields): a createdAt an hour in
      // the past is then contradicted by the server's write time (docs/clock.md rule 3).
      await core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { a: '1' } } });
      // createdAt an hour off: by its own createdAt the lock is long expired (or not for an hour).
      const createdAt = new Date(Date.now() + skewMs).toISOString().replace(/\.(\d{3})Z$/, '.$1456789Z');
      const value = `{"owner":"operator-v1.2.0","createdAt":"${createdAt}","ttl":3000000000}`;
      await annotate('v1', 'ConfigMap', name, ns, { [PREFIX + 'ip-allocation']: value });
      const writtenAt = Date.now();

      const busy = await koncli('annotate', `cm/${name}`, '--lock', 'ip-allocation', '--owner', 'koncli-1', '--json');
      expect(busy.code).toBe(3);
      expect(json(busy).error).toMatchObject({ kind: 'busy', owner: 'operator-v1.2.0' });
      const status = await koncli('status', `cm/${name}`, '--json');
      expect(json(status).locks).toEqual([expect.objectContaining({ owner: 'operator-v1.2.0', createdAt, ttlSeconds: 3 })]);

      const taken = await koncli('annotate', `cm/${name}`, '--lock', 'ip-allocation', '--owner', 'koncli-1', '--wait', '--timeout', '30s', '--json', '-v');
      expect(taken.code).toBe(0);
      expect(Date.now() - writtenAt).toBeGreaterThanOrEqual(3000);
      expect(json(taken)).toMatchObject({ outcome: 'acquired', previousOwner: 'operator-v1.2.0' });
      // Waiting is a watch plus a timer: one read of the object, no poll loop.
      expect(taken.stderr.match(new RegExp(`GET /api/v1/namespaces/${ns}/configmaps/${name}\\n`, 'g'))).toHaveLength(1);
      expect(lockOf(await read('v1', 'ConfigMap', name, ns), 'ip-allocation')?.owner).toBe('koncli-1');
    }
  }, 90_000);

  test("a giantswarm lock whose TTL passed before koncli first looked is free at once: the server's write time counts, not first sight", async () => {
    // With data, so the API server tracks managedFields (it never starts for an object created with none).
    await core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'gs-old' }, data: { a: '1' } } });
    const value = `{"owner":"operator-v1.2.0","createdAt":"${new Date().toISOString()}","ttl":2000000000}`;
    await annotate('v1', 'ConfigMap', 'gs-old', ns, { [PREFIX + 'ip-allocation']: value });
    const written = await core().readNamespacedConfigMap({ name: 'gs-old', namespace: ns });
    expect(written.metadata!.managedFields!.map((m) => m.manager)).toContain('kubelock-operator');
    await sleep(4_000); // 2 s TTL, + 1 s for managedFields' whole seconds (and the 1 s allowed skew for createdAt), + margin
    const taken = await koncli('annotate', 'cm/gs-old', '--lock', 'ip-allocation', '--owner', 'koncli-1', '--json', '--max-clock-skew', '1s');
    expect(taken.code).toBe(0);
    expect(json(taken)).toMatchObject({ outcome: 'acquired', previousOwner: 'operator-v1.2.0' });
  });

  test('a user who may get but not patch the object: exit 7 naming verb and resource, and the object is unchanged', async () => {
    const rns = await freshNamespace('kubelock-rbac');
    await core().createNamespacedConfigMap({ namespace: rns, body: { metadata: { name: 'ro', annotations: { keep: 'me' } } } });
    await grantRestricted(rns, 'read-only', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }]);
    const asRestricted = (...args: string[]) => runKoncli(['kubelock', ...args, ...clusterArgs(restrictedKubeconfigPath(), rns)]);
    const before = await core().readNamespacedConfigMap({ name: 'ro', namespace: rns });

    const denied = await asRestricted('annotate', 'cm/ro', '--lock', 'l', '--owner', 'me');
    expect(denied.code).toBe(7);
    expect(errorLines(denied)).toEqual([expect.stringContaining(`cannot patch configmaps ro in namespace ${rns}: forbidden`)]);
    const deniedJson = await asRestricted('annotate', 'cm/ro', '--lock', 'l', '--owner', 'me', '--json');
    expect(json(deniedJson).error).toMatchObject({ kind: 'forbidden', verb: 'patch', resource: 'configmaps', exitCode: 7 });

    // Where it may not even get: the read fails the same way, before any write.
    const noGet = await runKoncli(['kubelock', 'annotate', 'cm/cfg', '--lock', 'l', '--owner', 'me', ...clusterArgs(restrictedKubeconfigPath(), ns)]);
    expect(noGet.code).toBe(7);
    expect(errorLines(noGet)).toEqual([expect.stringContaining(`cannot get configmaps cfg in namespace ${ns}: forbidden`)]);

    const after = await core().readNamespacedConfigMap({ name: 'ro', namespace: rns });
    expect(after.metadata!.resourceVersion).toBe(before.metadata!.resourceVersion);
    expect(after.metadata!.annotations).toEqual({ keep: 'me' });
  });
});
