// `koncli mutex` on the real API server through the real CLI: konductor's verbs and flags as its
// docs/cli/mutex.md shows them, the stored format (docs/formats.md), exit codes, foreign objects
// left alone, and `mutex run` under contention (no two sections overlap, fencing tokens increase)
// and losing its hold to a --force unlock, or its koncli frozen past the TTL (the watchdog stops the command).
import { CoreV1Api } from '@kubernetes/client-node';
import { join } from 'node:path';
import { clusterArgs, runKoncli } from '../support/cli.js';
import { sleep, until } from '../support/poll.js';
import { guard, processesOf } from '../support/processes.js';
import { checkExclusion, cleanup, secondSection, sectionScript, sectionStarted, startKoncli, workDir } from '../reliability/support.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

let ns: string;
let admin: string;
const core = () => adminConfig().makeApiClient(CoreV1Api);
const koncli = (...args: string[]) => runKoncli([...args, ...clusterArgs(admin, ns)], { timeoutMs: 120_000 });
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;
const recordOf = async (name: string) =>
  JSON.parse((await core().readNamespacedConfigMap({ name, namespace: ns })).metadata!.annotations!['koncli.dev/mutex']) as Record<string, unknown>;

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('mutex');
});
afterAll(cleanup);

describe("konductor's mutex verbs (docs/cli/mutex.md)", () => {
  test('create --ttl, lock, a second lock busy (exit 3), unlock by another (exit 5), unlock, status -o json, list, delete', async () => {
    expect((await koncli('mutex', 'create', 'file-writer', '--ttl', '5m')).code).toBe(0);
    const cm = await core().readNamespacedConfigMap({ name: 'file-writer', namespace: ns });
    expect(cm.metadata!.labels).toMatchObject({ 'koncli.dev/primitive': 'mutex', 'app.kubernetes.io/managed-by': 'koncli' });
    expect(await recordOf('file-writer')).toEqual({ ttlSeconds: 300, holder: null, fencingToken: null });

    const locked = await koncli('mutex', 'lock', 'file-writer', '--holder', 'pod-a', '--json');
    expect(locked.code).toBe(0);
    expect(json(locked.stdout)).toMatchObject({
      kind: 'mutex',
      namespace: ns,
      name: 'file-writer',
      holder: 'pod-a',
      state: 'held',
      ttlSeconds: 300,
      fencingToken: cm.metadata!.resourceVersion, // the version its grant was guarded on (docs/formats.md)
      waitedMs: 0,
    });
    expect(await recordOf('file-writer')).toMatchObject({ holder: { holder: 'pod-a', ttlSeconds: 300 }, fencingToken: cm.metadata!.resourceVersion });

    const tryLock = await koncli('mutex', 'lock', 'file-writer', '--holder', 'pod-b', '--timeout', '0');
    expect(tryLock.code).toBe(3);
    expect(tryLock.stderr).toMatch(/^koncli: error: mutex file-writer is held by pod-a/m);
    const waited = await koncli('mutex', 'lock', 'file-writer', '--holder', 'pod-b', '--wait', '--timeout', '2s', '--json');
    expect(waited.code).toBe(3);
    expect(json(waited.stdout)).toMatchObject({ error: { kind: 'busy', exitCode: 3, holder: 'pod-a' } });
    expect(json(waited.stdout).error).toMatchObject({
      message: expect.stringMatching(/ unless renewed \(waited 2s\); to break it safely: koncli mutex unlock file-writer -n \S+ --force --if-holder pod-a$/),
    });

    const notMine = await koncli('mutex', 'unlock', 'file-writer', '--holder', 'pod-b');
    expect(notMine.code).toBe(5);
    const status = await koncli('mutex', 'status', 'file-writer', '-o', 'json');
    expect(json(status.stdout)).toMatchObject({
      kind: 'mutex',
      state: 'held',
      holder: 'pod-a',
      fencingToken: cm.metadata!.resourceVersion,
      expiresAt: expect.any(String),
    });
    const listed = await koncli('mutex', 'list');
    expect(listed.stdout.trim()).toMatch(/^NAME\s+STATE\s+HOLDER\s+EXPIRES\nfile-writer\s+held\s+pod-a\s+\S+Z$/);

    expect((await koncli('mutex', 'unlock', 'file-writer', '--holder', 'pod-a')).code).toBe(0);
    const again = await koncli('mutex', 'unlock', 'file-writer', '--holder', 'pod-a', '--json');
    expect(json(again.stdout)).toMatchObject({ outcome: 'already-free' });
    expect((await koncli('mutex', 'delete', 'file-writer')).code).toBe(0);
    expect((await koncli('mutex', 'status', 'file-writer')).code).toBe(6);
  });

  test('fencing tokens keep growing across a delete --force and re-create (compared as integers: docs/formats.md)', async () => {
    const lock = async (holder: string) => {
      const r = await koncli('mutex', 'lock', 'fenced', '--holder', holder, '--json');
      expect(r.code).toBe(0);
      return BigInt(json(r.stdout).fencingToken as string);
    };
    const first = await lock('pod-a');
    expect((await koncli('mutex', 'delete', 'fenced')).code).toBe(3); // held
    expect((await koncli('mutex', 'delete', 'fenced', '--force')).code).toBe(0); // pod-a still thinks it holds, with `first`
    const second = await lock('pod-b'); // lock creates the mutex again
    expect(second).toBeGreaterThan(first);
    expect((await koncli('mutex', 'delete', 'fenced', '--force')).code).toBe(0);
    expect((await koncli('mutex', 'create', 'fenced')).code).toBe(0);
    const third = await lock('pod-c');
    expect(third).toBeGreaterThan(second);
    expect(await recordOf('fenced')).toMatchObject({ holder: { holder: 'pod-c' }, fencingToken: String(third) });
    expect(json((await koncli('mutex', 'status', 'fenced', '--json')).stdout)).toMatchObject({ holder: 'pod-c', fencingToken: String(third) });
  });

  test("a busy mutex's rule is judged, and worded, with the API server's write time from managedFields", async () => {
    expect((await koncli('mutex', 'lock', 'stamped', '--holder', 'pod-a', '--ttl', '60s')).code).toBe(0);
    const cm = await core().readNamespacedConfigMap({ name: 'stamped', namespace: ns });
    const owners = (cm.metadata!.managedFields ?? []).filter((e) => JSON.stringify(e.fieldsV1 ?? {}).includes('"f:koncli.dev/mutex"'));
    expect(owners.map((e) => e.manager)).toEqual(['koncli']);
    // Past the Date headers' and managedFields' 1 s precision, so two clocks can bound the hold below the observed rule.
    await sleep(3_500);
    const busy = await koncli('mutex', 'lock', 'stamped', '--holder', 'pod-b', '--timeout', '0', '--max-clock-skew', '0s', '--json');
    expect(busy.code).toBe(3);
    const { rule } = json(busy.stdout).error as { rule: string };
    expect(rule).toMatch(
      /^the API server stamped its last write \S+ \(at most\), its writer's own timestamp agrees|\(later than the server's write time says\)$/,
    );
    expect(rule).not.toMatch(/no managedFields/);
    const verbose = await koncli('mutex', 'lock', 'stamped', '--holder', 'pod-b', '--timeout', '0', '--max-clock-skew', '0s', '-v');
    expect(verbose.code).toBe(3);
    expect(verbose.stderr).toMatch(/API server stamped its last write|later than the server's write time says/);
    expect(verbose.stderr).not.toMatch(/no managedFields/);
  });

  test("the docs' try-lock and critical-section scripts run unchanged", async () => {
    const script = `
      set -e
      k() { "$@" --kubeconfig "${admin}" -n "${ns}" >/dev/null; }
      if k $KONCLI mutex lock my-mutex --holder h1 --timeout 0; then echo got; fi
      if k $KONCLI mutex lock my-mutex --holder h2 --timeout 0; then echo wrong; else echo "Lock busy, skipping"; fi
      k $KONCLI mutex unlock my-mutex --holder h1
      if k $KONCLI mutex lock my-mutex --holder h2 --wait --timeout 30s; then echo got2; k $KONCLI mutex unlock my-mutex --holder h2; fi`;
    const { KONCLI_COMMAND } = await import('../support/cli.js');
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync('sh', ['-c', script], {
      env: { ...process.env, KONCLI: KONCLI_COMMAND, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    expect(out.split('\n').filter(Boolean)).toEqual(['got', 'Lock busy, skipping', 'got2']);
  });

  test('a ConfigMap that is not a koncli mutex is refused (exit 9) and left unchanged; bad input exits 2', async () => {
    await core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'app-config' }, data: { k: 'v' } } });
    const r = await koncli('mutex', 'lock', 'app-config', '--holder', 'x');
    expect(r.code).toBe(9);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const after = await core().readNamespacedConfigMap({ name: 'app-config', namespace: ns });
    expect(after.metadata!.annotations).toBeUndefined();
    expect(after.data).toEqual({ k: 'v' });
    expect((await koncli('mutex', 'lock', 'Bad_Name')).code).toBe(2);
    expect((await koncli('mutex', 'lock', 'ok', '--ttl', 'soon')).code).toBe(2);
  });
});

describe('mutex run', () => {
  test('8 concurrent runs: sections never overlap, every one runs, fencing tokens strictly increase', async () => {
    const dir = workDir('mutex-run');
    const section = sectionScript(dir);
    const log = join(dir, 'sections.log');
    const procs = Array.from({ length: 8 }, (_, i) =>
      startKoncli(ns, ['mutex', 'run', 'critical', '--wait', '--ttl', '6s', '--', section, log, `s${i}`, '0.3']),
    );
    const results = await Promise.all(procs.map((p) => p.done));
    expect(results.map((r) => r.code)).toEqual(Array(8).fill(0));
    const check = checkExclusion(log);
    expect(check.sections).toHaveLength(8);
    expect(check.overlaps).toEqual([]);
    expect(check.malformed).toEqual([]);
    expect(check.tokenRegressions).toEqual([]);
  });

  test('a --force unlock makes the run lose its hold: the command is stopped and koncli exits 4', async () => {
    const dir = workDir('mutex-lost');
    const section = sectionScript(dir);
    const log = join(dir, 'sections.log');
    const runner = startKoncli(ns, ['mutex', 'run', 'breakable', '--holder', 'victim', '--ttl', '6s', '--json', '--', section, log, 'long', '60']);
    await until('the section to start', () => sectionStarted(log, 'long'));
    expect((await koncli('mutex', 'unlock', 'breakable', '--force', '--if-holder', 'victim', '--holder', 'operator')).code).toBe(0);
    const r = await runner.done;
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/mutex lost: mutex breakable is now held by nobody/);
    expect(json(r.stdout)).toMatchObject({ kind: 'mutex', name: 'breakable', outcome: 'lost', exitCode: 4 });
  });

  test('only koncli frozen (SIGSTOP) past the TTL while a second run waits: the watchdog stops the command before the second one starts', async () => {
    const dir = workDir('mutex-deadman');
    const section = sectionScript(dir, { endOnTerm: true });
    const log = join(dir, 'sections.log');
    const holder = `frozen-${ns}`; // unique: no process of another run counts
    const first = startKoncli(ns, ['mutex', 'run', 'deadman', '--holder', holder, '--ttl', '5s', '--json', '--', section, log, 'A', '120']);
    await until('section A', () => sectionStarted(log, 'A'));
    const watch = guard(holder, async () => ((await recordOf('deadman')).holder as { holder?: string } | null)?.holder ?? '');
    const second = secondSection(['mutex', 'run', 'deadman'], 'thawed', '5s', clusterArgs(admin, ns), section, log);
    await sleep(500); // B is waiting
    process.kill(first.child.pid!, 'SIGSTOP'); // koncli alone, not its command
    try {
      await until("B's section", () => sectionStarted(log, 'B'), 60_000);
      expect(processesOf(holder)).toEqual([]); // stopped by the watchdog while koncli is frozen
    } finally {
      process.kill(first.child.pid!, 'SIGCONT');
    }
    const a = await first.done;
    const b = await second;
    const report = await watch.stop();
    expect(a.code).toBe(4);
    expect(json(a.stdout)).toMatchObject({ kind: 'mutex', outcome: 'lost', exitCode: 4 });
    expect(b.code).toBe(0);
    expect(report).toMatchObject({ violations: 0 });
    const check = checkExclusion(log);
    expect(check).toMatchObject({ overlaps: [], malformed: [], duplicates: [], tokenRegressions: [] });
    expect(check.sections.map((s) => s.id)).toEqual(['A', 'B']);
    expect(report.goneAt).toBeDefined();
    expect(report.goneAt!).toBeLessThanOrEqual(check.sections[1].start);
  });
});

describe('list -A -l (every kind, one shared path: cli/primitive-command.ts)', () => {
  test('mutex list and once list across two namespaces: -A adds NAMESPACE and every namespace, -l narrows by labels', async () => {
    const ns2 = await freshNamespace('mutex-list');
    const team = `team=${ns}`; // unique to this run: other files' objects never match
    const made: [string, string, string][] = [
      ['mutex', ns, 'm-one'],
      ['mutex', ns2, 'm-two'],
      ['once', ns, 'o-one'],
      ['once', ns2, 'o-two'],
      ['once', ns2, 'o-unlabelled'],
    ];
    for (const [kind, namespace, name] of made) {
      expect((await runKoncli([kind, 'create', name, ...clusterArgs(admin, namespace)])).code).toBe(0);
      if (name.endsWith('unlabelled')) continue;
      const cm = await core().readNamespacedConfigMap({ name, namespace });
      cm.metadata!.labels = { ...cm.metadata!.labels, team: ns };
      await core().replaceNamespacedConfigMap({ name, namespace, body: cm });
    }
    const where = (stdout: string) =>
      (json(stdout).items as { kind: string; namespace: string; name: string }[]).map((i) => `${i.kind} ${i.namespace}/${i.name}`).sort();
    expect(where((await koncli('mutex', 'list', '-A', '-l', team, '--json')).stdout)).toEqual([`mutex ${ns2}/m-two`, `mutex ${ns}/m-one`].sort());
    expect(where((await koncli('once', 'list', '--all-namespaces', '--selector', team, '-o', 'json')).stdout)).toEqual(
      [`once ${ns2}/o-two`, `once ${ns}/o-one`].sort(),
    );
    expect(where((await runKoncli(['once', 'list', '-l', team, '--json', ...clusterArgs(admin, ns2)])).stdout)).toEqual([`once ${ns2}/o-two`]);
    expect(where((await runKoncli(['once', 'list', '--json', ...clusterArgs(admin, ns2)])).stdout)).toEqual([`once ${ns2}/o-two`, `once ${ns2}/o-unlabelled`]);
    const table = (await koncli('once', 'list', '-A', '-l', team)).stdout.trim().split('\n');
    expect(table[0]).toMatch(/^NAMESPACE\s+NAME\s+STATE\s+HOLDER\s+FINISHED\s+ATTEMPTS$/);
    expect(table).toHaveLength(3);
    expect(table.slice(1)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${ns}\\s+o-one\\s+pending\\s`)),
        expect.stringMatching(new RegExp(`^${ns2}\\s+o-two\\s+pending\\s`)),
      ]),
    );
    const none = await koncli('mutex', 'list', '-A', '-l', 'team=nobody');
    expect(none).toMatchObject({ code: 0, stdout: 'No mutex found.\n' });
  });
});
