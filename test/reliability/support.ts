// Shared tools of the reliability suite: process groups that can be frozen and killed, a
// critical-section script that logs to a shared file, the mutual-exclusion check of that log,
// an object-history recorder that survives API-server restarts, and the measured-figures report.
import { Watch, type KubernetesObject } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { collect, KONCLI_ARGV, KONCLI_COMMAND, spawnKoncli, type CliResult } from '../support/cli.js';
import { adminConfig, adminKubeconfigPath } from '../integration/helpers.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 30_000, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Milliseconds since the epoch of an RFC 3339 time with any number of fractional digits (MicroTime, Go's nanoseconds). */
export const ms = (t: string | Date) => Date.parse(String(t instanceof Date ? t.toISOString() : t).replace(/(\.\d{3})\d+/, '$1'));

export const workDir = (prefix: string) => mkdtempSync(join(tmpdir(), `koncli-rel-${prefix}-`));

// ------------------------------------------------------------------ processes

export interface Proc {
  child: ChildProcess;
  /** Resolves when the process group leader exits (stdout/stderr collected). */
  done: Promise<CliResult>;
  /** Signal the whole process group (koncli and the command it runs). */
  signal(sig: NodeJS.Signals): void;
}

const groups = new Set<Proc>();

/** Starts `command args` as the leader of its own process group, so it can be frozen or killed whole. */
export function startGroup(command: string, args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 600_000): Proc {
  const started = Date.now();
  const child = spawn(command, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  const proc: Proc = {
    child,
    done: collect(child, started, { timeoutMs }),
    signal(sig) {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // already gone
      }
    },
  };
  groups.add(proc);
  void proc.done.finally(() => groups.delete(proc));
  return proc;
}

/** afterAll: stop every history recorder and kill every process group a test left behind. */
export function cleanup(): void {
  History.stopAll();
  for (const p of groups) {
    p.signal('SIGCONT');
    p.signal('SIGKILL');
  }
}

/** koncli (KONCLI_ARGV: the npm build or the single executable) in its own process group, against the admin kubeconfig in `ns` (cluster flags go before `--`). */
export function startKoncli(ns: string, args: string[], env: Record<string, string | undefined> = {}, timeoutMs?: number): Proc {
  const dash = args.indexOf('--');
  const [own, command] = dash < 0 ? [args, []] : [args.slice(0, dash), args.slice(dash)];
  return startGroup(KONCLI_ARGV[0], [...KONCLI_ARGV.slice(1), ...own, '--kubeconfig', adminKubeconfigPath(), '-n', ns, ...command], env, timeoutMs);
}

export const koncli = (ns: string, ...args: string[]) => startKoncli(ns, args).done;

/**
 * A shell script in its own process group, with `k ARGS…` running koncli against `ns` (so a
 * "holder" can be a script that locks, works, and unlocks, and can be killed or frozen whole).
 */
export function startShell(ns: string, script: string, timeoutMs?: number): Proc {
  const prelude = 'k() { $KONCLI "$@" --kubeconfig "$KONCLI_KC" -n "$KONCLI_NS"; }';
  return startGroup('sh', ['-c', `${prelude}\n${script}`], { KONCLI: KONCLI_COMMAND, KONCLI_KC: adminKubeconfigPath(), KONCLI_NS: ns }, timeoutMs);
}

/** Lines of a file, [] while it does not exist. */
export const linesOf = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);

/** A small deterministic PRNG (mulberry32), so a scenario's "random" choices repeat run to run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const json = (r: CliResult) => JSON.parse(r.stdout);

// ------------------------------------------------------------------ critical sections

/**
 * A shell script for critical sections: `section.sh LOG ID HOLD_SECONDS` appends
 * `start ID TOKEN MS`, sleeps, appends `end ID TOKEN MS` (TOKEN: $KONCLI_FENCING_TOKEN or -;
 * MS: this machine's clock). Arguments are plain words, so klock's argument quoting leaves them be.
 * With `endOnTerm` (section-term.sh), a SIGTERM ends the section at once, logged as its end.
 */
export function sectionScript(dir: string, { endOnTerm = false } = {}): string {
  const path = join(dir, endOnTerm ? 'section-term.sh' : 'section.sh');
  const end = 'echo "end $id ${KONCLI_FENCING_TOKEN:--} $(date +%s%3N)" >> "$log"';
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      'log=$1; id=$2; hold=$3',
      ...(endOnTerm ? [`trap '${end}; exit 143' TERM`] : []),
      'echo "start $id ${KONCLI_FENCING_TOKEN:--} $(date +%s%3N)" >> "$log"',
      endOnTerm ? 'sleep "$hold" & wait $!' : 'sleep "$hold"', // a shell runs a trap only between commands; `wait` is one it interrupts
      end,
      '',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  return path;
}

/**
 * A second holder: `run` (e.g. ['lease', 'run', NAME]) as `holder` with --ttl `ttl`, waiting up to 90 s,
 * running section B of `log` for 2 s (a plain section, no tree). `cluster`: --kubeconfig and -n.
 */
export function secondSection(run: string[], holder: string, ttl: string, cluster: string[], section: string, log: string): Promise<CliResult> {
  const b = spawnKoncli([...run, '--holder', holder, '--ttl', ttl, '--wait', '--timeout', '90s', ...cluster, '--', section, log, 'B', '2']);
  return collect(b, Date.now(), { timeoutMs: 120_000 });
}

/** Whether section `id` has started (its start line is in the log). */
export const sectionStarted = (log: string, id: string) =>
  existsSync(log) &&
  readFileSync(log, 'utf8')
    .split('\n')
    .some((l) => l.startsWith(`start ${id} `));

export interface Section {
  id: string;
  token: bigint | null;
  start: number;
  end: number;
}

export interface ExclusionCheck {
  sections: Section[];
  /** Pairs of sections found open at the same time (file order is the order of the appends). */
  overlaps: [string, string][];
  /** Lines that do not close the open section, and unclosed sections. */
  malformed: string[];
  /** Section ids that ran more than once. */
  duplicates: string[];
  /** Consecutive token-carrying sections whose tokens did not strictly increase. */
  tokenRegressions: [string, string][];
}

/** Reads a section log and checks mutual exclusion, uniqueness and fencing-token order. */
export function checkExclusion(log: string): ExclusionCheck {
  const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  const out: ExclusionCheck = { sections: [], overlaps: [], malformed: [], duplicates: [], tokenRegressions: [] };
  const open = new Map<string, Section>();
  const seen = new Set<string>();
  let last: Section | undefined;
  for (const line of lines) {
    const [kind, id, token, ms] = line.split(' ');
    if (kind === 'start') {
      for (const other of open.keys()) out.overlaps.push([other, id]);
      if (seen.has(id)) out.duplicates.push(id);
      seen.add(id);
      const s: Section = { id, token: token === '-' ? null : BigInt(token), start: Number(ms), end: NaN };
      open.set(id, s);
      if (s.token !== null) {
        if (last?.token != null && !(s.token > last.token)) out.tokenRegressions.push([last.id, id]);
        last = s;
      }
    } else if (kind === 'end' && open.has(id)) {
      const s = open.get(id)!;
      s.end = Number(ms);
      open.delete(id);
      out.sections.push(s);
    } else {
      out.malformed.push(line);
    }
  }
  for (const id of open.keys()) out.malformed.push(`unclosed ${id}`);
  return out;
}

// ------------------------------------------------------------------ object history

export interface Version<T> {
  type: 'INITIAL' | 'ADDED' | 'MODIFIED' | 'DELETED';
  object: T;
  /** Local time the recorder received it. */
  at: number;
}

/**
 * Every version of one object, in order, as an independent observer sees it: a watch (without a
 * resourceVersion first, so the current state arrives as ADDED), resumed from the last version
 * seen whenever it drops (API-server restarts included; etcd keeps the history, so nothing in
 * between is missed).
 */
export class History<T extends KubernetesObject> {
  private static readonly running = new Set<History<any>>();
  readonly versions: Version<T>[] = [];
  /** Times the watch dropped and was resumed. */
  reconnects = 0;
  private stopped = false;
  private abort: AbortController | undefined;
  private lastVersion: string | undefined;

  private constructor(
    private readonly path: string,
    private readonly name: string,
  ) {}

  /**
   * `collection` e.g. /api/v1/namespaces/NS/configmaps or /apis/coordination.k8s.io/v1/namespaces/NS/leases.
   * Resolves once the watch is established: every later write is recorded.
   */
  static async start<T extends KubernetesObject>(collection: string, name: string): Promise<History<T>> {
    const h = new History<T>(collection, name);
    History.running.add(h);
    await new Promise<void>((established) => void h.connect(established));
    return h;
  }

  private async connect(established: () => void): Promise<void> {
    while (!this.stopped) {
      const closed = new Promise<unknown>((resolveClosed) => {
        const watch = new Watch(adminConfig());
        (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 10 * 60_000;
        watch
          .watch(
            this.path,
            { fieldSelector: `metadata.name=${this.name}`, resourceVersion: this.lastVersion, allowWatchBookmarks: true, timeoutSeconds: 120 },
            (type: string, obj: any) => {
              const rv = obj?.metadata?.resourceVersion;
              if (type === 'ERROR') return resolveClosed(new Error(`watch error: ${JSON.stringify(obj)}`));
              if (rv) this.lastVersion = rv;
              if (type === 'BOOKMARK') return;
              this.versions.push({ type: type as Version<T>['type'], object: obj as T, at: Date.now() });
            },
            (err: unknown) => resolveClosed(err ?? null),
          )
          .then(
            (ac) => {
              this.abort = ac;
              established();
            },
            (err) => resolveClosed(err),
          );
      });
      const err = await closed;
      this.abort?.abort();
      if (this.stopped) return;
      this.reconnects++;
      if (err) await sleep(200); // server down or restarting: try again shortly
    }
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    History.running.delete(this);
  }

  /** Stops every recorder still running (afterAll: a failed test must not leave watches open). */
  static stopAll(): void {
    for (const h of History.running) h.stop();
  }

  /** Waits until the recorder has seen `resourceVersion` (or a later one). */
  async caughtUp(resourceVersion: string, timeoutMs = 30_000): Promise<void> {
    const target = BigInt(resourceVersion);
    await until(`history of ${this.name} to reach ${resourceVersion}`, () => this.lastVersion !== undefined && BigInt(this.lastVersion) >= target, timeoutMs);
  }

  /** Writes the recorded versions as JSON lines, for a look after a failure. */
  dump(path: string): void {
    writeFileSync(path, this.versions.map((v) => JSON.stringify({ type: v.type, at: v.at, object: v.object })).join('\n'));
  }

  /** The object's states in order (deletions left out; see `versions` for them). */
  objects(): T[] {
    return this.versions.filter((v) => v.type !== 'DELETED').map((v) => v.object);
  }
}

// ------------------------------------------------------------------ figures

export interface Figures {
  min: number;
  median: number;
  max: number;
  n: number;
}

export function figures(values: number[]): Figures {
  const v = [...values].sort((a, b) => a - b);
  return { n: v.length, min: v[0] ?? NaN, median: v[Math.floor(v.length / 2)] ?? NaN, max: v.at(-1) ?? NaN };
}

export const fmtMs = (f: Figures) =>
  f.n ? `${Math.round(f.min)} / ${Math.round(f.median)} / ${Math.round(f.max)} ms (min / median / max of ${f.n})` : 'no samples';

/**
 * Measured figures of one test file, rendered with the others into REPORT.md in
 * $KONCLI_RELIABILITY_RESULTS (default: <tmp>/koncli-reliability), and copied to
 * $KONCLI_RELIABILITY_REPORT when that is set (the committed test/reliability/REPORT.md was made so).
 */
export class Report {
  private readonly rows: { title: string; lines: string[] }[] = [];

  constructor(private readonly name: string) {}

  add(title: string, lines: string[]): void {
    this.rows.push({ title, lines });
    process.stderr.write(`[measure] ${title}\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  }

  save(): void {
    const dir = process.env.KONCLI_RELIABILITY_RESULTS || join(tmpdir(), 'koncli-reliability');
    mkdirSync(dir, { recursive: true });
    const machine = `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} on ${availableParallelism()} cores`;
    writeFileSync(join(dir, `${this.name}.json`), JSON.stringify({ name: this.name, at: new Date().toISOString(), machine, rows: this.rows }, null, 1));
    const parts = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { name: string; at: string; machine?: string; rows: { title: string; lines: string[] }[] });
    const md = [
      '# koncli reliability report',
      '',
      'Generated by the reliability suite (`npm run test:reliability`, test/reliability/*.test.ts) from the',
      'figures it measured on the local control plane (real etcd and kube-apiserver on 127.0.0.1). The',
      'assertions are in the tests; these are the numbers of one run. To regenerate this file:',
      '`KONCLI_RELIABILITY_REPORT=test/reliability/REPORT.md npm run test:reliability`.',
      '',
      ...parts.flatMap((p) => [
        `## ${p.name} (run ${p.at}${p.machine ? `; ${p.machine} when it ended` : ''})`,
        '',
        ...p.rows.flatMap((r) => [`### ${r.title}`, '', ...r.lines.map((l) => `- ${l}`), '']),
      ]),
    ].join('\n');
    writeFileSync(join(dir, 'REPORT.md'), md);
    const target = process.env.KONCLI_RELIABILITY_REPORT;
    if (target) copyFileSync(join(dir, 'REPORT.md'), resolve(target));
    process.stderr.write(`[measure] report: ${target ? resolve(target) : join(dir, 'REPORT.md')}\n`);
  }
}
