// One rule for absent things, the same for every kind (issue 22): releasing your own claim that is
// already gone is idempotent (exit 0, "outcome": "already-free"), so cleanup after a crash succeeds;
// a --force that broke nothing is not success (exit 6 when the object does not exist, 5 when nobody
// held it). Each case changes nothing on the cluster.
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { clusterArgs, runKoncli } from '../support/cli.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

let ns: string;
let admin: string;
const koncli = (...args: string[]) => runKoncli([...args, '--json', ...clusterArgs(admin, ns)]);
const configMaps = () => adminConfig().makeApiClient(CoreV1Api);

/** A kind: how to make an object nobody holds, release one's own claim, and force-break one. */
interface Kind {
  kind: string;
  /** Makes `name` exist with nobody holding it. */
  free: (name: string) => Promise<void>;
  release: (name: string) => string[];
  force: (name: string) => string[];
}

const KINDS: Kind[] = [
  {
    kind: 'lease',
    free: async (name) => {
      expect((await koncli('lease', 'acquire', name, '--holder', 'me')).code).toBe(0);
      expect((await koncli('lease', 'release', name, '--holder', 'me')).code).toBe(0);
    },
    release: (name) => ['lease', 'release', name, '--holder', 'me'],
    force: (name) => ['lease', 'release', name, '--holder', 'operator', '--force'],
  },
  {
    kind: 'semaphore',
    free: async (name) => {
      expect((await koncli('semaphore', 'lock', name, '--holder', 'other', '--create', '--max', '2')).code).toBe(0);
    },
    release: (name) => ['semaphore', 'unlock', name, '--holder', 'me'],
    force: (name) => ['semaphore', 'unlock', name, '--force', '--if-holder', 'me'],
  },
  {
    kind: 'kubelock',
    free: async (name) => void (await configMaps().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } })),
    release: (name) => ['kubelock', 'annotate', `cm/${name}`, '--lock', 'L', '--owner', 'me', '--release'],
    force: (name) => ['kubelock', 'annotate', `cm/${name}`, '--lock', 'L', '--owner', 'operator', '--release', '--force'],
  },
  {
    kind: 'mutex',
    free: async (name) => {
      expect((await koncli('mutex', 'create', name)).code).toBe(0);
    },
    release: (name) => ['mutex', 'unlock', name, '--holder', 'me'],
    force: (name) => ['mutex', 'unlock', name, '--holder', 'operator', '--force'],
  },
  {
    kind: 'rwmutex',
    free: async (name) => {
      expect((await koncli('rwmutex', 'create', name)).code).toBe(0);
    },
    release: (name) => ['rwmutex', 'unlock', name, '--holder', 'me'],
    force: (name) => ['rwmutex', 'unlock', name, '--holder', 'operator', '--force'],
  },
];

/** Every object of the namespace with its resourceVersion: what "nothing changed" is checked against. */
const snapshot = async () => {
  const cms = (await configMaps().listNamespacedConfigMap({ namespace: ns })).items.map((c) => `cm/${c.metadata!.name}@${c.metadata!.resourceVersion}`);
  const leases = (await adminConfig().makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: ns })).items.map(
    (l) => `lease/${l.metadata!.name}@${l.metadata!.resourceVersion}`,
  );
  return [...cms, ...leases].sort();
};

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('absent-things');
});

describe.each(KINDS)('$kind: absent things', (k) => {
  test('the object does not exist: your own release is already-free (exit 0); a force is exit 6; nothing is created', async () => {
    const name = `${k.kind}-missing`;
    const before = await snapshot();
    const own = await koncli(...k.release(name));
    expect({ code: own.code, stderr: own.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(own.stdout)).toMatchObject({ outcome: 'already-free' });
    const forced = await koncli(...k.force(name));
    expect(forced.code).toBe(6);
    expect(JSON.parse(forced.stdout).error).toMatchObject({ kind: 'not-found', exitCode: 6 });
    // An operator who mistyped -n must see where koncli looked (it said "in namespace this namespace").
    expect(JSON.parse(forced.stdout).error.message).toContain(`namespace ${ns}`);
    expect(await snapshot()).toEqual(before);
  });

  test('nobody holds it: your own release is already-free (exit 0); a force is exit 5; nothing is written', async () => {
    const name = `${k.kind}-free`;
    await k.free(name);
    const before = await snapshot();
    const own = await koncli(...k.release(name));
    expect({ code: own.code, stderr: own.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(own.stdout)).toMatchObject({ outcome: 'already-free' });
    const forced = await koncli(...k.force(name));
    expect(forced.code).toBe(5);
    expect(JSON.parse(forced.stdout).error).toMatchObject({ kind: 'not-held', exitCode: 5 });
    expect(await snapshot()).toEqual(before);
  });
});

test('a mistyped namespace: listings say which namespace they found nothing in (as kubectl does), exit 0, nothing created', async () => {
  const typo = `${ns}-typo`;
  const before = await snapshot();
  for (const [args, noun] of [
    [['status'], 'locks'],
    [['lease', 'status'], 'leases'],
    [['semaphore', 'status'], 'semaphores'],
    [['mutex', 'list'], 'mutex'],
  ] as const) {
    const listed = await runKoncli([...args, ...clusterArgs(admin, typo)]);
    expect({ code: listed.code, stdout: listed.stdout.trim() }).toEqual({
      code: 0,
      stdout: expect.stringMatching(new RegExp(`^No ${noun}.* found in namespace ${typo}\\.$`)),
    });
  }
  expect(await snapshot()).toEqual(before);
});
