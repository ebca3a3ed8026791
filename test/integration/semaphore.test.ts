// `koncli semaphore` against the real API server: kube-lock's format and scenario, race-freedom
// under 20 concurrent lockers (checked by an independent watch), corrupt annotations left alone,
// other ConfigMap content preserved, TTL expiry, and the documented RBAC.
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { clusterArgs, collect, runKoncli, spawnKoncli } from '../support/cli.js';
import { sleep } from '../support/poll.js';
import { History } from '../reliability/support.js';
import { adminConfig, adminKubeconfigPath, bindRestricted, freshNamespace, restrictedKubeconfigPath } from './helpers.js';

const KUBE_LOCK_EXAMPLE = '{"max":1,"holders":{"holder-1":{"date":"2018-08-19T19:14:24Z","reason":"db restart"}}}';

let ns: string;
let admin: string;
const core = () => adminConfig().makeApiClient(CoreV1Api);
const koncli = (...args: string[]) => runKoncli([...args, ...clusterArgs(admin, ns)]);
const json = (stdout: string) => JSON.parse(stdout);
const readCm = (name: string) => core().readNamespacedConfigMap({ name, namespace: ns });
const annotationOf = async (name: string) => (await readCm(name)).metadata?.annotations?.['kube-lock'];
const holdersOf = async (name: string) => Object.keys(JSON.parse((await annotationOf(name))!).holders);

async function createCm(
  name: string,
  annotations: Record<string, string>,
  extra: Omit<V1ConfigMap, 'metadata'> & { labels?: Record<string, string> } = {},
): Promise<V1ConfigMap> {
  const { labels, ...rest } = extra;
  return core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, annotations, labels }, ...rest } });
}

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('semaphore');
});

describe('semaphore lock / unlock / status on the real API server', () => {
  test("kube-lock's scenario: holder-1 locks max 1, holder-2 times out (exit 3) by watching, holder-1 unlocks, holder-2 locks", async () => {
    const missing = await koncli('semaphore', 'lock', 'lock', '--holder', 'holder-1', '--max', '1');
    expect(missing.code).toBe(6);
    expect(missing.stderr).toMatch(/add --create/);

    const first = await koncli('semaphore', 'lock', 'lock', '--holder', 'holder-1', '--create', '--max', '1', '--reason', 'db restart', '--json');
    expect(first.code).toBe(0);
    expect(json(first.stdout)).toMatchObject({ semaphore: 'lock', holder: 'holder-1', outcome: 'acquired', created: true, max: 1 });
    const written = JSON.parse((await annotationOf('lock'))!);
    expect(written).toEqual({ max: 1, holders: { 'holder-1': { date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), reason: 'db restart' } } });

    const second = await koncli('semaphore', 'lock', 'lock', '--holder', 'holder-2', '--wait', '--timeout', '3s', '-v');
    expect(second.code).toBe(3);
    expect(second.ms).toBeGreaterThanOrEqual(3000);
    const errors = second.stderr.split('\n').filter((l) => l.includes('error:'));
    expect(errors).toEqual([expect.stringContaining('semaphore lock is full: 1/1 held by holder-1 (db restart) (waited 3s)')]);
    // Waiting is a watch: one read of the ConfigMap in three seconds, no poll loop.
    expect(second.stderr.match(new RegExp(`GET /api/v1/namespaces/${ns}/configmaps/lock\\n`, 'g'))).toHaveLength(1);

    const unlocked = await koncli('semaphore', 'unlock', 'lock', '--holder', 'holder-1');
    expect(unlocked.code).toBe(0);
    expect(await annotationOf('lock')).toBe('{"max":1,"holders":{}}');

    const third = await koncli('semaphore', 'lock', 'lock', '--holder', 'holder-2', '--json');
    expect(third.code).toBe(0);
    expect(await holdersOf('lock')).toEqual(['holder-2']);
  });

  test('a waiter takes the slot as soon as the holder unlocks', async () => {
    await koncli('semaphore', 'lock', 'handover', '--holder', 'a', '--create');
    const waiter = collect(spawnKoncli(['semaphore', 'lock', 'handover', '--holder', 'b', '--wait', '--timeout', '30s', '--json', ...clusterArgs(admin, ns)]));
    await sleep(1500);
    expect((await koncli('semaphore', 'unlock', 'handover', '--holder', 'a')).code).toBe(0);
    const unlockedAt = Date.now();
    const result = await waiter;
    expect(result.code).toBe(0);
    expect(Date.now() - unlockedAt).toBeLessThan(2000);
    expect(json(result.stdout)).toMatchObject({ outcome: 'acquired', holders: ['b'] });
  });

  test("an annotation written in kube-lock's format (with its old date) is honoured; other annotations, labels and data stay byte for byte", async () => {
    const data = { 'config.yaml': 'a: 1\nb: "two"  \n\tindent\n', 'unicode.txt': 'ünïcødé ✓ \u0000 end', empty: '' };
    const binaryData = { blob: Buffer.from([0, 1, 2, 254, 255]).toString('base64') };
    const others = {
      'example.com/owner': 'team-db',
      'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"shared"}}\n',
      'example.com/notes': '  leading and trailing spaces, "quotes", \\backslashes\\ and ünïcødé  ',
    };
    await createCm('shared', { ...others, 'kube-lock': KUBE_LOCK_EXAMPLE }, { data, binaryData, labels: { app: 'db' } });
    const before = await readCm('shared');

    const busy = await koncli('semaphore', 'lock', 'shared', '--holder', 'holder-2', '--json');
    expect(busy.code).toBe(3);
    expect(json(busy.stdout).error).toMatchObject({ kind: 'busy', holders: ['holder-1'], max: 1, exitCode: 3 });

    const status = json((await koncli('semaphore', 'status', 'shared', '--json')).stdout);
    expect(status).toMatchObject({ max: 1, inUse: 1, free: 0 });
    expect(status.holders).toEqual([
      {
        holder: 'holder-1',
        reason: 'db restart',
        date: '2018-08-19T19:14:24Z',
        ageSeconds: expect.any(Number),
        ttlSeconds: null,
        expires: null,
        expiresAt: null,
        expiresInSeconds: null,
        expired: false,
        alive: null,
        aliveReason: 'unknown: no Pod in any namespace and no Node is named holder-1; it may be a process outside the cluster',
      },
    ]);
    expect(status.holders[0].ageSeconds).toBeGreaterThan(5 * 365 * 86400);
    // No TTL and nobody judged dead: not stuck; the break command names the holder.
    expect(status).toMatchObject({ stuck: false, breakCommand: `koncli semaphore unlock shared -n ${ns} --force --if-holder holder-1` });

    expect((await koncli('semaphore', 'unlock', 'shared', '--holder', 'holder-1')).code).toBe(0);
    expect((await koncli('semaphore', 'lock', 'shared', '--holder', 'holder-2', '--reason', 'mine')).code).toBe(0);
    const after = await readCm('shared');
    expect(JSON.parse(after.metadata!.annotations!['kube-lock'])).toEqual({ max: 1, holders: { 'holder-2': { date: expect.any(String), reason: 'mine' } } });
    const { 'kube-lock': _a, ...otherBefore } = before.metadata!.annotations!;
    const { 'kube-lock': _b, ...otherAfter } = after.metadata!.annotations!;
    expect(JSON.stringify(otherAfter)).toBe(JSON.stringify(otherBefore));
    expect(JSON.stringify(after.data)).toBe(JSON.stringify(before.data));
    expect(after.data).toEqual(data);
    expect(after.binaryData).toEqual(binaryData);
    expect(after.metadata?.labels).toEqual({ app: 'db' });
    // koncli's field manager owns the kube-lock annotation and nothing else.
    const mine = after.metadata?.managedFields?.find((m) => m.manager === 'koncli');
    expect(mine?.fieldsV1).toEqual({ 'f:metadata': { 'f:annotations': { 'f:kube-lock': {} } } });
  });

  test.each([
    ['invalid JSON', '{"max":1,"holders":'],
    ['max not a positive integer', '{"max":0,"holders":{}}'],
    ['max a string', '{"max":"2","holders":{}}'],
    ['holders not an object', '{"max":2,"holders":["a","b"]}'],
  ])('a corrupt annotation (%s) is reported with exit 9 and left untouched', async (_what, value) => {
    const name = `corrupt-${Math.random().toString(36).slice(2, 8)}`;
    const created = await createCm(name, { 'kube-lock': value });
    const runs = [
      await koncli('semaphore', 'lock', name, '--holder', 'a', '--create', '--json'),
      await koncli('semaphore', 'lock', name, '--holder', 'a', '--wait', '--timeout', '2s'),
      await koncli('semaphore', 'unlock', name, '--holder', 'a'),
      await koncli('semaphore', 'unlock', name, '--force', '--if-holder', 'a'),
      await koncli('semaphore', 'status', name),
    ];
    for (const run of runs) {
      expect(run.code).toBe(9);
      expect(run.stderr).toMatch(new RegExp(`semaphore ${name}: annotation kube-lock=.* koncli leaves it untouched`));
    }
    expect(json(runs[0].stdout).error).toMatchObject({ kind: 'corrupt', exitCode: 9, annotation: 'kube-lock' });
    const after = await readCm(name);
    expect(after.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    expect(after.metadata?.annotations?.['kube-lock']).toBe(value);

    const list = await koncli('semaphore', 'status', '--json');
    expect(list.code).toBe(0);
    expect(json(list.stdout).items).toContainEqual(
      expect.objectContaining({ kind: 'semaphore', name, namespace: ns, problem: expect.stringContaining('untouched') }),
    );
  });

  test('locking again as a holder changes nothing; --ttl refreshes only the expiry; --max must match unless --set-max', async () => {
    await koncli('semaphore', 'lock', 'again', '--holder', 'h', '--create', '--max', '2', '--reason', 'first');
    const rv = (await readCm('again')).metadata?.resourceVersion;
    const again = await koncli('semaphore', 'lock', 'again', '--holder', 'h', '--reason', 'second', '--json');
    expect(json(again.stdout)).toMatchObject({ outcome: 'already-held' });
    expect((await readCm('again')).metadata?.resourceVersion).toBe(rv);

    const before = JSON.parse((await annotationOf('again'))!).holders.h;
    const refreshed = await koncli('semaphore', 'lock', 'again', '--holder', 'h', '--ttl', '1h', '--json');
    expect(json(refreshed.stdout)).toMatchObject({ outcome: 'refreshed', ttlSeconds: 3600 });
    const after = JSON.parse((await annotationOf('again'))!).holders.h;
    expect(after).toEqual({ date: before.date, reason: 'first', ttlSeconds: 3600, expires: expect.any(String) });

    const mismatch = await koncli('semaphore', 'lock', 'again', '--holder', 'x', '--max', '3');
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/has max 2 .*--set-max/);
    expect((await koncli('semaphore', 'lock', 'again', '--holder', 'x', '--max', '3', '--set-max')).code).toBe(0);
    expect((await koncli('semaphore', 'lock', 'again', '--holder', 'y')).code).toBe(0);
    // Lowering the max evicts nobody, and admits nobody new until enough leave.
    const lowered = await koncli('semaphore', 'lock', 'again', '--holder', 'z', '--max', '1', '--set-max');
    expect(lowered.code).toBe(3);
    const doc = JSON.parse((await annotationOf('again'))!);
    expect(doc.max).toBe(1);
    expect(Object.keys(doc.holders).sort()).toEqual(['h', 'x', 'y']);
  });

  test('a --ttl holder that never unlocks frees its slot after the TTL', async () => {
    const held = await koncli('semaphore', 'lock', 'ttl', '--holder', 'crashed', '--create', '--ttl', '3s', '--json');
    expect(held.code).toBe(0);
    const heldUntil = Date.parse(json(held.stdout).heldUntil); // the holder's own deadline, on this machine's clock
    const stored = JSON.parse((await annotationOf('ttl'))!).holders.crashed;
    expect(stored).toMatchObject({ ttlSeconds: 3, expires: expect.any(String) });
    const next = collect(spawnKoncli(['semaphore', 'lock', 'ttl', '--holder', 'next', '--wait', '--timeout', '30s', '--json', ...clusterArgs(admin, ns)]));
    await sleep(heldUntil - 300 - Date.now());
    expect(await holdersOf('ttl')).toEqual(['crashed']); // nobody took the slot before the holder's TTL ran out
    const result = await next;
    expect(result.code).toBe(0);
    expect(Date.now() - heldUntil).toBeLessThan(10_000); // TTL + 1 s of Date-header precision + start-up on a busy machine
    expect(await holdersOf('ttl')).toEqual(['next']); // the lapsed holder was removed by that write
  });

  test("a koncli mutex's ConfigMap is not a semaphore: lock, create and run refuse it (exit 9), nothing written", async () => {
    expect((await koncli('mutex', 'create', 'a-mutex')).code).toBe(0);
    const before = (await readCm('a-mutex')).metadata?.resourceVersion;
    for (const args of [
      ['semaphore', 'lock', 'a-mutex', '--holder', 'x', '--max', '1'],
      ['semaphore', 'create', 'a-mutex', '--permits', '2'],
      ['semaphore', 'run', 'a-mutex', '--max', '1', '--holder', 'x', ...clusterArgs(admin, ns), '--', 'true'],
    ]) {
      const refused = args.includes('--') ? await runKoncli(args) : await koncli(...args);
      expect({ code: refused.code, stderr: refused.stderr }).toEqual({
        code: 9,
        stderr: `koncli: error: configmap a-mutex in namespace ${ns} is a koncli mutex, not a semaphore; koncli leaves it alone: choose another name\n`,
      });
    }
    expect((await readCm('a-mutex')).metadata?.resourceVersion).toBe(before);
  });

  test('unlock --force of a lapsed slot warns about the slot it removed, not about the operator', async () => {
    expect((await koncli('semaphore', 'lock', 'lapsed', '--holder', 'lapsed-pod', '--create', '--max', '2', '--ttl', '1s')).code).toBe(0);
    await sleep(5_000); // past the holder's own expiry plus the allowed skew below (and a second of Date-header precision)
    const forced = await koncli('semaphore', 'unlock', 'lapsed', '--force', '--if-holder', 'lapsed-pod', '--holder', 'operator', '--max-clock-skew', '1s');
    expect(forced.code).toBe(0);
    expect(forced.stderr).toBe('koncli: warning: the slot of lapsed-pod had already lapsed (its --ttl ran out) before this unlock\n');
  });

  test('unlock --force removes another holder and records an Event naming who and whom', async () => {
    await koncli('semaphore', 'lock', 'forced', '--holder', 'stuck-pod', '--create', '--max', '2');
    expect((await koncli('semaphore', 'unlock', 'forced', '--force')).code).toBe(2); // --force needs --if-holder or --dead
    expect((await koncli('semaphore', 'unlock', 'forced', '--holder', 'stuck-pod', '--force')).code).toBe(2); // --holder names the operator, never a victim
    const missing = await koncli('semaphore', 'unlock', 'forced', '--force', '--if-holder', 'nobody', '--json');
    expect(missing.code).toBe(5);
    expect(json(missing.stdout).error).toMatchObject({ kind: 'not-held', exitCode: 5 });
    const forced = await runKoncli(['semaphore', 'unlock', 'forced', '--force', '--if-holder', 'stuck-pod', '--json', ...clusterArgs(admin, ns)], {
      env: { KONCLI_HOLDER: 'operator-jane' },
    });
    expect(forced.code).toBe(0);
    expect(json(forced.stdout)).toMatchObject({ holder: 'operator-jane', removed: ['stuck-pod'], forced: true, holders: [] });
    const events = await core().listNamespacedEvent({ namespace: ns });
    const event = events.items.find((e) => e.involvedObject?.name === 'forced' && e.reason === 'ForceUnlocked');
    expect(event?.involvedObject).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
    expect(event?.message).toBe('user koncli-admin as operator-jane force-removed holder stuck-pod from semaphore forced (koncli)');
  });

  test('status without NAME lists every semaphore in the namespace', async () => {
    await createCm('not-a-semaphore', { other: 'x' });
    const table = await koncli('semaphore', 'status');
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+HOLDER\(S\)\s+STATE\s+EXPIRES\s+LAST RENEWED\s+ALIVE\s+WAITERS\s+AGE$/);
    expect(lines.find((l) => l.startsWith('lock '))).toMatch(/^lock\s+holder-2\s+held 1\/1\s/);
    expect(table.stdout).not.toMatch(/not-a-semaphore/);
    const doc = json((await koncli('semaphore', 'status', '--json')).stdout);
    expect(doc.items.map((i: { name: string }) => i.name)).toEqual(expect.arrayContaining(['lock', 'shared', 'ttl', 'again']));
    expect((await koncli('semaphore', 'status', 'not-a-semaphore')).code).toBe(6);
  });

  test('20 concurrent lockers on max 3: an independent watch never sees more than 3 holders, and all 20 hold a slot', async () => {
    const name = 'crowd';
    await createCm(name, { 'kube-lock': '{"max":3,"holders":{}}' });
    // An independent recorder that resumes its watch from the last version it saw if the connection
    // drops (a loaded machine): a plain watch whose end went unnoticed once recorded nothing at all.
    const history = await History.start<V1ConfigMap>(`/api/v1/namespaces/${ns}/configmaps`, name);
    const versions = () =>
      history.versions
        .filter((v) => v.type === 'MODIFIED')
        .map((v) => ({ rv: v.object.metadata!.resourceVersion!, holders: Object.keys(JSON.parse(v.object.metadata!.annotations!['kube-lock']).holders) }));
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `worker-${i}`);
      const results = await Promise.all(
        ids.map(async (id) => {
          const lock = await runKoncli(['semaphore', 'lock', name, '--holder', id, '--wait', '--timeout', '100s', '--json', ...clusterArgs(admin, ns)], {
            timeoutMs: 110_000,
          });
          if (lock.code !== 0) return { id, lock, unlock: undefined };
          await sleep(300);
          const unlock = await koncli('semaphore', 'unlock', name, '--holder', id);
          return { id, lock, unlock };
        }),
      );
      for (const r of results) {
        expect({ id: r.id, code: r.lock.code, stderr: r.lock.code ? r.lock.stderr : '' }).toEqual({ id: r.id, code: 0, stderr: '' });
        expect(r.unlock?.code).toBe(0);
      }
      const final = await readCm(name);
      await history.caughtUp(final.metadata!.resourceVersion!);
      const seen = versions();
      expect(seen.at(-1)?.rv).toBe(final.metadata!.resourceVersion);
      expect(seen.length).toBe(40); // one write per lock and per unlock, every one seen
      expect(Math.max(...seen.map((v) => v.holders.length))).toBe(3);
      const everHeld = new Set(seen.flatMap((v) => v.holders));
      expect([...everHeld].sort()).toEqual([...ids].sort());
      expect(seen.at(-1)?.holders).toEqual([]);
    } finally {
      history.stop();
    }
  }, 150_000);
});

describe('semaphore with only the documented RBAC (docs/rbac/koncli-role.yaml)', () => {
  test('the restricted user can create, lock, wait, list, unlock and force-unlock', async () => {
    const rns = await freshNamespace('semaphore-rbac');
    await bindRestricted(rns);
    const restricted = (...args: string[]) =>
      runKoncli([...args, ...clusterArgs(restrictedKubeconfigPath(), rns)], { env: { KONCLI_HOLDER: 'restricted-op' } });

    expect((await restricted('semaphore', 'lock', 'gate', '--holder', 'a', '--create', '--max', '1', '--ttl', '1h')).code).toBe(0);
    const waiter = collect(
      spawnKoncli(['semaphore', 'lock', 'gate', '--holder', 'b', '--wait', '--timeout', '30s', ...clusterArgs(restrictedKubeconfigPath(), rns)]),
    );
    await sleep(1000);
    expect((await restricted('semaphore', 'unlock', 'gate', '--holder', 'a')).code).toBe(0);
    const waited = await waiter;
    expect(waited.code).toBe(0);
    expect(waited.stderr).not.toMatch(/forbidden|polling instead/);
    const status = await restricted('semaphore', 'status', '--json');
    expect(status.code).toBe(0);
    expect(json(status.stdout).items[0]).toMatchObject({ name: 'gate', max: 1, holders: [{ holder: 'b', state: 'held' }] });
    const forced = await restricted('semaphore', 'unlock', 'gate', '--force', '--if-holder', 'b');
    expect(forced.code).toBe(0);
    expect(forced.stderr).not.toMatch(/could not record/);
    // Elsewhere the user has no rights: a clear forbidden (exit 7).
    const denied = await runKoncli(['semaphore', 'status', ...clusterArgs(restrictedKubeconfigPath(), ns)]);
    expect(denied.code).toBe(7);
    expect(denied.stderr).toMatch(/list.*configmaps/);
  });
});
