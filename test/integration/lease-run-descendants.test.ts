// `lease run` never releases the lease while a process the command started is alive, and signals
// sent to koncli reach every such process: same process group, own session (setsid), daemonized
// (double fork, reparented to init), nohup'd. On a terminal (a pty from util-linux `script`):
// stdin, a pager, and Ctrl-C keep working. See docs/lease-run.md.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterArgs, collect, KONCLI_ARGV, runKoncli, spawnKoncli } from '../support/cli.js';
import { until, readOrEmpty, sleep } from '../support/poll.js';
import { guard, processesOf } from '../support/processes.js';
import { onTerminal as terminal } from '../support/terminal.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

let ns: string;
let admin: string;
let dir: string;
let worker: string;
const leases = () => adminConfig().makeApiClient(CoordinationV1Api);
const holderOf = async (name: string) => (await leases().readNamespacedLease({ name, namespace: ns })).spec?.holderIdentity ?? '';
const read = readOrEmpty;

const start = (args: string[], script: string, env: Record<string, string>) =>
  spawnKoncli(['lease', 'run', ...args, ...clusterArgs(admin, ns), '--', 'sh', '-c', script], { env });

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('lease-run-tree');
  dir = mkdtempSync(join(tmpdir(), 'koncli-tree-'));
  worker = join(dir, 'worker.sh');
  // worker.sh NAME LOG [GRACE]: says "NAME ready"; on TERM, INT or HUP says "NAME got SIG", takes
  // GRACE seconds to clean up, says "NAME exits" and exits 0.
  writeFileSync(
    worker,
    `#!/bin/sh
name=$1 log=$2 grace=\${3:-0}
for s in TERM INT HUP; do trap "echo \\"$name got $s\\" >> $log; sleep $grace; echo \\"$name exits\\" >> $log; exit 0" $s; done
echo "$name ready" >> "$log"
while :; do sleep 0.05; done
`,
  );
  chmodSync(worker, 0o755);
});

describe('lease run and the processes its command starts', () => {
  test('SIGTERM to koncli reaches the same group, a setsid session, a double-forked daemon and a nohup job; the lease is released only after all are gone', async () => {
    const log = join(dir, 'term.log');
    const holder = `term-all-${ns}`; // unique per run: a process left by an earlier run cannot count
    const child = start(
      ['term-all', '--holder', holder],
      `"$W" group "$L" & setsid "$W" session "$L" & sh -c '"$W" daemon "$L" &'; nohup "$W" nohup "$L" >/dev/null 2>&1 & wait`,
      { W: worker, L: log },
    );
    const done = collect(child);
    await until('four workers', () => (read(log).match(/ready/g) ?? []).length === 4);
    const watch = guard(holder, () => holderOf('term-all'));
    expect((await runKoncli(['lease', 'acquire', 'term-all', '--holder', 'intruder', '--timeout', '0', ...clusterArgs(admin, ns)])).code).toBe(3);
    child.kill('SIGTERM');
    const result = await done;
    const { samples, violations } = await watch.stop();
    expect(result.code).toBe(143); // the command (sh, no trap) died of the forwarded TERM
    for (const name of ['group', 'session', 'daemon', 'nohup']) expect(read(log)).toContain(`${name} got TERM`);
    expect(processesOf(holder)).toEqual([]);
    expect(samples).toBeGreaterThan(0);
    expect(violations).toBe(0);
    expect(await holderOf('term-all')).toBe('');
  });

  test("what the command leaves behind gets --signal, then SIGKILL after --kill-after, before the lease is released; exit is the command's", async () => {
    const log = join(dir, 'left.log');
    const holder = `leftovers-${ns}`; // unique per run: a process left by an earlier run cannot count
    const child = start(
      ['leftovers', '--holder', holder, '--kill-after', '1s', '--json'],
      `setsid "$W" graceful "$L" 0.3 & nohup sh -c 'trap "" TERM; echo stubborn ready >> "$L"; while :; do sleep 0.05; done' >/dev/null 2>&1 &
       until [ "$(grep -c ready "$L")" = 2 ]; do sleep 0.02; done; exit 3`,
      { W: worker, L: log },
    );
    const done = collect(child);
    await until('both leftovers', () => (read(log).match(/ready/g) ?? []).length === 2);
    const watch = guard(holder, () => holderOf('leftovers'));
    const result = await done;
    const { violations } = await watch.stop();
    expect(result.code).toBe(3);
    // Both workers, and the `sleep` each may be running at that moment.
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'completed', commandExit: 3, exitCode: 3 });
    expect(JSON.parse(result.stdout).leftovers).toBeGreaterThanOrEqual(2);
    expect(result.stderr).toMatch(/the command exited \(3\) but \d+ processes it started still run .*stopping them \(SIGTERM, then SIGKILL after 1s\)/);
    expect(read(log)).toContain('graceful got TERM\ngraceful exits');
    expect(processesOf(holder)).toEqual([]); // the stubborn one was killed
    expect(violations).toBe(0);
    expect(await holderOf('leftovers')).toBe('');
  });

  test('a daemon that double-forks before any scan can see it is still found (the environment marker)', async () => {
    const log = join(dir, 'fast.log');
    const holder = `fast-daemon-${ns}`; // unique per run: a process left by an earlier run cannot count
    const result = await collect(
      start(['fast-daemon', '--holder', holder, '--kill-after', '2s'], `(sh -c 'exec "$W" fast "$L"' &); exit 0`, { W: worker, L: log }),
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/the command exited \(0\) but \d+ process(es)? it started still runs? /);
    expect(processesOf(holder)).toEqual([]);
    expect(await holderOf('fast-daemon')).toBe('');
  });

  test("--orphans wait: the lease stays held, and renewed, until the last nohup'd process exits", async () => {
    const log = join(dir, 'wait.log');
    const holder = `orphans-wait-${ns}`; // unique per run: a process left by an earlier run cannot count
    // The orphan lives until the test lets it go (cat returns when the test has written to the FIFO),
    // then 3 s more: a fixed `sleep 8` had ended before a loaded machine's intruder even started.
    const fifo = join(dir, 'wait.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const child = start(
      ['orphans-wait', '--holder', holder, '--ttl', '6s', '--orphans', 'wait', '--json'],
      `nohup sh -c 'cat "$F" >/dev/null; sleep 3; echo finished >> "$L"' >/dev/null 2>&1 &`,
      { L: log, F: fifo },
    );
    const done = collect(child);
    await until('the orphan to run', () => processesOf(holder).length > 0 && !read(log));
    const watch = guard(holder, () => holderOf('orphans-wait'));
    await sleep(1500);
    let letGo: number;
    try {
      expect((await runKoncli(['lease', 'acquire', 'orphans-wait', '--holder', 'intruder', '--timeout', '0', ...clusterArgs(admin, ns)])).code).toBe(3);
    } finally {
      letGo = Date.now();
      writeFileSync(fifo, 'go\n'); // also on a failure, so that the run ends
    }
    const result = await done;
    const { violations } = await watch.stop();
    expect(result.code).toBe(0);
    expect(read(log)).toBe('finished\n');
    expect(Date.now() - letGo).toBeGreaterThanOrEqual(3000);
    expect(result.stderr).toMatch(/but 2 processes it started still run .*; holding lease orphans-wait until they exit \(--orphans wait\)/); // sh and its cat
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'completed', leftovers: 2, exitCode: 0 });
    expect(JSON.parse(result.stdout).renewals).toBeGreaterThanOrEqual(1); // every 2 s under a 6 s TTL (a 3 s TTL left each renewal 333 ms: lost under load)
    expect(violations).toBe(0);
    expect(await holderOf('orphans-wait')).toBe('');
  });

  test('a lost lease stops a setsid daemon too (exit 4)', async () => {
    const log = join(dir, 'lost.log');
    const holder = `lost-daemon-${ns}`; // unique per run: a process left by an earlier run cannot count
    const done = collect(
      start(['lost-daemon', '--holder', holder, '--kill-after', '1s'], `sh -c 'setsid "$W" daemon "$L" &'; while :; do sleep 0.05; done`, {
        W: worker,
        L: log,
      }),
    );
    await until('the daemon', () => read(log).includes('daemon ready'));
    expect((await runKoncli(['lease', 'release', 'lost-daemon', '--holder', 'operator', '--force', ...clusterArgs(admin, ns)])).code).toBe(0);
    expect((await done).code).toBe(4);
    expect(read(log)).toContain('daemon got TERM');
    expect(processesOf(holder)).toEqual([]);
  });
});

describe('lease run on a terminal (a pty from `script`)', () => {
  /** Runs `koncli lease run NAME … -- sh -c SCRIPT` as the foreground job of a new pty; `type` writes keys to it. */
  const onTerminal = (lease: string, script: string, env: Record<string, string>) =>
    terminal([...KONCLI_ARGV, 'lease', 'run', lease, '--holder', `${lease}-${ns}`, ...clusterArgs(admin, ns), '--', 'sh', '-c', script], env);

  test('stdin and a pager work as without koncli', async () => {
    const text = join(dir, 'pager.txt');
    writeFileSync(text, Array.from({ length: 200 }, (_, i) => `pager line ${i}`).join('\n'));
    const tty = onTerminal('tty-pager', `read -r answer; echo "read: $answer"; less "$F"; echo "pager done"`, { F: text });
    try {
      await until('koncli to start the command', async () => (await holderOf('tty-pager').catch(() => '')) !== '');
      tty.type('hello\r');
      await until('the command to read the line', () => tty.screen().includes('read: hello'));
      await until('the pager to show the file', () => tty.screen().includes('pager line 3'));
      expect(tty.screen()).not.toContain('pager line 150'); // paged, not dumped
      tty.type('q');
      expect(await tty.exited).toBe(0);
      expect(tty.screen()).toContain('pager done');
    } finally {
      tty.kill();
    }
  });

  test("Ctrl-C: the command's group gets SIGINT once (from the terminal), a setsid process gets it from koncli", async () => {
    const log = join(dir, 'ctrl-c.log');
    // setsid -f, not `setsid … &`: a shell starts `&` jobs with SIGINT ignored (POSIX), and then no one can deliver it.
    const tty = onTerminal('tty-ctrl-c', `setsid -f "$W" session "$L" 0.3; exec "$W" group "$L" 0.3`, { W: worker, L: log });
    try {
      await until('both workers', () => (read(log).match(/ready/g) ?? []).length === 2);
      tty.type('\x03');
      expect(await tty.exited).toBe(0); // the command's trap exits 0, and so does the other worker's
      expect((read(log).match(/group got INT/g) ?? []).length).toBe(1);
      expect((read(log).match(/session got INT/g) ?? []).length).toBe(1);
      expect(processesOf(`tty-ctrl-c-${ns}`)).toEqual([]);
      expect(await holderOf('tty-ctrl-c')).toBe('');
    } finally {
      tty.kill();
    }
  });
});
