// Output never blocks the lease (src/cli/stderr.ts; docs/lease-run.md, "koncli's own output"):
// koncli's stderr a pipe nobody reads (`2>&1 | stalled`) or a terminal paused with Ctrl-S while
// `lease run -v` holds a lease. Renewals go on; a lease broken by `lease release --force` still
// stops the command before the next holder's section starts; the command's own stderr stays
// blocking; after Ctrl-Q the terminal shows what was held and how many lines were dropped. With
// stdout redirected and stderr on a terminal, progress stays on the terminal.
import type { V1Lease } from '@kubernetes/client-node';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterArgs, KONCLI_ARGV, KONCLI_COMMAND, runKoncli } from '../support/cli.js';
import { readOrEmpty, sleep, until } from '../support/poll.js';
import { onTerminal } from '../support/terminal.js';
import { checkExclusion, cleanup, History, linesOf, ms, sectionScript, sectionStarted, startGroup, workDir } from '../reliability/support.js';
import { adminKubeconfigPath, freshNamespace } from './helpers.js';

/** Short enough to outlast several times, long enough for a loaded machine: renewals every 2 s, renew deadline 4 s. */
const TTL = 6;
/** Bytes the command writes to the shared stderr: far more than a pipe holds (64 KiB). */
const FILL = 1_000_000;
let ns: string;
let admin: string;
let dir: string;
let section: string;
let victim: string;
const leasesPath = () => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('stderr');
  dir = workDir('stderr');
  section = sectionScript(dir);
  // victim.sh LOG ID FLAGS FILLER BYTES: a critical section as section.sh logs it (start/end lines),
  // ended by TERM; records the flags of its own fd 2 (inherited from koncli), then writes BYTES to
  // that stderr from a background process (pid in FILLER) and idles.
  victim = join(dir, 'victim.sh');
  writeFileSync(
    victim,
    [
      '#!/bin/sh',
      'log=$1; id=$2',
      `trap 'echo "end $id \${KONCLI_FENCING_TOKEN:--} $(date +%s%3N)" >> "$log"; exit 0' TERM`,
      'echo "start $id ${KONCLI_FENCING_TOKEN:--} $(date +%s%3N)" >> "$log"',
      'grep flags /proc/self/fdinfo/2 > "$3"',
      // The shell's own messages ("Terminated" for the sleep TERM ends) must not wait for the full stderr: its trap would never run.
      'exec 3>&2 2>/dev/null',
      `head -c "$5" /dev/zero | tr '\\0' x >&3 &`,
      'echo $! > "$4"',
      'while :; do sleep 0.05; done',
      '',
    ].join('\n'),
  );
  chmodSync(victim, 0o755);
});
afterAll(cleanup);

const files = (lease: string) => ({ log: join(dir, `${lease}.log`), flags: join(dir, `${lease}.flags`), filler: join(dir, `${lease}.filler`) });

/** Bytes the process in `pidFile` has written (/proc/PID/io), undefined before it started or after it ended. */
const written = (pidFile: string) => {
  const pid = readOrEmpty(pidFile).trim();
  const io = /wchar:\s+(\d+)/.exec(pid === '' ? '' : readOrEmpty(`/proc/${pid}/io`));
  return io ? Number(io[1]) : undefined;
};

/** Whether the process in `pidFile`, which has `total` bytes to write, is stuck: alive, short of `total`, and writing nothing for half a second. */
async function stuckWriting(pidFile: string, total: number): Promise<boolean> {
  const before = written(pidFile);
  await sleep(500);
  const after = written(pidFile);
  return before !== undefined && after === before && after < total;
}

/** Waits 2 TTLs, then checks that `holder` held the lease throughout and renewed it often enough that no one could have judged it expired. */
async function renewedThroughout(history: History<V1Lease>, holder: string): Promise<void> {
  const from = history.versions.length;
  const start = Date.now();
  await sleep(2 * TTL * 1000);
  const states = history.objects().slice(Math.max(0, from - 1));
  expect(states.every((l) => l.spec?.holderIdentity === holder)).toBe(true);
  const renewals = states.map((l) => ms(String(l.spec!.renewTime)));
  expect(renewals.length).toBeGreaterThanOrEqual(4); // every TTL/3: about 6 in 2 TTLs
  const gaps = renewals.slice(1).map((t, i) => t - renewals[i]);
  expect(Math.max(...gaps, Date.now() - renewals.at(-1)!)).toBeLessThan(TTL * 1000);
  expect(renewals.at(-1)!).toBeGreaterThan(start);
}

/** Breaks the lease as an operator would, then runs the next holder's section; checks that the two sections never overlapped. */
async function breakThenNextHolder(lease: string, log: string, previous: string): Promise<void> {
  const forced = await runKoncli(['lease', 'release', lease, '--holder', 'operator', '--force', ...clusterArgs(admin, ns)]);
  expect(forced.code).toBe(0);
  const next = await runKoncli(['lease', 'run', lease, '--holder', 'next', '--ttl', `${TTL}s`, ...clusterArgs(admin, ns), '--', section, log, 'next', '0.5'], {
    timeoutMs: 60_000,
  });
  expect(next.code).toBe(0);
  await until(`${previous}'s section to end`, () => linesOf(log).some((l) => l.startsWith(`end ${previous} `)), 30_000);
  const check = checkExclusion(log);
  expect(check.sections.map((s) => s.id).sort()).toEqual(['next', previous].sort());
  expect(check.overlaps).toEqual([]);
  expect(check.malformed).toEqual([]);
}

/** O_NONBLOCK (04000) in the flags of a /proc/PID/fdinfo line. */
const nonBlocking = (flagsFile: string) => (parseInt(/flags:\s+(\d+)/.exec(readFileSync(flagsFile, 'utf8'))![1], 8) & 0o4000) !== 0;

test('stderr a pipe nobody reads (`2>&1 | stalled`) under -v: renewals go on; a broken lease stops the command before the next section; the command keeps a blocking stderr', async () => {
  const lease = 'stalled-pipe';
  const { log, flags, filler } = files(lease);
  const marks = join(dir, `${lease}.marks`);
  const history = await History.start<V1Lease>(leasesPath(), lease);
  // koncli's stdout and stderr, and the command's (inherited), go into a pipe whose reader never reads.
  const run = `${KONCLI_COMMAND} lease run ${lease} --holder stalled --ttl ${TTL}s --kill-after 1s -v ${clusterArgs(admin, ns).join(' ')} -- ${victim} ${log} stalled ${flags} ${filler} ${FILL}`;
  const group = startGroup('sh', ['-c', `{ ${run}; echo "exit $? $(date +%s%3N)" >> ${marks}; } 2>&1 | sleep 600`]);
  try {
    await until('the command to start', () => sectionStarted(log, 'stalled'), 60_000);
    await until('the pipe to be full (the command stuck writing to it)', () => stuckWriting(filler, FILL), 30_000);
    await renewedThroughout(history, 'stalled');
    await breakThenNextHolder(lease, log, 'stalled');
    await until('koncli to exit', () => linesOf(marks).length > 0, 30_000);
    const [exit, code, exitedAt] = linesOf(marks)[0].split(' ');
    expect([exit, code]).toEqual(['exit', '4']);
    // The pipe still unread, koncli's exit waited at most EXIT_FLUSH_MS (1 s) for it; --kill-after is 1 s.
    const ended = checkExclusion(log).sections.find((s) => s.id === 'stalled')!.end;
    expect(Number(exitedAt) - ended).toBeLessThan(10_000);
    process.stderr.write(`[measure] unread pipe: koncli exited ${Number(exitedAt) - ended} ms after its command's section ended\n`);
    expect(nonBlocking(flags)).toBe(false);
  } finally {
    history.stop();
    group.signal('SIGKILL');
  }
}, 120_000);

test('stderr a terminal paused with Ctrl-S under -v: renewals go on; Ctrl-Q shows the held lines and the dropped count; paused again, a broken lease stops the command before the next section', async () => {
  const lease = 'paused-terminal';
  const { log, flags, filler } = files(lease);
  const history = await History.start<V1Lease>(leasesPath(), lease);
  const args = ['lease', 'run', lease, '--holder', 'paused', '--ttl', `${TTL}s`, '--kill-after', '1s', '-v', ...clusterArgs(admin, ns)];
  // A small buffer, so the -v lines of 2 TTLs overflow it.
  const tty = onTerminal([...KONCLI_ARGV, ...args, '--', victim, log, 'paused', flags, filler, '100'], { KONCLI_STDERR_BUFFER: '300' });
  try {
    await until('the command to start', () => sectionStarted(log, 'paused'), 60_000);
    await until('-v lines on the terminal', () => tty.screen().includes('koncli: api: PATCH'), 30_000);
    tty.type('\x13');
    await sleep(500);
    const shown = tty.screen().length;
    await renewedThroughout(history, 'paused');
    expect(tty.screen().length).toBe(shown); // paused all along
    tty.type('\x11');
    await until(
      'the dropped-lines notice',
      () => /koncli: … \d+ lines? of koncli's output dropped: stderr was not being read/.test(tty.screen().slice(shown)),
      30_000,
    );
    await until('the lines held after it', () => /dropped[^]*koncli: api: PATCH/.test(tty.screen().slice(shown)), 30_000);
    tty.type('\x13');
    await sleep(500);
    await breakThenNextHolder(lease, log, 'paused');
    expect(await tty.exited).toBe(4);
    expect(nonBlocking(flags)).toBe(false);
  } finally {
    history.stop();
    tty.kill();
  }
}, 120_000);

test('stdout redirected to a file, stderr on a terminal: the progress line stays on the terminal, stdout holds only the result', async () => {
  const lease = 'redirected';
  expect((await runKoncli(['lease', 'acquire', lease, '--holder', 'first', '--ttl', '3s', ...clusterArgs(admin, ns)])).code).toBe(0);
  const out = join(dir, 'redirected.out');
  const acquire = [...KONCLI_ARGV, 'lease', 'acquire', lease, '--holder', 'second', '--wait', '--timeout', '60s', ...clusterArgs(admin, ns)];
  const tty = onTerminal(['sh', '-c', 'exec "$@" > "$OUT"', 'sh', ...acquire], { OUT: out, CI: undefined });
  expect(await tty.exited).toBe(0);
  expect(tty.screen()).toContain(`waiting for lease ${lease}`);
  expect(readFileSync(out, 'utf8')).toMatch(new RegExp(`^acquired lease ${lease} as second for \\S+ \\(fencing token \\d+\\)\\n$`));
}, 90_000);

test("stderr a regular file (`2> file`): koncli's lines and the command's share it in order, none overwritten; /dev/null works", async () => {
  const lease = 'to-a-file';
  const file = join(dir, 'stderr.txt');
  const run = `${KONCLI_COMMAND} lease run ${lease} --holder filed -v ${clusterArgs(admin, ns).join(' ')} -- sh -c 'echo from-command >&2'`;
  const group = startGroup('sh', ['-c', `${run} 2> ${file}; echo "exit $?"; ${KONCLI_COMMAND} lease status ${lease} --nope 2> /dev/null; echo "exit $?"`]);
  const result = await group.done;
  expect(result.stdout.trim().split('\n')).toEqual(['exit 0', 'exit 2']);
  const lines = readFileSync(file, 'utf8').split('\n');
  const command = lines.indexOf('from-command');
  expect(lines.slice(0, command).some((l) => /^koncli: api: (PATCH|POST) /.test(l))).toBe(true); // the take, before the command
  expect(lines.slice(command + 1).some((l) => /^koncli: api: PATCH /.test(l))).toBe(true); // the release, after it
  expect(lines.every((l) => l === '' || l === 'from-command' || l.startsWith('koncli: api: '))).toBe(true);
}, 60_000);
