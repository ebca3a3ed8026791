import { CoordinationV1Api } from '@kubernetes/client-node';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterArgs, collect, runKoncli, spawnKoncli, type CliResult } from '../support/cli.js';
import { until } from '../support/poll.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';
import { waiterIds } from '../support/waiters.js';

let ns: string;
let admin: string;
let dir: string;
const leases = () => adminConfig().makeApiClient(CoordinationV1Api);
const holderOf = async (name: string) => {
  try {
    return (await leases().readNamespacedLease({ name, namespace: ns })).spec?.holderIdentity ?? '';
  } catch {
    return undefined;
  }
};
const readFileSafe = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};
const run = (args: string[], command: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
  runKoncli(['lease', 'run', ...args, ...clusterArgs(admin, ns), '--', ...command], { ...opts, timeoutMs: 120_000 });
const start = (args: string[], command: string[]) => spawnKoncli(['lease', 'run', ...args, ...clusterArgs(admin, ns), '--', ...command]);

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('lease-run');
  dir = mkdtempSync(join(tmpdir(), 'koncli-run-'));
});

describe('koncli lease run', () => {
  test('runs the command directly with its arguments as given; stdio passes through', async () => {
    const quoted = await run(['quoting'], ['sh', '-c', 'echo "a b"']);
    expect(quoted).toMatchObject({ code: 0, stdout: 'a b\n' });
    const piped = await run(['quoting'], ['cat'], { input: 'line one\nline two\n' });
    expect(piped.stdout).toBe('line one\nline two\n');
    expect(await holderOf('quoting')).toBe('');
  });

  test("with --json the result document follows the command's own stdout (docs/lease-run.md)", async () => {
    const result = await run(['json-after', '--holder', 'j', '--json'], ['sh', '-c', 'echo child-out; exit 2']);
    expect(result.code).toBe(2);
    const [first, ...rest] = result.stdout.split('\n');
    expect(first).toBe('child-out');
    expect(JSON.parse(rest.join('\n'))).toMatchObject({ lease: 'json-after', holder: 'j', outcome: 'completed', commandExit: 2, exitCode: 2 });
  });

  test('arguments that repeat the lease name, a flag value or each other reach the command in order', async () => {
    const result = await run(['again', '--holder', 'again-h', '--reason', 'b'], ['echo', 'again', ns, 'again-h', 'b', 'a', 'b', 'a']);
    expect(result).toMatchObject({ code: 0, stdout: `again ${ns} again-h b a b a\n` });
  });

  test('gives the command the lease, namespace, holder and a fencing token', async () => {
    const result = await run(['env-lease', '--holder', 'me'], ['sh', '-c', 'echo "$KONCLI_LEASE $KONCLI_NAMESPACE $KONCLI_HOLDER $KONCLI_FENCING_TOKEN"']);
    const [lease, namespace, holder, token] = result.stdout.trim().split(' ');
    expect({ lease, namespace, holder }).toEqual({ lease: 'env-lease', namespace: ns, holder: 'me' });
    expect(token).toMatch(/^\d+$/);
  });

  test('without --holder the holder is KONCLI_HOLDER, as for lease acquire (a CronJob sets it to its Pod)', async () => {
    const result = await run(['env-holder'], ['sh', '-c', 'echo "$KONCLI_HOLDER"'], { env: { KONCLI_HOLDER: 'report-28461000-abcde' } });
    expect(result).toMatchObject({ code: 0, stdout: 'report-28461000-abcde\n' });
  });

  test.each([
    [['true'], 0],
    [['false'], 1],
    [['sh', '-c', 'exit 42'], 42],
    [['sh', '-c', 'kill -KILL $$'], 137],
    [['sh', '-c', 'kill -TERM $$'], 143],
    [['/no/such/command'], 127],
  ])('propagates the exit of %j as %d', async (command, code) => {
    const result = await run(['exit-codes'], command);
    expect(result.code).toBe(code);
    expect(await holderOf('exit-codes')).toBe('');
  });

  test('default holders are unique per run: two runs never both hold the lease', async () => {
    const log = join(dir, 'unique.log');
    const results = await Promise.all(
      [1, 2].map(() =>
        run(['unique', '--wait', '--timeout', '60s'], ['sh', '-c', `echo "start $KONCLI_HOLDER" >> ${log}; sleep 0.3; echo "end $KONCLI_HOLDER" >> ${log}`]),
      ),
    );
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0].split(' ')[1]).not.toBe(lines[2].split(' ')[1]);
    expect(lines[0].replace('start', 'end')).toBe(lines[1]);
  });

  test('10 concurrent runs: critical sections never overlap and each command runs exactly once', async () => {
    const log = join(dir, 'mutex.log');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        run(['mutex', '--wait', '--timeout', '100s'], ['sh', '-c', `echo "start ${i} $KONCLI_FENCING_TOKEN" >> ${log}; sleep 0.1; echo "end ${i}" >> ${log}`]),
      ),
    );
    expect(results.map((r) => r.code)).toEqual(Array(10).fill(0));
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(20);
    const seen = new Set<string>();
    let lastToken = -1n;
    for (let i = 0; i < lines.length; i += 2) {
      const [kind, id, token] = lines[i].split(' ');
      expect(kind).toBe('start');
      expect(lines[i + 1]).toBe(`end ${id}`); // the next line closes the same section: no overlap
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      expect(BigInt(token)).toBeGreaterThan(lastToken); // fencing tokens strictly increase
      lastToken = BigInt(token);
    }
    expect(seen.size).toBe(10);
  }, 120_000);

  test('--timeout with the lease held elsewhere: the conflict code, and the command never starts', async () => {
    await runKoncli(['lease', 'acquire', 'busy-run', '--holder', 'other', '--ttl', '1m', '--timeout', '0', ...clusterArgs(admin, ns)]);
    const marker = join(dir, 'never');
    const result = await run(['busy-run', '--timeout', '1s', '--conflict-exit-code', '99'], ['touch', marker]);
    expect(result.code).toBe(99);
    expect(result.stderr).toMatch(
      /^koncli: error: not running the command: lease busy-run is held by other until \S+ \(in \d+s by this machine's clock\) unless renewed \(waited 1s\); to break it safely: koncli lease release busy-run -n \S+ --force --if-holder other$/m,
    );
    expect(() => readFileSync(marker)).toThrow();
  });

  test('forwards SIGTERM to the command and exits with its code', async () => {
    const child = start(['forward'], ['sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done']);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await until('command to start', async () => out.includes('ready'));
    child.kill('SIGTERM');
    const result = await collect(child);
    expect(out).toContain('got-term');
    expect(result.code).toBe(7);
  });

  test('losing the lease stops the command: --signal, then SIGKILL after --kill-after; exit 4', async () => {
    const child = start(
      ['lost', '--ttl', '6s', '--kill-after', '1s'],
      ['sh', '-c', 'trap "echo ignoring-term $(date +%s%3N)" TERM; echo ready; while :; do sleep 0.05; done'],
    );
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const done = collect(child);
    await until('command to start', async () => out.includes('ready'));
    const forced = await runKoncli(['lease', 'release', 'lost', '--holder', 'operator', '--force', ...clusterArgs(admin, ns)]);
    expect(forced.code).toBe(0);
    const result: CliResult = await done;
    const killedBy = Date.now();
    expect(result.code).toBe(4);
    // Seen on the watch ("released by someone else") or by a renewal that lost the race ("was released").
    expect(result.stderr).toMatch(/lease lost: .*(released by someone else|was released)/);
    const termAt = Number(/ignoring-term (\d+)/.exec(out)?.[1]); // the command's own clock, when the TERM's trap ran
    // SIGKILL came --kill-after (1 s) after the TERM, not at once. (Measured from the trap, not from when the
    // release command returned: koncli sees the loss before that command has even exited.)
    expect(killedBy - termAt).toBeGreaterThanOrEqual(500);
  });

  test('an uncontended run costs one read, the take and the release (released from the watched state)', async () => {
    expect((await run(['three-requests', '--holder', 'h'], ['true'])).code).toBe(0); // creates the lease
    const result = await run(['three-requests', '--holder', 'h', '-v'], ['true']);
    expect(result.code).toBe(0);
    const requests = result.stderr.split('\n').filter((l) => /^koncli: api: (GET|PATCH|POST|PUT|DELETE) /.test(l));
    expect(requests.map((l) => l.split(' ')[2])).toEqual(['GET', 'PATCH', 'PATCH']);
    expect(await holderOf('three-requests')).toBe('');
  });

  test('after waiting, the renewals keep the watch that waited: one watch and one connection per run', async () => {
    const go = join(dir, 'one-watch-go');
    const holder = start(['one-watch', '--holder', 'first'], ['sh', '-c', `echo ready; while [ ! -e ${go} ]; do sleep 0.05; done`]);
    let out = '';
    holder.stdout!.on('data', (d) => (out += d));
    const held = collect(holder);
    await until('the holder to run', async () => out.includes('ready'));
    const waiter = collect(start(['one-watch', '--holder', 'second', '--wait', '--ttl', '3s', '-v'], ['sleep', '2.5']));
    await until('the waiter to queue', async () => (await waiterIds(adminConfig(), ns, 'one-watch')).includes('second'));
    writeFileSync(go, '');
    expect((await held).code).toBe(0);
    const result = await waiter;
    expect(result.code).toBe(0);
    const lines = result.stderr.split('\n');
    expect(
      lines.filter((l) => /^koncli: api: WATCH \/apis\/coordination\.k8s\.io\/v1\/namespaces\/[^/]+\/leases\?fieldSelector=metadata\.name=one-watch$/.test(l)),
    ).toHaveLength(1);
    expect(lines.filter((l) => /^koncli: api: connected to /.test(l))).toHaveLength(1);
    // The 2.5 s command under a 3 s TTL was renewed (every second) through that one watch's copy.
    expect(lines.filter((l) => /^koncli: api: PATCH /.test(l)).length).toBeGreaterThanOrEqual(4);
  });

  test("losing the lease also stops the processes the command started (a shell's children)", async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const child = start(['lost-tree', '--ttl', '6s', '--kill-after', '1s'], ['sh', '-c', `sleep 300 >/dev/null 2>&1 & echo $! > ${pidFile}; wait`]);
    const done = collect(child);
    await until('the grandchild to start', async () => readFileSafe(pidFile).trim() !== '');
    const grandchild = Number(readFileSafe(pidFile));
    const running = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${grandchild}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    try {
      expect(running()).toBe(true);
      expect((await runKoncli(['lease', 'release', 'lost-tree', '--holder', 'operator', '--force', ...clusterArgs(admin, ns)])).code).toBe(0);
      expect((await done).code).toBe(4);
      expect(running()).toBe(false);
    } finally {
      if (running()) process.kill(grandchild, 'SIGKILL');
    }
  });

  test('a holder killed with SIGKILL: a waiter takes over within the TTL plus a small bound', async () => {
    const ttl = 3;
    const started = join(dir, 'crash.started');
    const holder = start(['crash', '--ttl', `${ttl}s`, '--holder', 'doomed'], ['sleep', '30']);
    await until('holder to hold', async () => (await holderOf('crash')) === 'doomed');
    // The waiter is already waiting when the holder dies, so its own start-up (seconds on a loaded
    // machine) is not part of the takeover: from the kill to the start of the waiter's command.
    const waiter = run(['crash', '--wait', '--timeout', '60s', '--ttl', `${ttl}s`, '--holder', 'heir'], ['sh', '-c', `date +%s%N > ${started}`]);
    await until('the waiter to queue', async () =>
      (await runKoncli(['lease', 'status', 'crash', '--json', ...clusterArgs(admin, ns)])).stdout.includes('"heir"'),
    );
    holder.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await waiter).code).toBe(0);
    const takeover = Number(BigInt(readFileSync(started, 'utf8').trim()) / 1_000_000n) - killedAt;
    // TTL, plus up to 2 s of whole-second clock precision (docs/clock.md), plus a loaded machine's delay.
    expect(takeover).toBeLessThan(ttl * 1000 + 5000);
    process.stderr.write(`[measure] SIGKILL takeover with ttl ${ttl}s: ${takeover} ms (to the waiter's command start)\n`);
  });

  test('a holder frozen by SIGSTOP past its TTL is taken over; on SIGCONT its command is stopped at once (exit 4)', async () => {
    const tokens = join(dir, 'frozen.tokens');
    const frozen = start(
      ['frozen', '--ttl', '2s', '--holder', 'frozen'],
      ['sh', '-c', `echo "$KONCLI_FENCING_TOKEN" >> ${tokens}; while :; do sleep 0.05; done`],
    );
    const frozenDone = collect(frozen);
    await until('frozen holder to run its command', async () => readFileSafe(tokens).trim().split('\n').filter(Boolean).length === 1);
    frozen.kill('SIGSTOP');
    const next = await run(['frozen', '--wait', '--timeout', '20s', '--holder', 'next'], ['sh', '-c', `echo "$KONCLI_FENCING_TOKEN" >> ${tokens}`]);
    expect(next.code).toBe(0);
    const continuedAt = Date.now();
    frozen.kill('SIGCONT');
    const result = await frozenDone;
    expect(result.code).toBe(4);
    expect(Date.now() - continuedAt).toBeLessThan(2000);
    const [first, second] = readFileSync(tokens, 'utf8').trim().split('\n').map(BigInt);
    expect(second).toBeGreaterThan(first);
  });
});
