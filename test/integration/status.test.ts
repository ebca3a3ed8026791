// The 3 a.m. operator (issue 23), against the real API server through the real CLI: stuck locks of
// every kind (Leases, konductor Leases, semaphores, kubelock annotations, koncli's mutex) placed
// across two namespaces, next to live ones (a client-go leader whose Pod runs in another namespace
// than its Lease among them); one `koncli status -A --stuck` must list
// exactly the stuck ones with the right ALIVE verdict (a client-go leader's Pod, a hostNetwork
// holder's Node, a deleted Pod, a non-Pod identity), and each breaks with the one command koncli
// printed. Pods and Nodes are real objects whose status is written through the status subresource
// (this plane runs no scheduler or kubelet), as a kubelet would write it.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { AppsV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { kubectlPath, runCommand } from '../support/access.js';
import { KONCLI_COMMAND, runKoncli, type CliResult } from '../support/cli.js';
import { sleep, until } from '../support/poll.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

let admin: string;
let nsA: string;
let nsB: string;
const core = () => adminConfig().makeApiClient(CoreV1Api);
const koncli = (args: string[]) => runKoncli([...args, '--kubeconfig', admin], { timeoutMs: 90_000 });
const json = (r: CliResult) => JSON.parse(r.stdout) as { items: Row[] };

interface Row {
  kind: string;
  namespace: string | null;
  name: string;
  object?: string;
  holder?: string;
  holders: { holder: string; state: string; alive: boolean | null; aliveReason: string }[];
  state: string;
  expiresAt: string | null;
  alive: boolean | null;
  aliveReason: string | null;
  stuck: boolean;
  breakCommand: string | null;
}

/** A Pod named by the server (generateName, as a ReplicaSet's), in `phase` as a kubelet would report it. */
async function pod(namespace: string, prefix: string, phase: string, spec: Partial<V1Pod['spec']> = {}): Promise<string> {
  const created = await core().createNamespacedPod({
    namespace,
    body: { metadata: { generateName: prefix }, spec: { containers: [{ name: 'main', image: 'busybox' }], ...spec } },
  });
  const name = created.metadata!.name!;
  await core().patchNamespacedPodStatus(
    { name, namespace, body: { status: { phase, conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False' }] } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  return name;
}

async function node(name: string, ready: 'True' | 'False'): Promise<void> {
  await core().createNode({ body: { metadata: { name } } });
  const conditions = [{ type: 'Ready', status: ready, reason: ready === 'True' ? 'KubeletReady' : 'NodeStatusUnknown', lastHeartbeatTime: new Date() }];
  await core().patchNodeStatus({ name, body: { status: { conditions } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

/** Writes a giantswarm/kubelock annotation as that library would. */
async function kubelock(obj: KubernetesObject, lock: string, owner: string, ttlSeconds: number): Promise<void> {
  const value = JSON.stringify({ owner, createdAt: new Date().toISOString().replace('Z', '000000Z'), ttl: ttlSeconds * 1e9 });
  await KubernetesObjectApi.makeApiClient(adminConfig()).patch(
    { ...obj, metadata: { ...obj.metadata, annotations: { [`kubelock.giantswarm.io/${lock}`]: value } } },
    undefined,
    undefined,
    'kubelock-operator',
    undefined,
    PatchStrategy.MergePatch,
  );
}

const ok = async (args: string[]) => {
  const r = await koncli(args);
  expect({ args, code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  return r;
};

/** `koncli status -A --stuck -o json`, only the rows of this file's namespaces. */
async function stuckRows(extra: string[] = []): Promise<Row[]> {
  const r = await koncli(['status', '-A', '--stuck', '-o', 'json', ...extra]);
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  return json(r).items.filter((row) => row.namespace === nsA || row.namespace === nsB);
}

const suffix = randomUUID().slice(0, 6);
const names = { readyNode: `node-ready-${suffix}`, deadNode: `node-lost-${suffix}` };
const placed: Record<string, string> = {};

beforeAll(async () => {
  admin = adminKubeconfigPath();
  [nsA, nsB] = await Promise.all([freshNamespace('status-a'), freshNamespace('status-b')]);
  await ok(['crd', 'install']);
  await Promise.all([node(names.readyNode, 'True'), node(names.deadNode, 'False')]);
  // Live: a client-go leader whose Pod runs, a hostNetwork holder on a Ready Node, someone's laptop.
  const leader = await pod(nsA, 'my-operator-6c8b9-', 'Running');
  placed.leaderPod = leader;
  placed.leader = `${leader}_${randomUUID()}`;
  await ok(['lease', 'acquire', 'my-operator-leader', '-n', nsA, '--holder', placed.leader, '--ttl', '1h']);
  // A controller whose Pod runs in nsB holds its Lease in nsA (controller-runtime's LeaderElectionNamespace).
  placed.crossPod = await pod(nsB, 'ctrl-7f6d5-', 'Running');
  await ok(['lease', 'acquire', 'cross-ns-leader', '-n', nsA, '--holder', `${placed.crossPod}_${randomUUID()}`, '--ttl', '1h']);
  await ok(['mutex', 'lock', 'live-mutex', '-n', nsA, '--holder', leader, '--ttl', '1h']);
  await ok(['once', 'create', 'seed', '-n', nsA]);
  placed.hostLive = `${names.readyNode}_${randomUUID()}`;
  await ok(['lease', 'acquire', 'hostnet-live', '-n', nsB, '--holder', placed.hostLive, '--ttl', '1h']);
  await ok(['lease', 'acquire', 'laptop', '-n', nsB, '--holder', 'alice@laptop', '--ttl', '1h']);
  const worker = await pod(nsB, 'worker-', 'Running');
  await ok(['semaphore', 'lock', 'live-sem', '-n', nsB, '--holder', worker, '--max', '2', '--create']);
  // Stuck: Pods that are gone, one that failed, a Node that is not Ready, an expired lock of a non-Pod identity.
  const [gone1, gone2, gone3, gone4, gone5] = await Promise.all([
    pod(nsA, 'batch-', 'Running'),
    pod(nsB, 'db-restart-', 'Running'),
    pod(nsB, 'db-restart-', 'Running'),
    pod(nsB, 'op-', 'Running'),
    pod(nsB, 'migrate-', 'Running'),
  ]);
  placed.mutexHolder = gone5;
  await ok(['mutex', 'lock', 'migrations', '-n', nsB, '--holder', gone5, '--ttl', '1h']);
  placed.goneLease = gone1;
  await ok(['lease', 'acquire', 'daily-report', '-n', nsA, '--holder', gone1, '--ttl', '1h']);
  for (const h of [gone2, gone3]) await ok(['semaphore', 'lock', 'db-restarts', '-n', nsB, '--holder', h, '--max', '2', '--create']);
  placed.semHolders = [gone2, gone3].sort().join(',');
  placed.cmOwner = `${gone4}_${randomUUID()}`;
  await Promise.all(
    [gone1, gone2, gone3, gone4, gone5].map((name, i) => core().deleteNamespacedPod({ name, namespace: i === 0 ? nsA : nsB, gracePeriodSeconds: 0 })),
  );
  await core().createNamespacedConfigMap({ namespace: nsB, body: { metadata: { name: 'cluster-config' }, data: { a: '1' } } });
  await kubelock({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-config', namespace: nsB } }, 'ip-allocation', placed.cmOwner, 3600);
  await adminConfig()
    .makeApiClient(AppsV1Api)
    .createNamespacedDeployment({
      namespace: nsA,
      body: {
        metadata: { name: 'web' },
        spec: {
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
        },
      },
    });
  await kubelock({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: nsA } }, 'rollout', 'ci-runner-42', 1);
  const failed = await pod(nsB, 'migrator-', 'Failed');
  placed.failed = failed;
  await ok(['lease', 'acquire', 'schema', '-n', nsB, '--kind', 'konductor', '--holder', failed, '--ttl', '1h']);
  placed.hostDead = `${names.deadNode}_${randomUUID()}`;
  await ok(['lease', 'acquire', 'hostnet-lost', '-n', nsB, '--holder', placed.hostDead, '--ttl', '1h']);
  // The kubelock of ci-runner-42 lasts 1 s: past it and the allowed clock skew (5 s), it is expired.
  await sleep(7_000);
}, 150_000);

afterAll(async () => {
  await Promise.all(
    Object.values(names).map((name) =>
      core()
        .deleteNode({ name })
        .catch(() => undefined),
    ),
  );
});

describe('koncli status: the 3 a.m. operator', () => {
  test('status -A --stuck lists exactly the stuck locks of every kind, with the right ALIVE verdicts; each breaks with the printed command', async () => {
    const rows = await stuckRows();
    const byName = Object.fromEntries(rows.map((r) => [`${r.kind}/${r.name}`, r]));
    expect(Object.keys(byName).sort()).toEqual(
      [
        'konductor-lease/schema',
        'kubelock/ip-allocation',
        'kubelock/rollout',
        'lease/daily-report',
        'lease/hostnet-lost',
        'mutex/migrations',
        'semaphore/db-restarts',
      ].sort(),
    );
    expect(byName['mutex/migrations']).toMatchObject({ namespace: nsB, state: 'held', alive: false, holders: [{ holder: placed.mutexHolder }] });
    expect(byName['mutex/migrations'].breakCommand).toBe(`koncli mutex unlock migrations -n ${nsB} --force --if-holder ${placed.mutexHolder}`);
    expect(byName['lease/daily-report']).toMatchObject({ namespace: nsA, holder: placed.goneLease, state: 'held', alive: false });
    expect(byName['lease/daily-report'].aliveReason).toMatch(/gone/);
    expect(byName['lease/hostnet-lost']).toMatchObject({ namespace: nsB, alive: false });
    expect(byName['lease/hostnet-lost'].aliveReason).toMatch(new RegExp(`Node ${names.deadNode} is not Ready`));
    expect(byName['konductor-lease/schema']).toMatchObject({ namespace: nsB, holder: placed.failed, alive: false });
    expect(byName['konductor-lease/schema'].aliveReason).toMatch(/failed/);
    expect(byName['semaphore/db-restarts'].holders.map((h) => h.holder).sort()).toEqual(placed.semHolders.split(','));
    expect(byName['semaphore/db-restarts'].holders.every((h) => h.alive === false)).toBe(true);
    expect(byName['kubelock/ip-allocation']).toMatchObject({ object: 'configmaps/cluster-config', holder: placed.cmOwner, state: 'held', alive: false });
    // A non-Pod identity is never "dead": its lock is stuck only because its TTL ran out.
    expect(byName['kubelock/rollout']).toMatchObject({ object: 'deployments.apps/web', holder: 'ci-runner-42', state: 'expired', alive: null });
    expect(byName['kubelock/rollout'].aliveReason).toMatch(/^unknown: /);
    for (const r of rows) expect(r.breakCommand).toMatch(/^koncli .* -n \S+ .*--force --if-holder /);

    // The live ones are there without --stuck, judged alive (or unknown for the laptop), and not stuck.
    const all = json(await ok(['status', '-A', '-o', 'json'])).items.filter((r) => r.namespace === nsA || r.namespace === nsB);
    const live = Object.fromEntries(all.filter((r) => !r.stuck).map((r) => [r.name, r]));
    expect(live['my-operator-leader']).toMatchObject({ holder: placed.leader, alive: true, state: 'held' });
    expect(live['my-operator-leader'].aliveReason).toMatch(/^Pod my-operator-6c8b9-\w+ is Running$/);
    expect(live['hostnet-live']).toMatchObject({ alive: true });
    expect(live['hostnet-live'].aliveReason).toMatch(new RegExp(`Node ${names.readyNode} is Ready`));
    expect(live['laptop']).toMatchObject({ alive: null, state: 'held' });
    expect(live['live-sem']).toMatchObject({ alive: true, state: 'held' });
    // Alive though its Pod is not in the Lease's namespace: never "gone" for a running holder.
    expect(live['cross-ns-leader']).toMatchObject({ namespace: nsA, alive: true, state: 'held' });
    expect(live['cross-ns-leader'].aliveReason).toBe(`Pod ${placed.crossPod} in namespace ${nsB} is Running`);
    expect(live['live-mutex']).toMatchObject({ kind: 'mutex', alive: true, state: 'held' });
    expect(live['seed']).toMatchObject({ kind: 'once', state: 'free', holders: [] });

    // Each stuck lock breaks with the one command koncli printed, run as printed (in bash).
    for (const r of rows) {
      const script = r.breakCommand!.replace(/^koncli /, `${KONCLI_COMMAND} `);
      const run = await runCommand('bash', ['-c', script], { env: { ...process.env, KUBECONFIG: admin } });
      expect({ script, code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
    }
    expect(await stuckRows()).toEqual([]);
    const after = json(await ok(['status', '-A', '-o', 'json'])).items.filter((r) => r.namespace === nsA || r.namespace === nsB);
    expect(
      after
        .filter((r) => r.state !== 'free')
        .map((r) => r.name)
        .sort(),
    ).toEqual(['cross-ns-leader', 'hostnet-live', 'laptop', 'live-mutex', 'live-sem', 'my-operator-leader']);
  }, 180_000);

  test('the table: every column, the break commands after it; -o name, -o jsonpath, -l; node heartbeats only with --system', async () => {
    const text = await ok(['status', '-n', nsA]);
    const header = text.stdout.split('\n')[0];
    for (const column of ['KIND', 'NAMESPACE', 'NAME', 'HOLDER(S)', 'STATE', 'EXPIRES', 'LAST RENEWED', 'ALIVE', 'WAITERS', 'AGE'])
      expect(header).toContain(column);
    expect(text.stdout).toMatch(new RegExp(`lease\\s+${nsA}\\s+my-operator-leader\\s+${placed.leader}\\s+held\\s+in \\d+m\\d*s?\\s+\\S+ ago\\s+yes\\s+0`));
    const byName = await ok(['status', '-n', nsB, '-o', 'name']);
    expect(byName.stdout.split('\n')).toEqual(expect.arrayContaining([`lease/${nsB}/laptop`, `semaphore/${nsB}/live-sem`]));
    const holders = await ok(['status', '-n', nsB, '-o', 'jsonpath={.items[?(@.name=="laptop")].holder}']);
    expect(holders.stdout.trim()).toBe('alice@laptop');
    await runCommand(kubectlPath(), ['--kubeconfig', admin, '-n', nsB, 'label', 'lease', 'laptop', 'team=blue']);
    // Each kind's own listing takes -A and has the same columns (without KIND), liveness included.
    await ok(['kubelock', 'annotate', 'configmaps/cluster-config', '-n', nsB, '--lock', 'live', '--owner', 'alice@laptop', '--ttl', '1h']);
    const [leases, semaphores, kubelocks, mutexes, mutex] = await Promise.all([
      ok(['lease', 'status', '-A']),
      ok(['semaphore', 'status', '-A']),
      ok(['kubelock', 'status', '-A']),
      ok(['mutex', 'status', '-A']),
      ok(['mutex', 'status', 'live-mutex', '-n', nsA, '--json']),
    ]);
    for (const listing of [leases, semaphores, kubelocks, mutexes])
      expect(listing.stdout.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+HOLDER\(S\)\s+STATE\s+EXPIRES\s+LAST RENEWED\s+ALIVE\s+WAITERS\s+AGE$/);
    expect(leases.stdout).toMatch(new RegExp(`^${nsA}\\s+my-operator-leader\\s+${placed.leader}\\s+held\\s+in \\S+\\s+\\S+ ago\\s+yes\\s+0\\s`, 'm'));
    expect(semaphores.stdout).toMatch(new RegExp(`^${nsB}\\s+live-sem\\s+\\S+\\s+held 1/2\\s+until released\\s+\\S+ ago\\s+yes\\s`, 'm'));
    expect(kubelocks.stdout).toMatch(new RegExp(`^${nsB}\\s+configmaps/cluster-config:live\\s+alice@laptop\\s+held\\s+in \\S+\\s+\\S+ ago\\s+unknown\\s`, 'm'));
    expect(mutexes.stdout).toMatch(new RegExp(`^${nsA}\\s+live-mutex\\s+${placed.leaderPod}\\s+held\\s+in \\S+\\s+\\S+ ago\\s+yes\\s`, 'm'));
    expect(JSON.parse(mutex.stdout)).toMatchObject({
      holder: placed.leaderPod,
      alive: true,
      stuck: false,
      breakCommand: `koncli mutex unlock live-mutex -n ${nsA} --force --if-holder ${placed.leaderPod}`,
    });
    const oneNamespace = json(await ok(['kubelock', 'status', '-n', nsB, '-o', 'json'])).items;
    expect(oneNamespace.map((r) => `${r.kind} ${r.object}:${r.name} ${r.holder}`)).toEqual(['kubelock configmaps/cluster-config:live alice@laptop']);
    const labelled = json(await ok(['status', '-n', nsB, '-l', 'team=blue', '-o', 'json'])).items;
    expect(labelled.map((r) => r.name)).toEqual(['laptop']);
    await ok(['lease', 'acquire', `node-${suffix}`, '-n', 'kube-node-lease', '--holder', `node-${suffix}`, '--ttl', '40s']);
    const plain = json(await ok(['status', '-A', '-o', 'json'])).items;
    expect(plain.some((r) => r.namespace === 'kube-node-lease' || r.namespace === 'kube-system')).toBe(false);
    const system = json(await ok(['status', '-A', '--system', '-o', 'json'])).items;
    expect(system.some((r) => r.namespace === 'kube-node-lease' && r.name === `node-${suffix}`)).toBe(true);
  }, 120_000);

  test('--force --if-holder breaks only while that holder holds (exit 5, nothing changed, otherwise); --dead removes exactly the dead; the Event names the user', async () => {
    const holderOf = async (lease: string) => json(await ok(['status', '-n', nsA, '-o', 'json'])).items.find((r) => r.name === lease)?.holder;
    await ok(['lease', 'acquire', 'handover', '-n', nsA, '--holder', 'old-owner', '--ttl', '1h']);
    await ok(['lease', 'release', 'handover', '-n', nsA, '--holder', 'old-owner']);
    await ok(['lease', 'acquire', 'handover', '-n', nsA, '--holder', 'new-owner', '--ttl', '1h']);
    // A busy error says what to do: the command that breaks it while new-owner holds it.
    const busy = await koncli(['lease', 'acquire', 'handover', '-n', nsA, '--holder', 'me', '--timeout', '0', '--json']);
    expect(busy.code).toBe(3);
    const hint = `koncli lease release handover -n ${nsA} --force --if-holder new-owner`;
    expect(JSON.parse(busy.stdout).error).toMatchObject({ kind: 'busy', holder: 'new-owner', breakCommand: hint });
    expect(busy.stderr).toContain(`; to break it safely: ${hint}\n`);
    // The operator saw old-owner; new-owner took it meanwhile: the force is refused.
    const refused = await koncli(['lease', 'release', 'handover', '-n', nsA, '--force', '--if-holder', 'old-owner', '--json']);
    expect(refused.code).toBe(5);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ kind: 'not-held', holders: ['new-owner'], expected: ['old-owner'] });
    expect(await holderOf('handover')).toBe('new-owner');
    const absent = await koncli(['lease', 'release', 'no-such-lease', '-n', nsA, '--force', '--if-holder', 'x']);
    expect(absent.code).toBe(6);
    await ok(['lease', 'release', 'handover', '-n', nsA, '--force', '--if-holder', 'new-owner', '--reason', 'handover test']);
    const events = await core().listNamespacedEvent({ namespace: nsA, fieldSelector: 'involvedObject.name=handover,reason=ForceReleased' });
    expect(events.items.map((e) => e.message)).toEqual([
      'user koncli-admin as ' + (process.env.KONCLI_HOLDER || hostname()) + ' force-released the lease from new-owner (koncli): handover test',
    ]);

    // A kubelock refuses the same way.
    await ok(['kubelock', 'annotate', 'deployments.apps/web', '-n', nsA, '--lock', 'deploy', '--owner', 'ci-7', '--ttl', '1h']);
    const wrongOwner = await koncli([
      'kubelock',
      'annotate',
      'deployments.apps/web',
      '-n',
      nsA,
      '--lock',
      'deploy',
      '--release',
      '--force',
      '--if-holder',
      'ci-6',
    ]);
    expect(wrongOwner.code).toBe(5);
    await ok(['kubelock', 'annotate', 'deployments.apps/web', '-n', nsA, '--lock', 'deploy', '--release', '--force', '--if-holder', 'ci-7']);

    // --dead: of a live Pod, a gone one and a laptop, only the gone one is removed.
    const [live, gone] = await Promise.all([pod(nsA, 'sem-live-', 'Running'), pod(nsA, 'sem-gone-', 'Running')]);
    for (const h of [live, gone, 'carol@laptop']) await ok(['semaphore', 'lock', 'mixed', '-n', nsA, '--holder', h, '--max', '3', '--create']);
    await core().deleteNamespacedPod({ name: gone, namespace: nsA, gracePeriodSeconds: 0 });
    const dead = JSON.parse((await ok(['semaphore', 'unlock', 'mixed', '-n', nsA, '--force', '--dead', '--json'])).stdout);
    expect(dead).toMatchObject({ removed: [gone], forced: true });
    expect([...dead.holders].sort()).toEqual(['carol@laptop', live].sort());
    const none = await koncli(['semaphore', 'unlock', 'mixed', '-n', nsA, '--force', '--dead']);
    expect(none.code).toBe(5);
    expect(none.stderr).toMatch(/no holder of semaphore mixed is judged dead/);
    // Several at once, only while all of them still hold.
    expect((await koncli(['semaphore', 'unlock', 'mixed', '-n', nsA, '--force', '--if-holder', live, '--if-holder', gone])).code).toBe(5);
    await ok(['semaphore', 'unlock', 'mixed', '-n', nsA, '--force', '--if-holder', live, '--if-holder', 'carol@laptop']);
  }, 120_000);

  test('busy errors of every kind say who holds it, until when, and the command that breaks it safely; the rule only at -v and in --json', async () => {
    await Promise.all([
      ok(['lease', 'acquire', 'k-busy', '-n', nsA, '--kind', 'konductor', '--holder', 'alice@laptop', '--ttl', '1h']),
      ok(['semaphore', 'lock', 'full-sem', '-n', nsA, '--holder', 'carol@laptop', '--max', '1', '--create', '--ttl', '1h']),
      ok(['kubelock', 'annotate', 'deployments.apps/web', '-n', nsA, '--lock', 'busy', '--owner', 'dave@laptop', '--ttl', '1h']),
    ]);
    const leader = `lease my-operator-leader is held by ${placed.leader}`;
    const breakLeader = `koncli lease release my-operator-leader -n ${nsA} --force --if-holder ${placed.leader}`;
    const breakMutex = `koncli mutex unlock live-mutex -n ${nsA} --force --if-holder ${placed.leaderPod}`;
    const cases: { args: string[]; who: string; breaks: string; run?: boolean }[] = [
      { args: ['lease', 'acquire', 'my-operator-leader', '--holder', 'me'], who: leader, breaks: breakLeader },
      {
        args: ['lease', 'acquire', 'k-busy', '--kind', 'konductor', '--holder', 'me'],
        who: 'lease k-busy is held by alice@laptop',
        breaks: `koncli lease release k-busy -n ${nsA} --kind konductor --force --if-holder alice@laptop`,
      },
      {
        args: ['semaphore', 'lock', 'full-sem', '--holder', 'me'],
        who: 'semaphore full-sem is full: 1/1 held by carol@laptop',
        breaks: `koncli semaphore unlock full-sem -n ${nsA} --force --if-holder carol@laptop`,
      },
      {
        args: ['kubelock', 'annotate', 'deployments.apps/web', '--lock', 'busy', '--owner', 'me'],
        who: `lock busy on deployments.apps/web in namespace ${nsA} is held by "dave@laptop"`,
        breaks: `koncli kubelock annotate deployments.apps/web --lock busy -n ${nsA} --release --force --if-holder dave@laptop`,
      },
      { args: ['mutex', 'lock', 'live-mutex', '--holder', 'me'], who: `mutex live-mutex is held by ${placed.leaderPod}`, breaks: breakMutex },
      { args: ['lease', 'run', 'my-operator-leader', '--holder', 'me'], who: leader, breaks: breakLeader, run: true },
      { args: ['mutex', 'run', 'live-mutex', '--holder', 'me'], who: `mutex live-mutex is held by ${placed.leaderPod}`, breaks: breakMutex, run: true },
    ];
    const until = String.raw` until \S+ \(in \d+s by this machine's clock\) unless renewed`;
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await Promise.all(
      cases.map(async ({ args, who, breaks, run }) => {
        const argv = (flag: string) => [...args, '-n', nsA, '--timeout', '0', '--kubeconfig', admin, flag, ...(run ? ['--', 'true'] : [])];
        const [asJson, verbose] = await Promise.all([runKoncli(argv('--json')), runKoncli(argv('-v'))]);
        expect({ args, code: asJson.code }).toEqual({ args, code: 3 });
        // First who and until when, then what to do; the rule is not in the message.
        const line = new RegExp(`^koncli: error: ${run ? 'not running the command: ' : ''}${esc(who)}${until}; to break it safely: ${esc(breaks)}$`, 'm');
        expect(verbose.stderr).toMatch(line);
        expect(verbose.stderr).toMatch(/^koncli: judged held by: .*(observed-time rule|clock skew|API server stamped)/m);
        const doc = JSON.parse(asJson.stdout);
        const said = run ? doc : doc.error;
        expect({ args, breakCommand: said.breakCommand, rule: typeof said.rule }).toEqual({ args, breakCommand: breaks, rule: 'string' });
        expect(asJson.stderr).toMatch(line);
        expect(asJson.stderr).not.toMatch(/judged held by|observed-time rule|clock skew|API server stamped/);
      }),
    );
  }, 120_000);

  test('-w prints a lock as it changes (by watch), until interrupted', async () => {
    const { spawnKoncli, collect } = await import('../support/cli.js');
    const child = spawnKoncli(['status', '-n', nsA, '-w', '--kubeconfig', admin]);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const done = collect(child);
    await until('the first table', () => out.includes('my-operator-leader'));
    await ok(['lease', 'acquire', 'watched', '-n', nsA, '--holder', 'bob@desk', '--ttl', '1h']);
    await until('the new lease printed as a row', () => /lease\s+\S+\s+watched\s+bob@desk\s+held/.test(out), 30_000);
    child.kill('SIGINT');
    expect((await done).code).toBe(0);
  }, 90_000);
});
