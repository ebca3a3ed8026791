// The dead-man's switch of `lease run` (docs/lease-run.md, "The watchdog"): when koncli itself is
// killed (SIGKILL, as the OOM killer does) or frozen (SIGSTOP) while its command runs, the watchdog
// stops the command's whole tree — a nohup'd process that ignores SIGTERM and a setsid one included
// — before the lease could expire, so a second holder's section never overlaps any of it. The
// watchdog never outlives a run, and the command is likelier than koncli to be the OOM killer's pick.
import { CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterArgs, collect, KONCLI_ARGV, spawnKoncli, type CliResult } from '../support/cli.js';
import { readOrEmpty, sleep, until } from '../support/poll.js';
import { guard, isAlive, processesOf } from '../support/processes.js';
import { watchdogOf } from '../support/watchdog.mjs';
import { checkExclusion, History, secondSection, sectionScript, sectionStarted } from '../reliability/support.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

const TTL = '6s'; // renew deadline 4 s; the watchdog signals at 4.25 s and sends SIGKILL by 5.5 s (core/timing.ts)
let ns: string;
let admin: string;
let dir: string;
let section: string;
const leases = () => adminConfig().makeApiClient(CoordinationV1Api);
const holderOf = async (name: string) => (await leases().readNamespacedLease({ name, namespace: ns })).spec?.holderIdentity ?? '';

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('lease-run-deadman');
  dir = mkdtempSync(join(tmpdir(), 'koncli-deadman-'));
  section = sectionScript(dir, { endOnTerm: true });
});

afterAll(() => History.stopAll());

/**
 * `lease run NAME --json` for holder `holder` whose command starts a nohup'd loop that ignores
 * SIGTERM and a setsid sleep, says "tree ready", then runs section A of `log`. Its stderr is the
 * file `<log>.err`: the watchdog's line is written without blocking, which a socket (what
 * spawnKoncli's pipes are) does not allow, so there it is dropped (docs/lease-run.md).
 */
function holding(lease: string, holder: string, log: string): ChildProcess {
  const script = `nohup sh -c 'trap "" TERM; while :; do sleep 0.1; done' >/dev/null 2>&1 & setsid sleep 300 & echo "tree ready" >> "$L.tree"; exec "$S" "$L" A 120`;
  const args = ['lease', 'run', lease, '--holder', holder, '--ttl', TTL, '--json', ...clusterArgs(admin, ns), '--', 'sh', '-c', script];
  const stderr = openSync(`${log}.err`, 'w');
  try {
    return spawn(KONCLI_ARGV[0], [...KONCLI_ARGV.slice(1), ...args], {
      env: { ...process.env, NO_COLOR: '1', S: section, L: log },
      stdio: ['pipe', 'pipe', stderr],
    });
  } finally {
    closeSync(stderr);
  }
}

/** Starts holder A's run and waits until its section and whole tree run, and its watchdog is up. */
async function startFirst(lease: string, log: string): Promise<{ a: ChildProcess; done: Promise<CliResult>; watchdog: number; holder: string }> {
  const holder = `${lease}-a-${ns}`; // unique per run: no process of an earlier run counts
  const a = holding(lease, holder, log);
  const done = collect(a, Date.now(), { timeoutMs: 120_000 });
  await until('section A and its tree', () => sectionStarted(log, 'A') && readOrEmpty(`${log}.tree`).includes('tree ready'));
  const watchdog = watchdogOf(a.pid!);
  expect(watchdog).toBeDefined();
  return { a, done, watchdog: watchdog!, holder };
}

/** Holder B's `lease run --wait` of the same lease: a 2 s section (a plain one, no tree). */
const startSecond = (lease: string, log: string): Promise<CliResult> =>
  secondSection(['lease', 'run', lease], `${lease}-b`, TTL, clusterArgs(admin, ns), section, log);

/** The two sections never overlapped; A's last process was gone before B's section started. */
function expectExclusion(log: string, goneAt: number | undefined): void {
  const check = checkExclusion(log);
  expect(check).toMatchObject({ overlaps: [], malformed: [], duplicates: [], tokenRegressions: [] });
  expect(check.sections.map((s) => s.id)).toEqual(['A', 'B']);
  expect(goneAt).toBeDefined();
  expect(goneAt!).toBeLessThanOrEqual(check.sections[1].start);
}

describe('lease run: the watchdog stops the command when koncli cannot', () => {
  test('koncli killed by SIGKILL: the whole tree is stopped before the lease could expire; the next holder never overlaps it', async () => {
    const log = join(dir, 'kill.log');
    const first = await startFirst('dm-kill', log);
    const watch = guard(first.holder, () => holderOf('dm-kill'));
    const second = startSecond('dm-kill', log);
    await sleep(500); // B is waiting
    process.kill(first.a.pid!, 'SIGKILL');
    const a = await first.done; // its stdio closes once the tree and the watchdog are gone
    const b = await second;
    const report = await watch.stop();
    expect(a.signal).toBe('SIGKILL');
    expect(readOrEmpty(`${log}.err`)).toMatch(
      /koncli: error: koncli \(pid \d+\) ended while its command ran under lease .*dm-kill; the watchdog stopped the command and every process it started \(SIGTERM, then SIGKILL after/,
    );
    expect(b.code).toBe(0);
    expect(report).toMatchObject({ violations: 0 });
    expect(report.samples).toBeGreaterThan(0);
    expectExclusion(log, report.goneAt);
    expect(processesOf(first.holder)).toEqual([]);
    await until('the watchdog to exit', () => !isAlive(first.watchdog), 5000);
  });

  test('only koncli frozen (SIGSTOP) past the TTL: the watchdog stops the tree in time; koncli, resumed, exits 4 and writes nothing', async () => {
    const log = join(dir, 'stop.log');
    const first = await startFirst('dm-stop', log);
    const history = await History.start<V1Lease>(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, 'dm-stop');
    const watch = guard(first.holder, () => holderOf('dm-stop'));
    const second = startSecond('dm-stop', log);
    await sleep(500);
    process.kill(first.a.pid!, 'SIGSTOP');
    try {
      await until("B's section", () => sectionStarted(log, 'B'), 60_000);
      expect(processesOf(first.holder)).toEqual([]); // stopped by the watchdog while koncli is frozen
      await until('the watchdog to exit', () => !isAlive(first.watchdog), 5000);
    } finally {
      process.kill(first.a.pid!, 'SIGCONT');
    }
    const a = await first.done;
    const b = await second;
    const report = await watch.stop();
    expect(a.code).toBe(4);
    expect(JSON.parse(a.stdout)).toMatchObject({ outcome: 'lost', exitCode: 4 });
    expect(readOrEmpty(`${log}.err`)).toMatch(/confirmed no renewal of lease .*dm-stop in time .*; the watchdog stopped the command/);
    expect(b.code).toBe(0);
    expect(report).toMatchObject({ violations: 0 });
    expectExclusion(log, report.goneAt);
    // From B's claim on, the lease names B until B's own release: nothing from A, resumed meanwhile.
    const holders = history.objects().map((l) => l.spec?.holderIdentity ?? '');
    const fromB = holders.slice(holders.indexOf('dm-stop-b'));
    expect(fromB.length).toBeGreaterThan(0);
    expect(fromB.slice(0, -1).every((h) => h === 'dm-stop-b')).toBe(true);
    expect(fromB.at(-1)).toBe('');
  });

  test('a normal run: the command is likelier than koncli to be the OOM killer pick; the watchdog exits with the run', async () => {
    const out = join(dir, 'oom.txt');
    const child = spawnKoncli(
      [
        'lease',
        'run',
        'dm-normal',
        '--ttl',
        TTL,
        ...clusterArgs(admin, ns),
        '--',
        'sh',
        '-c',
        'cat /proc/$$/oom_score_adj > "$O"; while [ ! -e "$O.go" ]; do sleep 0.05; done',
      ],
      { env: { O: out } },
    );
    const done = collect(child);
    await until('the command', () => readOrEmpty(out) !== '');
    const watchdog = watchdogOf(child.pid!);
    expect(watchdog).toBeDefined();
    const konclis = Number(readFileSync(`/proc/${child.pid}/oom_score_adj`, 'utf8'));
    const watchdogs = Number(readFileSync(`/proc/${watchdog}/oom_score_adj`, 'utf8'));
    const commands = Number(readOrEmpty(out));
    expect(commands).toBeGreaterThan(konclis);
    expect(commands).toBeGreaterThan(watchdogs);
    writeFileSync(`${out}.go`, ''); // the command ends once told
    expect((await done).code).toBe(0);
    await until('the watchdog to exit', () => !isAlive(watchdog!), 5000);
  });
});
