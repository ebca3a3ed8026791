// `koncli semaphore … --kind konductor` on the real API server through the real CLI: konductor.io/v1
// Semaphores and Permits from `koncli crd install`, without konductor's operator. The holders are
// recorded on the Semaphore (status.claims, resourceVersion-guarded); each holder gets a Permit as
// konductor's readable mirror; Permits other clients made (konductor's own koncli, kubectl apply of
// konductor's config/samples/semaphore_sample.yaml) are counted and never overwritten; 20 concurrent
// acquirers never exceed spec.permits (seen by an independent watch); bad input and corrupt data
// are refused with nothing changed.
import { CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterArgs, collect, runKoncli, spawnKoncli } from '../support/cli.js';
import { sleep, until } from '../support/poll.js';
import { kubectlPath, runCommand } from '../support/access.js';
import { History } from '../reliability/support.js';
import { readFileSync } from 'node:fs';
import { adminConfig, adminKubeconfigPath, freshNamespace, RESTRICTED_USER, restrictedKubeconfigPath } from './helpers.js';

let ns: string;
let admin: string;
const K = ['--kind', 'konductor'];
const koncli = (...args: string[]) => runKoncli([...args, ...K, ...clusterArgs(admin, ns)], { timeoutMs: 120_000 });
const json = (stdout: string) => JSON.parse(stdout) as Record<string, any>;
const kubectl = (args: string[], input?: string) => runCommand(kubectlPath(), ['--kubeconfig', admin, '-n', ns, ...args], { input });
const custom = () => adminConfig().makeApiClient(CustomObjectsApi);
type Semaphore = KubernetesObject & { spec: { permits: number; ttl?: string }; status?: Record<string, any> };
const get = (plural: string, name: string) =>
  custom().getNamespacedCustomObject({ group: 'konductor.io', version: 'v1', plural, namespace: ns, name }) as Promise<Semaphore>;
const permits = async () =>
  ((await custom().listNamespacedCustomObject({ group: 'konductor.io', version: 'v1', plural: 'permits', namespace: ns })) as { items: Semaphore[] }).items;
const holdersOf = (s: Semaphore) => ((s.status?.claims ?? []) as { holder: string }[]).map((c) => c.holder);

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('semkkind');
  const install = await runKoncli(['crd', 'install', '--json', '--kubeconfig', admin]);
  expect(install.code).toBe(0);
  const items = json(install.stdout).items as { name: string; established: boolean }[];
  expect(items.filter((i) => /^(semaphores|permits)\./.test(i.name)).map((i) => [i.name, i.established])).toEqual([
    ['semaphores.konductor.io', true],
    ['permits.konductor.io', true],
  ]);
}, 120_000);

describe("konductor's semaphore verbs on konductor.io/v1 Semaphores (docs/cli/semaphore.md)", () => {
  test('create --permits --ttl, acquire ×2 then busy (exit 3), status, list, release, delete; Permits mirror the holders', async () => {
    expect((await koncli('semaphore', 'create', 'api-limit', '--permits', '2', '--ttl', '5m')).code).toBe(0);
    expect((await get('semaphores', 'api-limit')).spec).toEqual({ permits: 2, ttl: '5m' });
    expect((await koncli('semaphore', 'create', 'api-limit', '--permits', '2')).code).toBe(0); // exists, same settings

    const mine = await koncli('semaphore', 'acquire', 'api-limit', '--holder', 'my-app', '--json');
    expect(mine.code).toBe(0);
    expect(json(mine.stdout)).toMatchObject({ kind: 'semaphore', outcome: 'acquired', holder: 'my-app', max: 2, ttlSeconds: 300, state: 'held' });
    expect((await koncli('semaphore', 'acquire', 'api-limit', '--holder', 'other', '--ttl', '10m')).code).toBe(0);
    const full = await koncli('semaphore', 'acquire', 'api-limit', '--holder', 'third');
    expect([full.code, full.stderr.trim().split('\n').length]).toEqual([3, 1]);
    expect(full.stderr).toMatch(/no free permit \(2\/2 in use\): held by my-app .*other/);
    // The break command names the same storage: without --kind konductor it would act on a ConfigMap of that name.
    expect(full.stderr).toMatch(/to break it safely: koncli semaphore unlock api-limit -n \S+ --kind konductor --force --if-holder my-app --if-holder other$/m);
    expect((await koncli('semaphore', 'acquire', 'api-limit', '--holder', 'third', '--wait', '--timeout', '1s')).code).toBe(3);

    const sem = await get('semaphores', 'api-limit');
    expect(holdersOf(sem)).toEqual(['my-app', 'other']);
    expect(sem.status).toMatchObject({ inUse: 2, available: 0, phase: 'Full', holders: ['my-app', 'other'] });
    const mirrors = (await permits()).map((p) => [p.metadata!.name, (p.spec as any).holder, p.status?.phase, p.metadata!.labels!.semaphore]);
    expect(mirrors.sort()).toEqual([
      ['api-limit-my-app', 'my-app', 'Granted', 'api-limit'],
      ['api-limit-other', 'other', 'Granted', 'api-limit'],
    ]);

    const status = json((await koncli('semaphore', 'status', 'api-limit', '-o', 'json')).stdout);
    expect(status).toMatchObject({ kind: 'semaphore', storage: 'konductor', permits: 2, inUse: 2, free: 0, state: 'held' });
    expect(status.holders.map((h: any) => [h.holder, h.state, h.source, h.ttlSeconds])).toEqual([
      ['my-app', 'held', 'koncli', 300],
      ['other', 'held', 'koncli', 600],
    ]);
    expect((await koncli('semaphore', 'list')).stdout).toMatch(/^api-limit\s+held\s+2\/2\s+my-app,other$/m);

    expect((await koncli('semaphore', 'delete', 'api-limit')).code).toBe(3); // permits in use
    const released = await koncli('semaphore', 'release', 'api-limit', '--holder', 'my-app', '--json');
    expect(json(released.stdout)).toMatchObject({ outcome: 'unlocked', removed: ['my-app'], holders: ['other'] });
    expect(json((await koncli('semaphore', 'release', 'api-limit', '--holder', 'my-app', '--json')).stdout).outcome).toBe('already-free');
    expect((await permits()).map((p) => p.metadata!.name)).toEqual(['api-limit-other']);
    expect((await koncli('semaphore', 'acquire', 'api-limit', '--holder', 'third')).code).toBe(0);

    const forced = await koncli('semaphore', 'unlock', 'api-limit', '--force', '--if-holder', 'other', '--if-holder', 'third', '--json');
    expect(json(forced.stdout)).toMatchObject({ outcome: 'unlocked', forced: true, holders: [] });
    expect((await koncli('semaphore', 'delete', 'api-limit')).code).toBe(0);
    expect(await permits()).toEqual([]);
    expect((await koncli('semaphore', 'acquire', 'api-limit')).code).toBe(6); // acquire needs an existing semaphore
  });

  test('20 concurrent acquirers on 3 permits: an independent watch never sees more than 3 holders, and all 20 get one', async () => {
    const name = 'crowd';
    expect((await koncli('semaphore', 'create', name, '--permits', '3')).code).toBe(0);
    const history = await History.start<Semaphore>(`/apis/konductor.io/v1/namespaces/${ns}/semaphores`, name);
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `worker-${i}`);
      const results = await Promise.all(
        ids.map(async (id) => {
          const acquire = await koncli('semaphore', 'acquire', name, '--holder', id, '--ttl', '2m', '--wait', '--timeout', '100s', '--json');
          if (acquire.code !== 0) return { id, acquire, release: undefined };
          await sleep(300);
          return { id, acquire, release: await koncli('semaphore', 'release', name, '--holder', id) };
        }),
      );
      for (const r of results) {
        expect({ id: r.id, code: r.acquire.code, stderr: r.acquire.code ? r.acquire.stderr : '' }).toEqual({ id: r.id, code: 0, stderr: '' });
        expect(r.release?.code).toBe(0);
      }
      const final = await get('semaphores', name);
      await history.caughtUp(final.metadata!.resourceVersion!);
      const seen = history.versions.filter((v) => v.type === 'MODIFIED').map((v) => holdersOf(v.object));
      expect(seen.length).toBe(40); // one guarded write per acquire and per release, every one seen
      expect(Math.max(...seen.map((h) => h.length))).toBe(3);
      expect([...new Set(seen.flat())].sort()).toEqual([...ids].sort());
      expect(holdersOf(final)).toEqual([]);
      expect(await permits()).toEqual([]); // every mirror went with its release
    } finally {
      history.stop();
    }
  }, 180_000);
});

describe("semaphore run --kind konductor (the claim engine's run path)", () => {
  test('6 concurrent runs on 2 permits: never more than 2 commands at once; a permit broken by --force stops its command (exit 4)', async () => {
    expect((await koncli('semaphore', 'create', 'runs', '--permits', '2')).code).toBe(0);
    const dir = await mkdtemp(join(tmpdir(), 'ksem-'));
    const log = join(dir, 'log');
    const script = `echo "start $KONCLI_HOLDER" >> ${log}; sleep 0.4; echo "end $KONCLI_HOLDER" >> ${log}`;
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        runKoncli(['semaphore', 'run', 'runs', '--holder', `r${i}`, '--wait', '--timeout', '100s', ...K, ...clusterArgs(admin, ns), '--', 'sh', '-c', script], {
          timeoutMs: 120_000,
        }),
      ),
    );
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    let running = 0;
    let most = 0;
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    for (const line of lines) {
      running += line.startsWith('start') ? 1 : -1;
      most = Math.max(most, running);
    }
    expect([lines.length, running]).toEqual([12, 0]);
    expect(most).toBeLessThanOrEqual(2);
    expect(holdersOf(await get('semaphores', 'runs'))).toEqual([]);

    const held = spawnKoncli(['semaphore', 'run', 'runs', '--holder', 'victim', '--ttl', '6s', ...K, ...clusterArgs(admin, ns), '--', 'sleep', '60']);
    const done = collect(held);
    await until('victim holds a permit', async () => holdersOf(await get('semaphores', 'runs')).includes('victim'), 60_000);
    expect((await koncli('semaphore', 'unlock', 'runs', '--force', '--if-holder', 'victim')).code).toBe(0);
    const lost = await done;
    expect(lost.code).toBe(4);
    expect(lost.stderr).toMatch(/permit of victim was removed from semaphore runs/);
  }, 180_000);
});

describe("objects applied from konductor's config/samples/semaphore_sample.yaml", () => {
  // The sample as konductor ships it (its extra spec fields are not in the API types: the CRD drops them).
  const SAMPLE = `apiVersion: konductor.io/v1
kind: Semaphore
metadata:
  name: api-quota
spec:
  permits: 5
  ttl: 10m
---
apiVersion: konductor.io/v1
kind: Permit
metadata:
  name: api-quota-permit-1
  labels:
    semaphore: api-quota
spec:
  semaphore: api-quota
  holder: job-worker-123
  ttl: 10m
`;

  test("a Permit made by another client counts against spec.permits, is never overwritten, and its holder's release deletes it", async () => {
    const applied = await kubectl(['apply', '-f', '-'], SAMPLE);
    expect(applied.code).toBe(0);
    const status = json((await koncli('semaphore', 'status', 'api-quota', '--json')).stdout);
    expect(status).toMatchObject({ permits: 5, inUse: 1, ttlSeconds: 600 });
    expect(status.holders).toEqual([
      expect.objectContaining({ holder: 'job-worker-123', state: 'held', source: 'permit', permit: 'api-quota-permit-1', ttlSeconds: 600 }),
    ]);
    for (const id of ['w1', 'w2', 'w3', 'w4']) expect((await koncli('semaphore', 'acquire', 'api-quota', '--holder', id)).code).toBe(0);
    const full = await koncli('semaphore', 'acquire', 'api-quota', '--holder', 'w5');
    expect(full.code).toBe(3);
    expect(full.stderr).toMatch(/5\/5 in use.*job-worker-123/);
    const foreign = await get('permits', 'api-quota-permit-1');
    expect(foreign.status ?? {}).toEqual({}); // koncli wrote nothing to it
    expect((await get('semaphores', 'api-quota')).status).toMatchObject({ inUse: 5, available: 0, phase: 'Full' });
    // koncli status lists it (KIND konductor-semaphore) with the foreign Permit's holder among its holders.
    const listed = json((await runKoncli(['status', '-o', 'json', ...clusterArgs(admin, ns)])).stdout).items as {
      kind: string;
      name: string;
      holders: { holder: string }[];
    }[];
    const row = listed.find((r) => r.kind === 'konductor-semaphore' && r.name === 'api-quota');
    expect(row?.holders.map((h) => h.holder).sort()).toEqual(['job-worker-123', 'w1', 'w2', 'w3', 'w4']);

    // konductor's `semaphore release --holder job-worker-123` deletes that holder's Permit: so does koncli's.
    const released = await koncli('semaphore', 'release', 'api-quota', '--holder', 'job-worker-123', '--json');
    expect(json(released.stdout)).toMatchObject({ outcome: 'unlocked', removed: ['job-worker-123'] });
    expect((await permits()).map((p) => p.metadata!.name)).not.toContain('api-quota-permit-1');
    expect((await koncli('semaphore', 'acquire', 'api-quota', '--holder', 'w5')).code).toBe(0);

    // A waiter follows the Permits too: one deleted by someone else (konductor's release) frees its permit.
    expect((await koncli('semaphore', 'release', 'api-quota', '--holder', 'w5')).code).toBe(0);
    const second = SAMPLE.split('---\n')[1]
      .replace(/permit-1/, 'permit-2')
      .replace(/job-worker-123/, 'job-worker-456');
    expect((await kubectl(['apply', '-f', '-'], second)).code).toBe(0);
    const waiter = koncli('semaphore', 'acquire', 'api-quota', '--holder', 'w6', '--wait', '--timeout', '60s', '--json');
    await sleep(2000);
    expect((await kubectl(['delete', 'permits.konductor.io', 'api-quota-permit-2'])).code).toBe(0);
    const waited = await waiter;
    expect(waited.code).toBe(0);
    expect(json(waited.stdout).waitedMs).toBeLessThan(30_000); // not the check read after silence: the Permit watch
  });
});

describe('bad input and foreign data: refused, nothing changed', () => {
  test('usage errors (exit 2) and a missing semaphore (exit 6) send no write', async () => {
    expect((await koncli('semaphore', 'create', 'bad', '--permits', '0')).code).toBe(2);
    expect((await runKoncli(['semaphore', 'create', 'bad', '--kind', 'bogus', ...clusterArgs(admin, ns)])).code).toBe(2);
    expect((await koncli('semaphore', 'create', 'pair', '--permits', '2')).code).toBe(0);
    const before = (await get('semaphores', 'pair')).metadata!.resourceVersion;
    const other = await koncli('semaphore', 'create', 'pair', '--permits', '3');
    expect([other.code, other.stderr.trim().split('\n').length]).toEqual([2, 1]);
    expect(other.stderr).toMatch(/already exists with 2 permits/);
    expect((await koncli('semaphore', 'lock', 'pair', '--holder', 'x', '--max', '3')).code).toBe(2);
    expect((await koncli('semaphore', 'lock', 'pair', '--holder', 'x', '--max', '3', '--set-max')).code).toBe(2);
    expect((await get('semaphores', 'pair')).metadata!.resourceVersion).toBe(before);
    expect((await koncli('semaphore', 'acquire', 'nowhere', '--holder', 'x')).code).toBe(6);
    expect((await koncli('semaphore', 'unlock', 'nowhere', '--force', '--if-holder', 'x')).code).toBe(6);
    expect((await koncli('semaphore', 'unlock', 'pair', '--force', '--if-holder', 'ghost')).code).toBe(5);
  });

  test('corrupt koncli claims on the Semaphore and a corrupt foreign Permit: exit 9, one line naming the fix, nothing written', async () => {
    expect((await koncli('semaphore', 'create', 'broken', '--permits', '2')).code).toBe(0);
    const patched = await kubectl(['patch', 'semaphores.konductor.io', 'broken', '--subresource=status', '--type=merge', '-p', '{"status":{"claims":"me"}}']);
    expect(patched.code).toBe(0);
    const rv = (await get('semaphores', 'broken')).metadata!.resourceVersion;
    const refused = await koncli('semaphore', 'acquire', 'broken', '--holder', 'x');
    expect([refused.code, refused.stderr.trim().split('\n').length]).toEqual([9, 1]);
    expect(refused.stderr).toMatch(/status\.claims is "me".*kubectl patch semaphores\.konductor\.io broken/);
    expect((await koncli('semaphore', 'delete', 'broken')).code).toBe(9);
    expect((await get('semaphores', 'broken')).metadata!.resourceVersion).toBe(rv);
    expect(await permits().then((ps) => ps.filter((p) => (p.spec as any).semaphore === 'broken'))).toEqual([]);

    expect((await koncli('semaphore', 'create', 'odd', '--permits', '2')).code).toBe(0);
    const permit = {
      apiVersion: 'konductor.io/v1',
      kind: 'Permit',
      metadata: { name: 'odd-p', labels: { semaphore: 'odd' } },
      spec: { semaphore: 'odd', holder: 'h' },
    };
    expect((await kubectl(['apply', '-f', '-'], JSON.stringify(permit))).code).toBe(0);
    expect(
      (await kubectl(['patch', 'permits.konductor.io', 'odd-p', '--subresource=status', '--type=merge', '-p', '{"status":{"acquiredAt":"yesterday"}}'])).code,
    ).toBe(0);
    const oddRv = (await get('semaphores', 'odd')).metadata!.resourceVersion;
    const odd = await koncli('semaphore', 'acquire', 'odd', '--holder', 'x');
    expect([odd.code, odd.stderr.trim().split('\n').length]).toEqual([9, 1]);
    expect(odd.stderr).toMatch(/Permit .*odd-p: status\.acquiredAt is "yesterday"/);
    expect((await get('semaphores', 'odd')).metadata!.resourceVersion).toBe(oddRv);
    expect((await get('permits', 'odd-p')).status).toEqual({ acquiredAt: 'yesterday' });
  });
});

describe('with only docs/rbac/konductor-role.yaml', () => {
  test('the restricted user creates, acquires, waits, releases, lists, force-unlocks and deletes, mirrors included, without a warning', async () => {
    const own = await freshNamespace('semkkind-rbac');
    const role = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'rbac', 'konductor-role.yaml'), 'utf8')
      .replace(/^(\s*namespace:\s*)koncli\s*$/gm, `$1${own}`)
      .replace(
        /- kind: ServiceAccount\n\s+name: koncli\n\s+namespace: \S+/,
        `- kind: User\n    apiGroup: rbac.authorization.k8s.io\n    name: ${RESTRICTED_USER}`,
      );
    expect((await runCommand(kubectlPath(), ['--kubeconfig', admin, 'apply', '-f', '-'], { input: role })).code).toBe(0);
    const canI = () =>
      runCommand(kubectlPath(), ['--kubeconfig', admin, '-n', own, 'auth', 'can-i', 'delete', 'permits.konductor.io', '--as', RESTRICTED_USER]);
    await until('the Role took effect', async () => (await canI()).stdout.trim() === 'yes', 20_000);
    const as = (...args: string[]) => runKoncli([...args, ...K, ...clusterArgs(restrictedKubeconfigPath(), own)], { timeoutMs: 120_000 });
    const clean = async (pending: Promise<{ code: number | null; stderr: string }>, code = 0) => {
      const r = await pending;
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: '' });
    };
    await clean(as('semaphore', 'create', 'pool', '--permits', '1'));
    await clean(as('semaphore', 'acquire', 'pool', '--holder', 'a'));
    const waiter = as('semaphore', 'acquire', 'pool', '--holder', 'b', '--wait', '--timeout', '60s');
    await sleep(1500);
    await clean(as('semaphore', 'release', 'pool', '--holder', 'a'));
    await clean(waiter);
    await clean(as('semaphore', 'list'));
    await clean(as('semaphore', 'status', 'pool'));
    await clean(as('semaphore', 'unlock', 'pool', '--force', '--if-holder', 'b'));
    await clean(as('semaphore', 'delete', 'pool'));
  }, 120_000);
});
