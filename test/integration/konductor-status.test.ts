// Primitives stored as konductor.io/v1 objects (`--kind konductor`) in `koncli status` and in each
// kind's own listing, on the real API server through the real CLI: the same columns and LockList JSON
// as the ConfigMap-stored ones, -A and -l, the break command that names the storage, one list per
// served konductor type, and a least-privilege user who may not list them (skipped, named at -v).
// A cluster without the CRDs cannot be made here (the plane and its CRDs are shared by every file),
// so the not-installed path is the 403 path's twin in cli/lock-listers.ts, and is named in the report.
// Last, a `--kind konductor` gate's Lease condition reads and watches a konductor.io/v1 Lease.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAllYaml, type V1Role } from '@kubernetes/client-node';
import { collect, KONCLI_COMMAND, runKoncli, spawnKoncli, type CliResult } from '../support/cli.js';
import { kubectlPath, runCommand } from '../support/access.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { sleep, until } from '../support/poll.js';
import { cleanup } from '../reliability/support.js';
import { adminKubeconfigPath, bindRestricted, freshNamespace, grantRestricted, restrictedKubeconfigPath } from './helpers.js';

let admin: string;
let nsA: string;
let nsB: string;
/** A label value no other file uses, so -A -l sees only this file's objects. */
const team = `team-${randomUUID().slice(0, 8)}`;
const K = ['--kind', 'konductor'];
const koncli = (args: string[], kubeconfig = admin) => runKoncli([...args, '--kubeconfig', kubeconfig], { timeoutMs: 90_000 });
const ok = async (args: string[], kubeconfig = admin) => {
  const r = await koncli(args, kubeconfig);
  expect({ args, code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  return r;
};
const kubectl = (args: string[]) => runCommand(kubectlPath(), ['--kubeconfig', admin, ...args]);

interface Row {
  kind: string;
  object?: string;
  namespace: string | null;
  name: string;
  holders: { holder: string }[];
  state: string;
  alive: boolean | null;
  stuck: boolean;
  breakCommand: string | null;
}
const rowsOf = (r: CliResult, namespaces = [nsA, nsB]) => {
  const doc = JSON.parse(r.stdout) as { kind: string; items: Row[] };
  expect(doc.kind).toBe('LockList');
  return doc.items.filter((i) => namespaces.includes(i.namespace ?? ''));
};
const keyOf = (r: Row) => `${r.kind}/${r.name}`;

/**
 * A holder named as a controller's Pod (`-` and five characters of Kubernetes' random-name alphabet)
 * that no namespace has: judged gone, dead (docs/status.md, Liveness).
 */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const gonePod = `migrate-7d9f8-${Array.from(randomUUID().replace(/-/g, '').slice(0, 5), (c) => ALPHABET[parseInt(c, 16)]).join('')}`;

const KONDUCTOR_PRIMITIVE_PLURALS = ['mutexes', 'onces', 'rwmutexes', 'barriers', 'waitgroups', 'gates', 'semaphores'];

beforeAll(async () => {
  admin = adminKubeconfigPath();
  [nsA, nsB] = await Promise.all([freshNamespace('kstatus-a'), freshNamespace('kstatus-b')]);
  await ok(['crd', 'install']);
  await Promise.all([
    // nsA: a konductor Mutex held by a gone Pod (stuck), a native mutex of the same name held, an RWMutex read by two, a Once.
    ok(['mutex', 'lock', 'deploy-lock', '-n', nsA, ...K, '--holder', gonePod, '--ttl', '1h']),
    ok(['mutex', 'lock', 'deploy-lock', '-n', nsA, '--holder', 'alice@laptop', '--ttl', '1h']),
    ok(['rwmutex', 'rlock', 'cache', '-n', nsA, ...K, '--holder', 'r1', '--ttl', '1h']).then(() =>
      ok(['rwmutex', 'rlock', 'cache', '-n', nsA, ...K, '--holder', 'r2', '--ttl', '1h']),
    ),
    ok(['once', 'create', 'seed', '-n', nsA, ...K]),
    // nsB: a Barrier with one arrival, a WaitGroup at 2, a Gate on the Barrier, a labelled Mutex.
    ok(['barrier', 'create', 'shards', '-n', nsB, ...K, '--expected', '3']).then(() => ok(['barrier', 'arrive', 'shards', 'shard-1', '-n', nsB, ...K])),
    ok(['waitgroup', 'create', 'fan-in', '-n', nsB, ...K]).then(() => ok(['waitgroup', 'add', 'fan-in', '-n', nsB, ...K, '--delta', '2'])),
    ok(['gate', 'create', 'report-gate', '-n', nsB, ...K, '--condition', 'barrier/shards']),
    ok(['mutex', 'lock', 'labelled', '-n', nsB, ...K, '--holder', 'bob', '--ttl', '1h']),
  ]);
  for (const resource of ['mutexes.konductor.io/labelled', 'barriers.konductor.io/shards'])
    expect(await kubectl(['-n', nsB, 'label', resource, `team=${team}`])).toMatchObject({ code: 0 });
  // A giantswarm/kubelock annotation on a konductor Mutex, as that library writes it (docs/kubelock.md).
  const lock = JSON.stringify({ owner: 'ci-runner-42', createdAt: new Date().toISOString().replace('Z', '000000Z'), ttl: 3600 * 1e9 });
  expect(await kubectl(['-n', nsB, 'annotate', 'mutexes.konductor.io/labelled', `kubelock.giantswarm.io/rollout=${lock}`])).toMatchObject({ code: 0 });
}, 150_000);
afterAll(cleanup);

describe('koncli status with konductor-stored primitives', () => {
  test('status -A lists every konductor kind beside the ConfigMap-stored ones, with the same JSON; the stuck one breaks with the printed command', async () => {
    const rows = rowsOf(await ok(['status', '-A', '-o', 'json']));
    const byKey = Object.fromEntries(rows.map((r) => [keyOf(r), r]));
    expect(Object.keys(byKey).sort()).toEqual(
      [
        'konductor-barrier/shards',
        'konductor-gate/report-gate',
        'konductor-mutex/deploy-lock',
        'konductor-mutex/labelled',
        'konductor-once/seed',
        'konductor-rwmutex/cache',
        'konductor-waitgroup/fan-in',
        'kubelock/rollout',
        'mutex/deploy-lock',
      ].sort(),
    );
    // The same document for both storages: every key a ConfigMap-stored mutex has, and no other.
    expect(Object.keys(byKey['konductor-mutex/deploy-lock']).sort()).toEqual(Object.keys(byKey['mutex/deploy-lock']).sort());
    expect(byKey['konductor-rwmutex/cache']).toMatchObject({ namespace: nsA, state: 'held', holders: [{ holder: 'r1' }, { holder: 'r2' }] });
    expect(byKey['konductor-mutex/labelled']).toMatchObject({ namespace: nsB, state: 'held', stuck: false, holders: [{ holder: 'bob' }] });
    expect(byKey['mutex/deploy-lock']).toMatchObject({ state: 'held', stuck: false, holders: [{ holder: 'alice@laptop' }] });
    expect(byKey['mutex/deploy-lock'].breakCommand).toBe(`koncli mutex unlock deploy-lock -n ${nsA} --force --if-holder alice@laptop`);
    const stuck = byKey['konductor-mutex/deploy-lock'];
    expect(stuck).toMatchObject({ namespace: nsA, state: 'held', alive: false, stuck: true, holders: [{ holder: gonePod }] });
    expect(stuck.breakCommand).toBe(`koncli mutex unlock deploy-lock -n ${nsA} --kind konductor --force --if-holder ${gonePod}`);
    expect(rowsOf(await ok(['status', '-A', '--stuck', '-o', 'json'])).map(keyOf)).toEqual(['konductor-mutex/deploy-lock']);
    // A kubelock annotation on a konductor object is found (by the konductor lister, which reads that type in full).
    expect(byKey['kubelock/rollout']).toMatchObject({
      namespace: nsB,
      object: 'mutexes.konductor.io/labelled',
      state: 'held',
      holders: [{ holder: 'ci-runner-42' }],
    });
    expect(byKey['kubelock/rollout'].breakCommand).toBe(
      `koncli kubelock annotate mutexes.konductor.io/labelled --lock rollout -n ${nsB} --release --force --if-holder ci-runner-42`,
    );

    // The table: KIND konductor-mutex, and the break command under it.
    const table = await ok(['status', '-n', nsA]);
    expect(table.stdout).toMatch(new RegExp(`^konductor-mutex\\s+${nsA}\\s+deploy-lock\\s+${gonePod}\\s+held\\s+in \\S+\\s+\\S+ ago\\s+no\\s`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^mutex\\s+${nsA}\\s+deploy-lock\\s+alice@laptop\\s+held\\s`, 'm'));
    expect(table.stdout).toContain(stuck.breakCommand);

    // Run as printed (in bash): it frees the konductor Mutex and leaves the ConfigMap one of the same name held.
    const script = stuck.breakCommand!.replace(/^koncli /, `${KONCLI_COMMAND} `);
    const broke = await runCommand('bash', ['-c', script], { env: { ...process.env, KUBECONFIG: admin } });
    expect({ script, code: broke.code, stderr: broke.stderr }).toMatchObject({ code: 0 });
    const after = Object.fromEntries(rowsOf(await ok(['status', '-n', nsA, '-o', 'json'])).map((r) => [keyOf(r), r]));
    expect(after['konductor-mutex/deploy-lock']).toMatchObject({ state: 'free', holders: [] });
    expect(after['mutex/deploy-lock']).toMatchObject({ state: 'held', holders: [{ holder: 'alice@laptop' }] });
    const kubectlSees = await kubectl(['-n', nsA, 'get', 'mutexes.konductor.io', 'deploy-lock', '-o', 'jsonpath={.status.phase}']);
    expect(kubectlSees.stdout).toBe('Unlocked');
  });

  test('-l selects by the objects’ labels; each kind’s list and status listing take -A and -l with --kind konductor', async () => {
    const labelled = rowsOf(await ok(['status', '-A', '-l', `team=${team}`, '-o', 'json']));
    expect(labelled.map(keyOf).sort()).toEqual(['konductor-barrier/shards', 'konductor-mutex/labelled', 'kubelock/rollout']);

    // Every kind's `list -A --kind konductor`: its object, in its namespace; none of the other storage's.
    const expected: Record<string, [string, string]> = {
      mutex: [nsA, 'deploy-lock'],
      once: [nsA, 'seed'],
      rwmutex: [nsA, 'cache'],
      barrier: [nsB, 'shards'],
      waitgroup: [nsB, 'fan-in'],
      gate: [nsB, 'report-gate'],
    };
    const lists = await Promise.all(Object.keys(expected).map((kind) => ok([kind, 'list', '-A', ...K, '--json'])));
    Object.keys(expected).forEach((kind, i) => {
      const items = (JSON.parse(lists[i].stdout) as { items: { kind: string; namespace: string; name: string }[] }).items;
      const ours = items.filter((it) => it.namespace === nsA || it.namespace === nsB).map((it) => [it.namespace, it.name]);
      expect([kind, ours.filter(([, n]) => n !== 'labelled')]).toEqual([kind, [expected[kind]]]);
    });
    const mutexes = await ok(['mutex', 'list', '-A', ...K, '-l', `team=${team}`]);
    expect(mutexes.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^NAMESPACE\s+NAME\s+STATE\s+HOLDER\s+EXPIRES$/),
      expect.stringMatching(new RegExp(`^${nsB}\\s+labelled\\s+held\\s+bob\\s`)),
    ]);
    const barriers = JSON.parse((await ok(['barrier', 'list', '-A', ...K, '-l', `team=${team}`, '--json'])).stdout) as { items: { name: string }[] };
    expect(barriers.items.map((b) => b.name)).toEqual(['shards']);

    // `mutex status` without NAME: koncli status's columns for the konductor Mutexes only.
    const status = await ok(['mutex', 'status', '-A', ...K, '-o', 'json']);
    expect(
      rowsOf(status)
        .map((r) => `${r.namespace}/${keyOf(r)}`)
        .sort(),
    ).toEqual([`${nsA}/konductor-mutex/deploy-lock`, `${nsB}/konductor-mutex/labelled`]);
    const statusTable = await ok(['mutex', 'status', '-A', ...K, '-l', `team=${team}`]);
    expect(statusTable.stdout.trim().split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+HOLDER\(S\)\s+STATE\s+EXPIRES\s+LAST RENEWED\s+ALIVE\s+WAITERS\s+AGE$/);
    expect(statusTable.stdout.trim().split('\n').slice(1)).toEqual([expect.stringMatching(new RegExp(`^${nsB}\\s+labelled\\s+bob\\s+held\\s`))]);
    expect(rowsOf(await ok(['once', 'status', '-n', nsA, ...K, '-o', 'json'])).map(keyOf)).toEqual(['konductor-once/seed']);
    // And the native listing still lists the ConfigMap-stored ones only.
    expect(rowsOf(await ok(['mutex', 'status', '-A', '-o', 'json'])).map(keyOf)).toEqual(['mutex/deploy-lock']);

    // The kubelock annotation on the konductor Mutex breaks with the command printed for it; the Mutex's own hold stays.
    const kubelock = labelled.find((r) => r.kind === 'kubelock')!;
    const broke = await runCommand('bash', ['-c', kubelock.breakCommand!.replace(/^koncli /, `${KONCLI_COMMAND} `)], {
      env: { ...process.env, KUBECONFIG: admin },
    });
    expect({ code: broke.code, stderr: broke.stderr }).toEqual({ code: 0, stderr: '' });
    const after = rowsOf(await ok(['status', '-n', nsB, '-l', `team=${team}`, '-o', 'json']), [nsB]);
    expect(after.map((r) => `${keyOf(r)} ${r.state}`).sort()).toEqual(['konductor-barrier/shards free', 'konductor-mutex/labelled held']);
  });

  // The konductor primitive lister asks once which konductor.io/v1 types are served and lists each once,
  // reporting kubelock annotations on them too; the kubelock lister (its own discovery of every group,
  // then a metadata-only list of each type) leaves those seven types to it, but lists konductor Leases and Permits,
  // which the Lease lister lists as well.
  test('one discovery request and one list per konductor primitive type, in one namespace and across all', async () => {
    for (const [scope, prefix] of [
      [['-n', nsA], `/apis/konductor.io/v1/namespaces/${nsA}/`],
      [['-A'], '/apis/konductor.io/v1/'],
    ] as const) {
      const r = await koncli(['status', ...scope, '-v', '-o', 'json']);
      expect(r.code).toBe(0);
      const gets = r.stderr
        .split('\n')
        .map((l) => /^koncli: api: GET (\/apis\/konductor\.io\/\S*)$/.exec(l)?.[1])
        .filter((p): p is string => p !== undefined);
      // Permits twice: beside the Semaphores (a semaphore's record counts them), and as a type the kubelock lister scans.
      const twice = ['/apis/konductor.io/v1', `${prefix}leases`, `${prefix}permits`];
      expect(gets.sort()).toEqual([...twice, ...twice, ...KONDUCTOR_PRIMITIVE_PLURALS.map((p) => prefix + p)].sort());
    }
  });
});

describe('koncli status -w with konductor-stored primitives', () => {
  test('a konductor Mutex created and locked after the first table is printed as it changes (by watch)', async () => {
    const child = spawnKoncli(['status', '-n', nsB, '-w', '--kubeconfig', admin]);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const done = collect(child);
    await until('the first table', () => out.includes('report-gate'), 30_000);
    await ok(['mutex', 'lock', 'watched', '-n', nsB, ...K, '--holder', 'carol@desk', '--ttl', '1h']);
    await until('the new konductor Mutex printed as a row', () => /konductor-mutex\s+\S+\s+watched\s+carol@desk\s+held/.test(out), 30_000);
    await ok(['mutex', 'unlock', 'watched', '-n', nsB, ...K, '--holder', 'carol@desk']);
    await until('its release printed', () => /konductor-mutex\s+\S+\s+watched\s+<none>\s+free/.test(out), 30_000);
    child.kill('SIGINT');
    expect((await done).code).toBe(0);
  }, 90_000);
});

describe('least privilege', () => {
  test('a user who may not list konductor objects gets the rest of koncli status, the konductor types named at -v; with the konductor Role, them too', async () => {
    const own = await freshNamespace('kstatus-rbac');
    await bindRestricted(own);
    await ok(['mutex', 'lock', 'cm-mutex', '-n', own, '--holder', 'a', '--ttl', '1h']);
    await ok(['mutex', 'lock', 'k-mutex', '-n', own, ...K, '--holder', 'b', '--ttl', '1h']);
    const restricted = restrictedKubeconfigPath();
    const as = (...args: string[]) => koncli([...args, '-n', own], restricted);

    const quiet = await as('status', '-o', 'json');
    expect({ code: quiet.code, stderr: quiet.stderr }).toEqual({ code: 0, stderr: '' });
    expect(rowsOf(quiet, [own]).map(keyOf)).toEqual(['mutex/cm-mutex']);
    const verbose = await as('status', '-v');
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toContain('koncli: skipped konductor Leases (leases.konductor.io): you may not list them');
    for (const plural of KONDUCTOR_PRIMITIVE_PLURALS) expect(verbose.stderr).toContain(`koncli: skipped ${plural}.konductor.io: you may not list them`);
    // A listing of that one kind is the command's own error: exit 7, naming the verb and resource.
    const listing = await as('mutex', 'status', ...K);
    expect(listing.code).toBe(7);
    expect(listing.stderr.trim()).toMatch(
      /^koncli: error: cannot list mutexes\.konductor\.io in namespace \S+: forbidden .*grant "list" on mutexes\.konductor\.io/,
    );

    // docs/rbac/konductor-role.yaml's rules, as published.
    const roleFile = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'rbac', 'konductor-role.yaml');
    const role = (loadAllYaml(readFileSync(roleFile, 'utf8')) as { kind?: string }[]).find((d): d is V1Role => d?.kind === 'Role')!;
    await grantRestricted(own, 'koncli-konductor', role.rules!);
    await until('the konductor Role to let the restricted user list konductor Mutexes', async () => (await as('mutex', 'status', ...K)).code === 0);
    const granted = await as('status', '-o', 'json', '-v');
    expect(granted.code).toBe(0);
    expect(granted.stderr).not.toMatch(/skipped .*konductor/);
    expect(rowsOf(granted, [own]).map(keyOf).sort()).toEqual(['konductor-mutex/k-mutex', 'mutex/cm-mutex']);
  });
});

describe('gate --kind konductor: a Lease condition names a konductor.io/v1 Lease', () => {
  test('the konductor gate judges and watches the konductor Lease (not the native one of the same name); the native gate the native one', async () => {
    const ns = await freshNamespace('kstatus-gate');
    const inNs = (...args: string[]) => ['-n', ns, ...args];
    // Same name, two Lease APIs: the konductor Lease is held, the native one free.
    await ok(inNs('lease', 'acquire', 'schema', ...K, '--holder', 'migrator', '--ttl', '1h'));
    await ok(inNs('lease', 'acquire', 'schema', '--holder', 'dba', '--ttl', '1h'));
    await ok(inNs('lease', 'release', 'schema', '--holder', 'dba'));
    await ok(inNs('gate', 'create', 'after-migration', ...K, '--condition', 'lease/schema'));
    await ok(inNs('gate', 'create', 'native-gate', '--condition', 'lease/schema'));
    const konductorGate = JSON.parse((await ok(inNs('gate', 'status', 'after-migration', ...K, '--json'))).stdout) as Record<string, unknown>;
    expect(konductorGate).toMatchObject({
      phase: 'Waiting',
      conditions: [{ type: 'Lease', name: 'schema', met: false, message: 'Lease is held by migrator' }],
    });
    const nativeGate = JSON.parse((await ok(inNs('gate', 'status', 'native-gate', '--json'))).stdout) as Record<string, unknown>;
    expect(nativeGate).toMatchObject({ phase: 'Open', conditions: [{ type: 'Lease', name: 'schema', met: true, message: 'Lease is available' }] });

    // The waiter watches the konductor Lease (seen through a proxy); an event naming another konductor Lease does not count.
    const proxy = await startFaultProxy();
    try {
      const kubeconfig = proxy.kubeconfig(mkdtempSync(join(tmpdir(), 'koncli-kgate-')), ns);
      let returned = false;
      const waiter = runKoncli(['gate', 'wait', 'after-migration', ...K, '--timeout', '2m', '--json', '--kubeconfig', kubeconfig], {
        timeoutMs: 150_000,
      }).finally(() => (returned = true));
      const leaseWatch = /\/apis\/konductor\.io\/v1\/namespaces\/[^/]+\/leases\?/;
      await until(
        'the waiter watches the konductor Lease and the gate',
        () => proxy.watches({ path: leaseWatch }) === 1 && proxy.watches({ path: /\/gates\?/ }) === 1,
      );
      expect(proxy.watches({ path: /\/apis\/coordination\.k8s\.io\/v1\/namespaces\/[^/]+\/leases\?/ })).toBe(0);
      const other = { apiVersion: 'konductor.io/v1', kind: 'Lease', metadata: { name: 'other', namespace: ns, resourceVersion: '999999999', uid: 'other' } };
      const injected = { type: 'MODIFIED', object: { ...other, spec: { ttl: '1m' }, status: { phase: 'Available' } } };
      expect(proxy.inject({ watch: true, path: leaseWatch }, JSON.stringify(injected))).toBe(1);
      await sleep(1500);
      expect(returned).toBe(false);
      // Releasing the native one's namesake changes nothing; releasing the konductor Lease opens the gate.
      await ok(inNs('lease', 'acquire', 'schema', '--holder', 'dba2', '--ttl', '1h'));
      await sleep(1000);
      expect(returned).toBe(false);
      await ok(inNs('lease', 'release', 'schema', ...K, '--holder', 'migrator'));
      const r = await waiter;
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(r.stdout)).toMatchObject({ phase: 'Open', conditions: [{ type: 'Lease', name: 'schema', met: true, message: 'Lease is available' }] });
    } finally {
      await proxy.close();
    }
  }, 180_000);
});
