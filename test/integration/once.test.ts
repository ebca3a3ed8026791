// `koncli once` on the real API server through the real CLI: konductor's verbs (docs/cli/once.md)
// and its scripts' greps, `once check`'s exit codes, and `once run` from 10 processes running the
// command exactly once even when the first runner is SIGKILLed mid-way (with its command, or only
// koncli: then the watchdog stops the command before anyone else's starts).
import { CoreV1Api } from '@kubernetes/client-node';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterArgs, runKoncli, KONCLI_COMMAND } from '../support/cli.js';
import { until } from '../support/poll.js';
import { guard, processesOf } from '../support/processes.js';
import { checkExclusion, cleanup, linesOf, sectionScript, sectionStarted, startKoncli, workDir } from '../reliability/support.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

let ns: string;
let admin: string;
const core = () => adminConfig().makeApiClient(CoreV1Api);
const koncli = (...args: string[]) => {
  const dash = args.indexOf('--');
  const [own, command] = dash < 0 ? [args, []] : [args.slice(0, dash), args.slice(dash)];
  return runKoncli([...own, ...clusterArgs(admin, ns), ...command], { timeoutMs: 120_000 });
};
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('once');
});
afterAll(cleanup);

describe("konductor's once verbs (docs/cli/once.md)", () => {
  test('create --ttl, check (exit 3, then 0) in the words its scripts grep for, list, delete', async () => {
    expect((await koncli('once', 'create', 'app-init', '--ttl', '1h')).code).toBe(0);
    const cm = await core().readNamespacedConfigMap({ name: 'app-init', namespace: ns });
    expect(JSON.parse(cm.metadata!.annotations!['koncli.dev/once'])).toEqual({
      ttlSeconds: 3600,
      runner: null,
      done: null,
      attempts: 0,
      lastFailure: null,
      fencingToken: null,
    });
    const before = await koncli('once', 'check', 'app-init');
    expect(before.code).toBe(3);
    expect(before.stdout).toMatch(/not been executed/);
    expect(before.stdout).not.toMatch(/has been executed/);
    expect((await koncli('once', 'run', 'app-init', '--', 'true')).code).toBe(0);
    const after = await koncli('once', 'check', 'app-init');
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/has been executed/);
    const listed = await koncli('once', 'list');
    expect(listed.stdout).toMatch(/^app-init\s+done\s+\S+\s+\S+Z\s+1$/m);
    expect((await koncli('once', 'delete', 'app-init')).code).toBe(0);
    expect((await koncli('once', 'check', 'app-init')).code).toBe(6);
  });

  test("the docs' one-time setup script runs the setup once across two runs", async () => {
    const dir = workDir('once-script');
    const marker = join(dir, 'setup.log');
    const script = `
      k() { $KONCLI --kubeconfig "${admin}" -n "${ns}" "$@"; }
      k once create app-setup >/dev/null 2>&1
      if ! k once check app-setup 2>/dev/null | grep -q "has been executed"; then
        k once run app-setup -- sh -c 'echo setup >> "${marker}"' >/dev/null
      fi`;
    const { execFileSync } = await import('node:child_process');
    for (let i = 0; i < 2; i++) execFileSync('sh', ['-c', script], { env: { ...process.env, KONCLI: KONCLI_COMMAND, NO_COLOR: '1' }, stdio: 'ignore' });
    expect(linesOf(marker)).toEqual(['setup']);
  });
});

describe('once run', () => {
  test('10 processes: the command runs to completion exactly once, even when the first runner is SIGKILLed mid-way', async () => {
    const dir = workDir('once-run');
    const log = join(dir, 'runs.log');
    const cmd = ['sh', '-c', 'echo "start $KONCLI_HOLDER" >> "$0"; sleep 5; echo "done $KONCLI_HOLDER" >> "$0"', log];
    const first = startKoncli(ns, ['once', 'run', 'migrate', '--holder', 'r0', '--ttl', '4s', '--json', '--', ...cmd]);
    await until('the first runner to start', () => linesOf(log).includes('start r0'));
    const others = Array.from({ length: 9 }, (_, i) =>
      startKoncli(ns, ['once', 'run', 'migrate', '--holder', `r${i + 1}`, '--ttl', '4s', '--json', '--', ...cmd]),
    );
    first.signal('SIGKILL'); // mid-way (its command sleeps 5 s): koncli and its process group
    for (const pid of processesOf('r0')) process.kill(pid, 'SIGKILL'); // and its command, wherever it went
    appendFileSync(log, 'killed r0\n');
    const results = await Promise.all(others.map((p) => p.done));
    expect((await first.done).signal).toBe('SIGKILL');
    expect(results.map((r) => r.code)).toEqual(Array(9).fill(0));
    const lines = linesOf(log);
    const completed = lines.filter((l) => l.startsWith('done '));
    expect(completed).toHaveLength(1);
    const winner = completed[0].slice('done '.length);
    expect(lines.filter((l) => l.startsWith('start '))).toEqual(['start r0', `start ${winner}`]);
    const docs = results.map((r) => json(r.stdout));
    expect(docs.filter((d) => d.ran === true)).toEqual([
      expect.objectContaining({ holder: winner, outcome: 'completed', exitCode: 0, fencingToken: expect.stringMatching(/^\d+$/) }),
    ]);
    expect(docs.filter((d) => d.outcome === 'already-done')).toHaveLength(8);
    const status = json((await koncli('once', 'status', 'migrate', '--json')).stdout);
    expect(status).toMatchObject({ kind: 'once', state: 'done', executed: true, holder: winner, exitCode: 0, attempts: 2 });
  });

  test("only the first runner's koncli SIGKILLed (not its command): the watchdog stops the command before anyone else's starts; it completes exactly once", async () => {
    const dir = workDir('once-deadman');
    const section = sectionScript(dir, { endOnTerm: true });
    const log = join(dir, 'sections.log');
    const holder = `dm0-${ns}`; // unique: no process of another run counts
    const runnerOf = async () =>
      (JSON.parse((await core().readNamespacedConfigMap({ name: 'deadman', namespace: ns })).metadata!.annotations!['koncli.dev/once']).runner?.holder ??
        '') as string;
    const run = (h: string) => startKoncli(ns, ['once', 'run', 'deadman', '--holder', h, '--ttl', '4s', '--json', '--', section, log, h, '5']);
    const first = run(holder);
    await until('the first command to start', () => sectionStarted(log, holder));
    const watch = guard(holder, runnerOf);
    const others = Array.from({ length: 4 }, (_, i) => run(`dm${i + 1}`));
    process.kill(first.child.pid!, 'SIGKILL'); // koncli alone: its command (5 s) runs on until the watchdog stops it
    const results = await Promise.all(others.map((p) => p.done));
    expect((await first.done).signal).toBe('SIGKILL');
    const report = await watch.stop();
    expect(results.map((r) => r.code)).toEqual(Array(4).fill(0));
    const check = checkExclusion(log);
    expect(check).toMatchObject({ overlaps: [], malformed: [], duplicates: [] });
    expect(check.sections).toHaveLength(2);
    const winner = check.sections[1].id;
    expect(check.sections[0].id).toBe(holder);
    expect(check.sections[0].end - check.sections[0].start).toBeLessThan(5000); // stopped, not completed
    expect(report).toMatchObject({ violations: 0 });
    expect(report.goneAt).toBeDefined();
    expect(report.goneAt!).toBeLessThanOrEqual(check.sections[1].start);
    const docs = results.map((r) => json(r.stdout));
    expect(docs.filter((d) => d.ran === true)).toEqual([expect.objectContaining({ holder: winner, outcome: 'completed', exitCode: 0 })]);
    expect(docs.filter((d) => d.outcome === 'already-done')).toHaveLength(3);
    expect(json((await koncli('once', 'status', 'deadman', '--json')).stdout)).toMatchObject({ state: 'done', holder: winner, exitCode: 0, attempts: 2 });
  });

  test('a failing run is recorded and the next caller runs it again; status says who, when, with what exit code', async () => {
    const failed = await koncli('once', 'run', 'flaky', '--holder', 'f1', '--', 'sh', '-c', 'exit 7');
    expect(failed.code).toBe(7);
    const pending = json((await koncli('once', 'status', 'flaky', '--json')).stdout);
    expect(pending).toMatchObject({ state: 'failed', executed: false, attempts: 1, lastFailure: { holder: 'f1', exitCode: 7 } });
    const ok = await koncli('once', 'run', 'flaky', '--holder', 'f2', '--', 'true');
    expect(ok.code).toBe(0);
    const third = await koncli('once', 'run', 'flaky', '--holder', 'f3', '--', 'false');
    expect(third.code).toBe(0);
    expect(third.stderr).toMatch(/once flaky was already done by f2 .*; not running the command/);
    const text = (await koncli('once', 'status', 'flaky')).stdout;
    expect(text).toMatch(/State:\s+done/);
    expect(text).toMatch(/Holder:\s+f2/);
    expect(text).toMatch(/Finished:\s+\S+Z \(exit 0\)/);
  });

  test("each runner's KONCLI_FENCING_TOKEN is greater than the last, also after the once was deleted and run again", async () => {
    const tokenOf = async (holder: string, exit: number) => {
      const r = await koncli(
        'once',
        'run',
        'fenced-once',
        '--holder',
        holder,
        '--json',
        '--',
        'sh',
        '-c',
        `echo "token=$KONCLI_FENCING_TOKEN" >&2; exit ${exit}`,
      );
      expect(r.code).toBe(exit);
      const printed = /token=(\d+)/.exec(r.stderr)![1];
      expect(json(r.stdout).fencingToken).toBe(printed);
      return BigInt(printed);
    };
    const first = await tokenOf('o1', 3); // fails: the next caller runs it again
    const second = await tokenOf('o2', 0);
    expect(second).toBeGreaterThan(first);
    expect((await koncli('once', 'delete', 'fenced-once')).code).toBe(0);
    expect(await tokenOf('o3', 0)).toBeGreaterThan(second);
  });
});
