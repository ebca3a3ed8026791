// konductor.io/v1 Leases on the real local control plane, through the real CLI and real kubectl.
import { Watch } from '@kubernetes/client-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterArgs, KONCLI_COMMAND, runKoncli } from '../support/cli.js';
import { kubectlPath, runCommand, type Run } from '../support/access.js';
import { waiterIds } from '../support/waiters.js';
import { adminConfig, adminKubeconfigPath, freshNamespace, RESTRICTED_USER, restrictedKubeconfigPath } from './helpers.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CRD_NAMES = [
  'leases.konductor.io',
  'mutexes.konductor.io',
  'onces.konductor.io',
  'rwmutexes.konductor.io',
  'barriers.konductor.io',
  'waitgroups.konductor.io',
  'gates.konductor.io',
  'semaphores.konductor.io',
  'permits.konductor.io',
];
const CRD_FILES = CRD_NAMES.map((n) => join(REPO_ROOT, 'config', 'crd', `konductor.io_${n.split('.')[0]}.yaml`));
const ROLE_FILE = join(REPO_ROOT, 'docs', 'rbac', 'konductor-role.yaml');

let ns: string;
let admin: string;
const KUBECTL = kubectlPath();
const kubectl = (args: string[], input?: string) => runCommand(KUBECTL, ['--kubeconfig', admin, '-n', ns, ...args], { input });
const konductor = (...args: string[]) => runKoncli([...args, '--kind', 'konductor', ...clusterArgs(admin, ns)]);
const json = (stdout: string) => JSON.parse(stdout);
/** Asserts an exit code, showing stderr when it differs. */
const exitedWith = (r: Run, code: number) => {
  if (r.code !== code) throw new Error(`exit ${r.code}, expected ${code}; stderr: ${r.stderr}; stdout: ${r.stdout}`);
};
const exits = async (pending: Promise<Run>, code: number) => {
  const r = await pending;
  exitedWith(r, code);
  return r;
};
const jsonpath = async (name: string, path: string) => {
  const r = await kubectl(['get', 'leases.konductor.io', name, '-o', `jsonpath={${path}}`]);
  expect(r).toMatchObject({ code: 0 });
  return r.stdout;
};
const leaseYaml = (name: string, spec: string, status = '') =>
  `apiVersion: konductor.io/v1\nkind: Lease\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: ${spec}\n${status ? `status: ${status}\n` : ''}`;
const apply = async (yaml: string) => {
  const r = await kubectl(['apply', '-f', '-'], yaml);
  expect(r).toMatchObject({ code: 0 });
};

/**
 * Runs `script` in bash with koncli as $KONCLI (KONCLI_COMMAND: the npm build or the executable), talking to the test
 * namespace as admin, KONCLI_LEASE_KIND=konductor, and $DIR a scratch directory shared by the workers.
 */
const bash = (script: string, env: Record<string, string>) =>
  runCommand('bash', ['-euo', 'pipefail', '-c', script], {
    timeoutMs: 600_000, // the test's own timeout decides
    env: {
      KONCLI: KONCLI_COMMAND,
      KUBECONFIG: admin,
      KONCLI_LEASE_KIND: 'konductor',
      NS: ns,
      ...env,
    },
  });

const scratchDirs: string[] = [];
/** A scratch directory the workers of one test share; removed after the file. */
const scratch = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
};
afterAll(() => scratchDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('konductor');
  // Cluster-wide and idempotent: every file that needs the CRD installs it.
  const install = await runKoncli(['crd', 'install', '--json', '--kubeconfig', admin]);
  expect(install).toMatchObject({ code: 0 });
  expect(json(install.stdout)).toMatchObject({ name: 'leases.konductor.io', established: true });
}, 120_000);

describe('koncli crd install', () => {
  test('the CRD is Established, serves the printer columns, and a second install changes nothing', async () => {
    const crdField = async (jsonpath: string) =>
      (await runCommand(KUBECTL, ['--kubeconfig', admin, 'get', 'crd', 'leases.konductor.io', '-o', `jsonpath=${jsonpath}`])).stdout;
    expect(await crdField('{.status.conditions[?(@.type=="Established")].status}')).toBe('True');
    expect(await crdField('{.spec.versions[0].additionalPrinterColumns[*].name}')).toBe('Holder Phase Expires Age');
    const again = await runKoncli(['crd', 'install', '--json', '--kubeconfig', admin]);
    exitedWith(again, 0);
    expect(json(again.stdout)).toMatchObject({ outcome: 'unchanged', established: true });
    const text = await runKoncli(['crd', 'install', '--kubeconfig', admin]);
    expect(text.stdout).toBe(CRD_NAMES.map((n) => `customresourcedefinition ${n} unchanged (Established)\n`).join(''));
  });

  test('--dry-run prints the shipped YAML and needs no cluster', async () => {
    const dry = await runKoncli(['crd', 'install', '--dry-run', '--kubeconfig', '/nonexistent']);
    exitedWith(dry, 0);
    expect(dry.stdout).toBe(CRD_FILES.map((f) => readFileSync(f, 'utf8').trimEnd()).join('\n---\n') + '\n');
    const applied = await runCommand(KUBECTL, ['--kubeconfig', admin, 'apply', '--dry-run=server', '-f', '-'], { input: dry.stdout });
    exitedWith(applied, 0);
  });

  test('the server rejects bad specs', async () => {
    const cases: [string, RegExp][] = [
      ['{ttl: abc}', /spec\.ttl.*should match/],
      ['{ttl: 15m, priority: x}', /spec\.priority.*must be of type integer/],
      ['{ttl: 15m, renewable: "yes"}', /spec\.renewable.*must be of type boolean/],
      ['{ttl: "-5m"}', /spec\.ttl.*should match/],
      ['{priority: 1}', /spec\.ttl.*Required value/],
    ];
    for (const [spec, message] of cases) {
      const r = await kubectl(['apply', '-f', '-'], leaseYaml('bad-spec', spec));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
    expect((await kubectl(['get', 'leases.konductor.io', 'bad-spec'])).code).not.toBe(0);
  });
});

describe('the seed examples as scripts of koncli commands', () => {
  test('singleton CronJob (ttl: 2h): the second run finds the lease busy (exit 3)', async () => {
    await apply(leaseYaml('nightly-report', '{ttl: 2h}'));
    const job = `$KONCLI lease acquire nightly-report -n "$NS" --timeout 0 --json`;
    const first = await bash(job, { KONCLI_HOLDER: 'nightly-report-28461000-abcde' });
    exitedWith(first, 0);
    expect(json(first.stdout)).toMatchObject({ outcome: 'acquired', ttlSeconds: 7200, holder: 'nightly-report-28461000-abcde' });
    const second = await bash(job, { KONCLI_HOLDER: 'nightly-report-28461060-fghij' });
    exitedWith(second, 3);
    expect(json(second.stdout).error).toMatchObject({ kind: 'busy', holder: 'nightly-report-28461000-abcde' });
    expect(await jsonpath('nightly-report', '.status.holder')).toBe('nightly-report-28461000-abcde');
    expect(await jsonpath('nightly-report', '.spec.ttl')).toBe('2h');
  });

  test('database migration (priority: 10), parallel Job of 3: one at a time, exactly one migrates, all finish', async () => {
    await apply(leaseYaml('db-migration', '{ttl: 1m, priority: 10, renewable: true}'));
    const dir = scratch('konductor-migrate-');
    const worker = `
      $KONCLI lease acquire db-migration -n "$NS" --wait --timeout 90s >/dev/null
      mkdir "$DIR/inside" || echo "OVERLAP $KONCLI_HOLDER" >> "$DIR/log"
      if [ -e "$DIR/migrated" ]; then echo "skip $KONCLI_HOLDER" >> "$DIR/log"
      else echo "migrate $KONCLI_HOLDER" >> "$DIR/log"; sleep 1; touch "$DIR/migrated"; fi
      rmdir "$DIR/inside"
      $KONCLI lease release db-migration -n "$NS" >/dev/null`;
    const pods = ['migrate-x7k2p', 'migrate-q9w3z', 'migrate-m4n8v'];
    const results = await Promise.all(pods.map((pod) => bash(worker, { KONCLI_HOLDER: pod, DIR: dir })));
    for (const r of results) expect(r).toMatchObject({ code: 0, stderr: '' });
    const log = readFileSync(join(dir, 'log'), 'utf8').trim().split('\n');
    expect(log.filter((l) => l.startsWith('OVERLAP'))).toEqual([]);
    expect(log.filter((l) => l.startsWith('migrate'))).toHaveLength(1);
    expect(log.filter((l) => l.startsWith('skip'))).toHaveLength(2);
    expect(new Set(log.map((l) => l.split(' ')[1]))).toEqual(new Set(pods));
    const status = json((await konductor('lease', 'status', 'db-migration', '--json')).stdout);
    expect(status).toMatchObject({ holder: '', phase: 'Available', priority: 10, transitions: 3, waiters: [] });
  }, 180_000);

  test('one-time init (renewable: false): renewing is refused (exit 4)', async () => {
    const created = await konductor('lease', 'acquire', 'init-schema', '--holder', 'init-pod', '--ttl', '10m', '--renewable=false', '--timeout', '0', '--json');
    exitedWith(created, 0);
    expect(json(created.stdout)).toMatchObject({ renewable: false, ttlSeconds: 600 });
    expect(await jsonpath('init-schema', '.spec')).toBe('{"priority":0,"renewable":false,"ttl":"10m"}');
    const renew = await konductor('lease', 'renew', 'init-schema', '--holder', 'init-pod', '--json');
    exitedWith(renew, 4);
    expect(json(renew.stdout).error).toMatchObject({ kind: 'lost', renewable: false });
    // The spec decides, whatever a later acquirer's flags default to.
    await apply(leaseYaml('init-once', '{ttl: 10m, renewable: false}'));
    await exits(konductor('lease', 'acquire', 'init-once', '--holder', 'init-pod', '--timeout', '0'), 0);
    await exits(konductor('lease', 'renew', 'init-once', '--holder', 'init-pod'), 4);
    expect(await jsonpath('init-once', '.status.renewals')).toBe('0');
  });
});

describe('contention', () => {
  test('5 processes on one Lease: every holder change passes through free, never two holders', async () => {
    await apply(leaseYaml('contended', '{ttl: 1m}'));
    const rv = await jsonpath('contended', '.metadata.resourceVersion');
    const holders: string[] = [];
    const watch = await new Watch(adminConfig()).watch(
      `/apis/konductor.io/v1/namespaces/${ns}/leases`,
      { fieldSelector: 'metadata.name=contended', resourceVersion: rv },
      (type, obj) => {
        if (type === 'ADDED' || type === 'MODIFIED') holders.push(obj.status?.holder ?? '');
      },
      () => {},
    );
    const dir = scratch('konductor-contend-');
    const worker = `
      for round in 1 2 3; do
        $KONCLI lease acquire contended -n "$NS" --wait --timeout 150s >/dev/null
        mkdir "$DIR/inside" || echo "OVERLAP $KONCLI_HOLDER" >> "$DIR/log"
        echo "$KONCLI_HOLDER $round" >> "$DIR/log"
        sleep 0.2
        rmdir "$DIR/inside"
        $KONCLI lease release contended -n "$NS" >/dev/null
      done`;
    const workers = ['w1', 'w2', 'w3', 'w4', 'w5'];
    try {
      const results = await Promise.all(workers.map((w) => bash(worker, { KONCLI_HOLDER: w, DIR: dir })));
      for (const r of results) expect(r).toMatchObject({ code: 0, stderr: '' });
      await new Promise((r) => setTimeout(r, 1000)); // let the watch deliver the last release
    } finally {
      watch.abort();
    }
    const log = readFileSync(join(dir, 'log'), 'utf8').trim().split('\n');
    expect(log.filter((l) => l.startsWith('OVERLAP'))).toEqual([]);
    expect(log).toHaveLength(15);
    // Collapse repeated states (queue heartbeats, renewals) into the sequence of holders.
    const changes = holders.filter((h, i) => i === 0 || h !== holders[i - 1]);
    for (let i = 1; i < changes.length; i++) {
      expect({ from: changes[i - 1], to: changes[i], direct: changes[i - 1] !== '' && changes[i] !== '' }).toMatchObject({ direct: false });
    }
    const takes = changes.filter((h) => h !== '');
    expect(takes).toHaveLength(15);
    for (const w of workers) expect(takes.filter((h) => h === w)).toHaveLength(3);
    expect(changes.at(-1)).toBe('');
  }, 240_000);
});

describe('kubectl and koncli side by side', () => {
  test('kubectl shows the holder koncli wrote', async () => {
    await exits(konductor('lease', 'acquire', 'shown', '--holder', 'pod-xyz-123', '--timeout', '0'), 0);
    expect(await jsonpath('shown', '.status.holder')).toBe('pod-xyz-123');
    expect(await jsonpath('shown', '.status.phase')).toBe('Held');
    const table = await kubectl(['get', 'leases.konductor.io', 'shown']);
    expect(table.stdout).toMatch(/^NAME\s+HOLDER\s+PHASE\s+EXPIRES\s+AGE\n/);
    expect(table.stdout).toMatch(/^shown\s+pod-xyz-123\s+Held\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+\d+s$/m);
  });

  test("expiry is judged on the observer's clock: koncli says Expired while kubectl still shows the writer's Held", async () => {
    await exits(konductor('lease', 'acquire', 'short', '--holder', 'gone', '--ttl', '2s', '--timeout', '0'), 0);
    // A one-shot ends a claim early only when the server's write time and the writer's own expiry
    // (status.expires, whole seconds, + the allowed skew) agree: 2 s + < 1 s + 1 s (docs/clock.md).
    await new Promise((r) => setTimeout(r, 4500));
    const status = json((await exits(konductor('lease', 'status', 'short', '--json', '--max-clock-skew', '1s'), 0)).stdout);
    expect(status).toMatchObject({ holder: 'gone', phase: 'Expired', ttlSeconds: 2 });
    expect(await jsonpath('short', '.status.phase')).toBe('Held');
    const taken = await exits(konductor('lease', 'acquire', 'short', '--holder', 'next', '--timeout', '0', '--json', '--max-clock-skew', '1s'), 0);
    expect(json(taken.stdout)).toMatchObject({ outcome: 'acquired', previousHolder: 'gone' });
  });

  test('a kubectl force release is respected: another holder acquires at once', async () => {
    await exits(konductor('lease', 'acquire', 'stuck', '--holder', 'crashed-pod', '--ttl', '1h', '--timeout', '0'), 0);
    await exits(konductor('lease', 'acquire', 'stuck', '--holder', 'rescuer', '--timeout', '0'), 3);
    const patch = await kubectl([
      'patch',
      'leases.konductor.io',
      'stuck',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"phase":"Available","holder":""}}',
    ]);
    exitedWith(patch, 0);
    const status = json((await konductor('lease', 'status', 'stuck', '--json')).stdout);
    expect(status).toMatchObject({ holder: '', phase: 'Available' });
    const taken = await konductor('lease', 'acquire', 'stuck', '--holder', 'rescuer', '--timeout', '0', '--json');
    exitedWith(taken, 0);
    expect(json(taken.stdout)).toMatchObject({ outcome: 'acquired', previousHolder: null, ttlSeconds: 3600 });
    await exits(konductor('lease', 'renew', 'stuck', '--holder', 'crashed-pod'), 4);
  });

  test('kubectl apply of the seed YAML: the server drops status on create; applied to /status, koncli reads it', async () => {
    const seed = leaseYaml(
      'seeded',
      '{ttl: 15m, priority: 10, renewable: true}',
      '{holder: pod-xyz-123, acquired: "2024-01-15T10:30:00Z", expires: "2024-01-15T10:45:00Z", phase: Held, renewals: 0, conditions: [{type: Ready, status: "True", reason: LeaseReady}]}',
    );
    await apply(seed);
    expect(await jsonpath('seeded', '.status')).toBe('');
    const free = await konductor('lease', 'status', 'seeded', '--json');
    exitedWith(free, 0);
    expect(json(free.stdout)).toMatchObject({ holder: '', phase: 'Available', ttlSeconds: 900, priority: 10, renewable: true });

    const toStatus = await kubectl(['apply', '--server-side', '--subresource=status', '-f', '-'], seed);
    exitedWith(toStatus, 0);
    const held = json((await konductor('lease', 'status', 'seeded', '--json')).stdout);
    // The 2024 timestamps are shown but not trusted: the claim runs ttl from when the server took it.
    expect(held).toMatchObject({ holder: 'pod-xyz-123', phase: 'Held', acquireTime: '2024-01-15T10:30:00.000Z', renewals: 0, ttlSeconds: 900 });
    expect(held.expiresInSeconds).toBeGreaterThan(880);
    expect(held.expiresInSeconds).toBeLessThanOrEqual(901);
    await exits(konductor('lease', 'acquire', 'seeded', '--holder', 'other', '--timeout', '0'), 3);
  });

  test('a malformed status is reported (exit 9) and never overwritten', async () => {
    await exits(konductor('lease', 'acquire', 'mangled', '--holder', 'pod-a', '--timeout', '0'), 0);
    for (const bad of ['{"renewals":"x"}', '{"holder":42}', '{"acquired":"yesterday"}']) {
      const patched = await kubectl(['patch', 'leases.konductor.io', 'mangled', '--subresource=status', '--type=merge', '-p', `{"status":${bad}}`]);
      exitedWith(patched, 0);
      const before = await jsonpath('mangled', '.metadata.resourceVersion');
      const attempts = [
        ['lease', 'status', 'mangled'],
        ['lease', 'acquire', 'mangled', '--holder', 'pod-b', '--timeout', '0'],
        ['lease', 'acquire', 'mangled', '--holder', 'pod-a', '--timeout', '0'],
        ['lease', 'renew', 'mangled', '--holder', 'pod-a'],
        ['lease', 'release', 'mangled', '--holder', 'pod-a', '--force'],
      ];
      for (const args of attempts) {
        const r = await konductor(...args, '--json');
        expect({ args, code: r.code, stderr: r.stderr }).toMatchObject({ args, code: 9 });
        expect(json(r.stdout).error).toMatchObject({ kind: 'corrupt', field: `status.${Object.keys(JSON.parse(bad))[0]}` });
      }
      const listing = await exits(konductor('lease', 'status'), 0);
      expect(listing.stdout).toMatch(/^mangled\s+\S+\s+corrupt\s/m);
      expect(await jsonpath('mangled', '.metadata.resourceVersion')).toBe(before);
      const fix = await kubectl([
        'patch',
        'leases.konductor.io',
        'mangled',
        '--subresource=status',
        '--type=merge',
        '-p',
        `{"status":${bad.replace(/:.*}/, ':null}')}}`,
      ]);
      exitedWith(fix, 0);
      await kubectl([
        'patch',
        'leases.konductor.io',
        'mangled',
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"holder":"pod-a","acquired":"2024-01-15T10:30:00Z"}}',
      ]);
    }
    expect(json((await konductor('lease', 'status', 'mangled', '--json')).stdout)).toMatchObject({ holder: 'pod-a' });
  }, 120_000);
});

describe('least privilege', () => {
  test('the restricted user with the documented konductor Role uses konductor Leases', async () => {
    const own = await freshNamespace('konductor-rbac');
    const manifest = readFileSync(ROLE_FILE, 'utf8')
      .replace(/^(\s*namespace:\s*)koncli\s*$/gm, `$1${own}`)
      .replace(
        /- kind: ServiceAccount\n\s+name: koncli\n\s+namespace: \S+/,
        `- kind: User\n    apiGroup: rbac.authorization.k8s.io\n    name: ${RESTRICTED_USER}`,
      );
    const applied = await runCommand(KUBECTL, ['--kubeconfig', admin, 'apply', '-f', '-'], { input: manifest });
    expect(applied).toMatchObject({ code: 0 });
    const canI = () =>
      runCommand(KUBECTL, ['--kubeconfig', admin, '-n', own, 'auth', 'can-i', 'patch', 'leases.konductor.io', '--subresource=status', '--as', RESTRICTED_USER]);
    for (let i = 0; (await canI()).stdout.trim() !== 'yes'; i++) {
      if (i > 100) throw new Error('the konductor Role never took effect');
      await new Promise((r) => setTimeout(r, 100));
    }
    const as = (...args: string[]) => runKoncli([...args, '--kind', 'konductor', ...clusterArgs(restrictedKubeconfigPath(), own)]);
    const acquired = await as('lease', 'acquire', 'rbac-lease', '--holder', 'a', '--timeout', '0', '--json');
    expect(acquired.stderr).toBe('');
    exitedWith(acquired, 0);
    await exits(as('lease', 'renew', 'rbac-lease', '--holder', 'a', '--ttl', '2m'), 0);
    // A waiter registers its candidate (a native Lease the Role grants) and watches; the release hands it the lease.
    const waiter = as('lease', 'acquire', 'rbac-lease', '--holder', 'b', '--wait', '--timeout', '60s', '--json');
    for (let i = 0; !(await waiterIds(adminConfig(), own, 'rbac-lease', 'Lease.konductor.io')).includes('b'); i++) {
      if (i > 300) throw new Error('the waiter never queued');
      await new Promise((r) => setTimeout(r, 100));
    }
    await exits(as('lease', 'release', 'rbac-lease', '--holder', 'a'), 0);
    const got = await waiter;
    expect(got.stderr).toBe('');
    expect(json(got.stdout)).toMatchObject({ holder: 'b', outcome: 'acquired' });
    expect((await as('lease', 'status')).stdout).toMatch(/rbac-lease\s+b\s+held/);
    await exits(as('lease', 'release', 'rbac-lease', '--holder', 'b', '--force', '--delete'), 0);
    expect(await waiterIds(adminConfig(), own, 'rbac-lease', 'Lease.konductor.io')).toEqual([]); // b deleted its candidate
    // The same Role covers konductor's other primitives (their CRDs come with `crd install`, above).
    await exits(as('mutex', 'lock', 'rbac-mutex', '--holder', 'a', '--timeout', '0'), 0);
    await exits(as('mutex', 'unlock', 'rbac-mutex', '--holder', 'a'), 0);
    await exits(as('barrier', 'create', 'rbac-barrier', '--expected', '1'), 0);
    await exits(as('barrier', 'arrive', 'rbac-barrier', 'a'), 0);
  }, 120_000);
});
