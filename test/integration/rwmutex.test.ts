// `koncli rwmutex` on the real API server through the real CLI: konductor's verbs, flags and usage
// patterns as its docs/cli/rwmutex.md shows them, the stored format (docs/formats.md), exit codes,
// foreign objects left alone; under contention (20 `rwmutex run` readers and writers: no writer
// overlaps anyone, readers overlap each other), writer preference (a writer is not starved by a
// stream of readers) and a SIGKILLed waiting writer that stops blocking readers once its record lapses.
import { CoreV1Api } from '@kubernetes/client-node';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterArgs, runAsKoncliScript, runKoncli } from '../support/cli.js';
import { until } from '../support/poll.js';
import { cleanup, startKoncli, workDir, type Proc } from '../reliability/support.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

let ns: string;
let admin: string;
const shell = (script: string, env?: Record<string, string>) => runAsKoncliScript(admin, ns, script, env);
const core = () => adminConfig().makeApiClient(CoreV1Api);
const koncli = (...args: string[]) => runKoncli([...args, ...clusterArgs(admin, ns)], { timeoutMs: 120_000 });
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;
const recordOf = async (name: string) =>
  JSON.parse((await core().readNamespacedConfigMap({ name, namespace: ns })).metadata!.annotations!['koncli.dev/rwmutex']) as Record<string, unknown>;

/**
 * A section for `rwmutex run`: appends "start ID MODE T" and, HOLD seconds later, "end ID MODE T" to
 * LOG, T from the system-wide monotonic clock (process.hrtime, CLOCK_MONOTONIC) in ns.
 */
function sectionScript(dir: string): string {
  const path = join(dir, 'section.mjs');
  writeFileSync(
    path,
    [
      "import { appendFileSync } from 'node:fs';",
      'const [log, id, hold] = process.argv.slice(2);',
      'const mark = (what) => appendFileSync(log, `${what} ${id} ${process.env.KONCLI_RWMUTEX_MODE} ${process.hrtime.bigint()}\\n`);',
      "mark('start');",
      "setTimeout(() => mark('end'), Number(hold) * 1000);",
    ].join('\n'),
  );
  return path;
}

interface Interval {
  id: string;
  mode: string;
  start: bigint;
  end: bigint;
}

function intervalsOf(log: string): Interval[] {
  const open = new Map<string, { mode: string; start: bigint }>();
  const done: Interval[] = [];
  for (const line of readFileSync(log, 'utf8').split('\n').filter(Boolean)) {
    const [what, id, mode, t] = line.split(' ');
    if (what === 'start') open.set(id, { mode, start: BigInt(t) });
    else done.push({ id, mode, start: open.get(id)!.start, end: BigInt(t) });
  }
  return done;
}

const overlap = (a: Interval, b: Interval) => a.start < b.end && b.start < a.end;

const run = (name: string, id: string, mode: 'read' | 'write', section: string, log: string, hold: string): Proc =>
  startKoncli(ns, ['rwmutex', 'run', name, `--${mode}`, '--holder', id, '--wait', '--ttl', '10s', '--', process.execPath, section, log, id, hold]);

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('rwmutex');
});
afterAll(cleanup);

describe("konductor's rwmutex verbs (docs/cli/rwmutex.md)", () => {
  test('create --ttl, rlock ×2, a try-lock busy (exit 3), unlock, lock, status -o json, list, delete', async () => {
    expect((await koncli('rwmutex', 'create', 'cache-lock', '--ttl', '5m')).code).toBe(0);
    const cm = await core().readNamespacedConfigMap({ name: 'cache-lock', namespace: ns });
    expect(cm.metadata!.labels).toMatchObject({ 'koncli.dev/primitive': 'rwmutex', 'app.kubernetes.io/managed-by': 'koncli' });
    expect(await recordOf('cache-lock')).toEqual({ ttlSeconds: 300, writer: null, readers: [], waitingWriters: [], fencingToken: null });

    const r1 = await koncli('rwmutex', 'rlock', 'cache-lock', '--holder', 'reader-1', '--json');
    expect(r1.code).toBe(0);
    expect(json(r1.stdout)).toMatchObject({ kind: 'rwmutex', name: 'cache-lock', holder: 'reader-1', mode: 'read', state: 'held', ttlSeconds: 300 });
    expect((await koncli('rwmutex', 'rlock', 'cache-lock', '--holder', 'reader-2')).code).toBe(0);
    const tryLock = await koncli('rwmutex', 'lock', 'cache-lock', '--holder', 'writer-1', '--timeout', '0');
    expect(tryLock.code).toBe(3);
    expect(tryLock.stderr).toMatch(/^koncli: error: rwmutex cache-lock is read-locked by reader-1 .*reader-2/m);
    const timedOut = await koncli('rwmutex', 'lock', 'cache-lock', '--holder', 'writer-1', '--timeout', '2s', '--json');
    expect(json(timedOut.stdout)).toMatchObject({ error: { kind: 'busy', exitCode: 3, waitingWriters: ['writer-1'] } });
    expect((await recordOf('cache-lock')).waitingWriters).toEqual([]); // the writer that gave up withdrew its waiting record
    const status = json((await koncli('rwmutex', 'status', 'cache-lock', '-o', 'json')).stdout);
    expect(status).toMatchObject({ kind: 'rwmutex', state: 'held', phase: 'ReadLocked', holder: null, holders: ['reader-1', 'reader-2'], waitingWriters: [] });
    const listed = await koncli('rwmutex', 'list');
    expect(listed.stdout.trim()).toMatch(/^NAME\s+STATE\s+PHASE\s+WRITER\s+READERS\s+WAITING\ncache-lock\s+held\s+ReadLocked\s+<none>\s+2\s+<none>$/);
    expect((await koncli('rwmutex', 'delete', 'cache-lock')).code).toBe(3); // still read-locked

    expect((await koncli('rwmutex', 'unlock', 'cache-lock', '--holder', 'reader-1')).code).toBe(0);
    expect((await koncli('rwmutex', 'unlock', 'cache-lock', '--holder', 'reader-2')).code).toBe(0);
    const unlocked = (await core().readNamespacedConfigMap({ name: 'cache-lock', namespace: ns })).metadata!.resourceVersion;
    const w = await koncli('rwmutex', 'lock', 'cache-lock', '--holder', 'writer-1', '--timeout', '30s', '--json');
    expect(json(w.stdout)).toMatchObject({ mode: 'write', outcome: 'acquired', fencingToken: unlocked }); // guarded on it
    expect((await koncli('rwmutex', 'rlock', 'cache-lock', '--holder', 'reader-1', '--timeout', '0')).code).toBe(3);
    expect((await koncli('rwmutex', 'unlock', 'cache-lock', '--holder', 'reader-1')).code).toBe(5); // writer-1 holds it
    expect((await koncli('rwmutex', 'unlock', 'cache-lock', '--holder', 'writer-1')).code).toBe(0);
    expect(json((await koncli('rwmutex', 'unlock', 'cache-lock', '--holder', 'writer-1', '--json')).stdout)).toMatchObject({ outcome: 'already-free' });
    expect((await koncli('rwmutex', 'delete', 'cache-lock')).code).toBe(0);
    expect((await koncli('rwmutex', 'status', 'cache-lock')).code).toBe(6);
  });

  test("a writer's fencing token keeps growing across a delete --force and re-create; a reader gets the last writer's", async () => {
    const lock = async (verb: string, holder: string) => {
      const r = await koncli('rwmutex', verb, 'fenced-rw', '--holder', holder, '--timeout', '0', '--json');
      expect(r.code).toBe(0);
      return json(r.stdout).fencingToken as string;
    };
    const first = await lock('lock', 'writer-a');
    expect((await koncli('rwmutex', 'delete', 'fenced-rw', '--force')).code).toBe(0); // writer-a keeps `first`
    expect(await lock('rlock', 'reader-b')).toBe('0'); // re-created: no writer yet
    expect((await koncli('rwmutex', 'unlock', 'fenced-rw', '--holder', 'reader-b')).code).toBe(0);
    const second = await lock('lock', 'writer-c');
    expect(BigInt(second)).toBeGreaterThan(BigInt(first));
    expect((await koncli('rwmutex', 'unlock', 'fenced-rw', '--holder', 'writer-c')).code).toBe(0);
    expect(await lock('rlock', 'reader-d')).toBe(second);
    expect(await recordOf('fenced-rw')).toMatchObject({ writer: null, fencingToken: second });
  });

  test("the docs' cache coordination example runs unchanged", async () => {
    // konductor's cli/examples/rwmutex-cache-coordination.sh, its echo lines kept, the cleanup trap left out.
    const out = await shell(`
      set -euo pipefail
      RWMUTEX_NAME="cache-rwmutex"
      koncli rwmutex delete $RWMUTEX_NAME 2>/dev/null || true
      koncli rwmutex create $RWMUTEX_NAME --ttl 5m
      pids=()
      for i in {1..3}; do
        (
          koncli rwmutex rlock $RWMUTEX_NAME --holder "reader-$i" --timeout 10s
          echo "Reader $i: Reading from cache..."
          sleep 2
          koncli rwmutex unlock $RWMUTEX_NAME --holder "reader-$i"
          echo "Reader $i: Released read lock"
        ) &
        pids+=($!)
      done
      sleep 1
      koncli rwmutex lock $RWMUTEX_NAME --holder "writer-1" --timeout 30s
      echo "Writer: Updating cache..."
      sleep 2
      koncli rwmutex unlock $RWMUTEX_NAME --holder "writer-1"
      echo "Writer: Released write lock"
      for pid in "\${pids[@]}"; do
        if ! wait $pid; then
          echo "Error: Background process $pid failed" >&2
          exit 1
        fi
      done
      koncli rwmutex delete "$RWMUTEX_NAME"`);
    const lines = out.split('\n').filter(Boolean);
    expect(lines.filter((l) => / Reading from cache| Released read lock/.test(l))).toHaveLength(6);
    expect(lines.filter((l) => l.startsWith('Writer: '))).toEqual(['Writer: Updating cache...', 'Writer: Released write lock']);
  });

  test('a ConfigMap that is not a koncli rwmutex is refused (exit 9) and left unchanged; bad input exits 2', async () => {
    await core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'app-config' }, data: { k: 'v' } } });
    const r = await koncli('rwmutex', 'rlock', 'app-config', '--holder', 'x');
    expect(r.code).toBe(9);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const after = await core().readNamespacedConfigMap({ name: 'app-config', namespace: ns });
    expect(after.metadata!.annotations).toBeUndefined();
    expect(after.data).toEqual({ k: 'v' });
    for (const args of [
      ['rwmutex', 'run', 'ok', '--', 'true'],
      ['rwmutex', 'run', 'ok', '--read', '--write', '--', 'true'],
      ['rwmutex', 'lock', 'Bad_Name'],
      ['rwmutex', 'rlock', 'ok', '--timeout', 'soon'],
    ]) {
      const bad = await koncli(...args);
      expect([bad.code, bad.stderr.trim().split('\n').length]).toEqual([2, 1]);
    }
    expect((await koncli('rwmutex', 'status', 'ok')).code).toBe(6); // nothing was created
  });
});

describe('rwmutex under contention', () => {
  test('20 concurrent runs (6 writers, 14 readers): no writer overlaps anyone, readers overlap, all run', async () => {
    const dir = workDir('rwmutex-run');
    const section = sectionScript(dir);
    const log = join(dir, 'sections.log');
    const modes = Array.from({ length: 20 }, (_, i) => (i % 10 < 3 ? 'write' : 'read'));
    const procs = modes.map((mode, i) => run('shared', `${mode[0]}${i}`, mode, section, log, mode === 'write' ? '0.2' : '0.8'));
    const results = await Promise.all(procs.map((p) => p.done));
    expect(results.map((r) => r.code)).toEqual(Array(20).fill(0));
    const intervals = intervalsOf(log);
    expect(intervals).toHaveLength(20);
    const writers = intervals.filter((s) => s.mode === 'write');
    const readers = intervals.filter((s) => s.mode === 'read');
    expect(writers).toHaveLength(6);
    const clashes = writers.flatMap((w) => intervals.filter((o) => o !== w && overlap(w, o)).map((o) => `${w.id} overlaps ${o.id}`));
    expect(clashes).toEqual([]);
    expect(readers.some((a) => readers.some((b) => a !== b && overlap(a, b)))).toBe(true);
  });

  test('writer preference: a writer is not starved by a stream of readers', async () => {
    const dir = workDir('rwmutex-stream');
    const section = sectionScript(dir);
    const log = join(dir, 'sections.log');
    const stream: Proc[] = [];
    let writer: Proc | undefined;
    // Readers arrive every 300 ms and read 1.5 s each, so without writer preference the rwmutex would be read-locked throughout.
    for (let i = 0; i < 12; i++) {
      stream.push(run('stream', `r${i}`, 'read', section, log, '1.5'));
      if (i === 2) {
        await until('the first reader to read', () => readFileSync(log, { encoding: 'utf8', flag: 'a+' }).includes('start r0 '), 60_000);
        writer = run('stream', 'w', 'write', section, log, '0.2');
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    const results = await Promise.all([writer!, ...stream].map((p) => p.done));
    expect(results.map((r) => r.code)).toEqual(Array(13).fill(0));
    const intervals = intervalsOf(log);
    const w = intervals.find((s) => s.id === 'w')!;
    expect(intervals.filter((o) => o !== w && overlap(w, o))).toEqual([]);
    // Readers that came after the writer waited behind it: the writer did not wait for the stream to dry up.
    expect(intervals.filter((s) => s.mode === 'read' && s.start > w.end).length).toBeGreaterThan(0);
  });

  test('a SIGKILLed waiting writer blocks new readers only until its waiting record lapses', async () => {
    expect((await koncli('rwmutex', 'rlock', 'orphaned', '--holder', 'long-reader', '--ttl', '5m')).code).toBe(0);
    const writer = startKoncli(ns, ['rwmutex', 'lock', 'orphaned', '--holder', 'doomed', '--wait', '--ttl', '3s']);
    await until(
      'the writer to be recorded as waiting',
      async () => ((await recordOf('orphaned')).waitingWriters as { holder: string }[]).some((c) => c.holder === 'doomed'),
      60_000,
    );
    writer.signal('SIGKILL');
    await writer.done;
    expect((await koncli('rwmutex', 'rlock', 'orphaned', '--holder', 'late', '--timeout', '0')).code).toBe(3);
    const late = await koncli('rwmutex', 'rlock', 'orphaned', '--holder', 'late', '--timeout', '60s', '--json');
    expect(late.code).toBe(0);
    expect(json(late.stdout).waitedMs).toBeGreaterThan(0);
    expect(json((await koncli('rwmutex', 'status', 'orphaned', '--json')).stdout)).toMatchObject({ holders: ['long-reader', 'late'], waitingWriters: [] });
  });

  test('run --read renews its lock past its TTL; a --force unlock of it stops the command and koncli exits 4', async () => {
    const dir = workDir('rwmutex-lost');
    const section = sectionScript(dir);
    const log = join(dir, 'sections.log');
    const reader = startKoncli(ns, [
      'rwmutex',
      'run',
      'renewed',
      '--read',
      '--holder',
      'victim',
      '--ttl',
      '3s',
      '--json',
      '--',
      process.execPath,
      section,
      log,
      'long',
      '60',
    ]);
    await until('the section to start', () => readFileSync(log, { encoding: 'utf8', flag: 'a+' }).includes('start long '), 60_000);
    await new Promise((r) => setTimeout(r, 4_000)); // past the 3s TTL: kept by its renewals (counted below)
    expect(json((await koncli('rwmutex', 'status', 'renewed', '--json')).stdout)).toMatchObject({ state: 'held', holders: ['victim'] });
    expect((await koncli('rwmutex', 'unlock', 'renewed', '--force', '--if-holder', 'victim', '--holder', 'operator')).code).toBe(0);
    const r = await reader.done;
    expect(r.code).toBe(4);
    expect(json(r.stdout)).toMatchObject({ kind: 'rwmutex', name: 'renewed', outcome: 'lost', exitCode: 4, mode: 'read' });
    expect(json(r.stdout).renewals).toBeGreaterThan(0);
  });
});
