import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI; KONCLI_TEST_BIN runs the tests against another build (e.g. an older checkout's bin/run.js). */
export const KONCLI_BIN = process.env.KONCLI_TEST_BIN ?? fileURLToPath(new URL('../../bin/run.js', import.meta.url));

/**
 * The koncli under test, as argv: the npm build (`node bin/run.js` on the current Node), or the
 * single executable when KONCLI_TEST_EXECUTABLE names one (scripts/test.mjs runs the integration
 * suite against both; `npm run package` builds dist/bin/koncli).
 */
export const KONCLI_ARGV: readonly string[] = process.env.KONCLI_TEST_EXECUTABLE
  ? [resolve(process.env.KONCLI_TEST_EXECUTABLE)]
  : [process.execPath, KONCLI_BIN];

/** KONCLI_ARGV as one shell word list (the paths hold no spaces or quotes; checked here). */
export const KONCLI_COMMAND = KONCLI_ARGV.map((a) => {
  if (!/^[\w./@+-]+$/.test(a)) throw new Error(`koncli path ${a} needs quoting in shell scripts; use a path without spaces`);
  return a;
}).join(' ');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
  cwd?: string;
}

/** Starts koncli (KONCLI_ARGV) as a child process. */
export function spawnKoncli(args: string[], opts: CliOptions = {}): ChildProcess {
  return spawn(KONCLI_ARGV[0], [...KONCLI_ARGV.slice(1), ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs koncli to completion and collects its exit code and output. */
export function runKoncli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const started = Date.now();
  const child = spawnKoncli(args, opts);
  return collect(child, started, opts);
}

export function collect(child: ChildProcess, started = Date.now(), opts: CliOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  else child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** koncli with cluster flags for a test namespace. */
export const clusterArgs = (kubeconfig: string, namespace: string) => ['--kubeconfig', kubeconfig, '-n', namespace];

/**
 * Runs a bash script in which `koncli …` is the koncli under test against `kubeconfig` and
 * `namespace` (its output silenced), so a peer's documented lines run as written; returns the
 * script's stdout, throws (with its stderr) when it exits non-zero.
 */
export async function runAsKoncliScript(kubeconfig: string, namespace: string, script: string, env: Record<string, string> = {}): Promise<string> {
  const { execFileSync } = await import('node:child_process');
  const prelude = `koncli() { ${KONCLI_COMMAND} "$@" --kubeconfig "${kubeconfig}" -n "${namespace}" >/dev/null 2>&1; }`;
  return execFileSync('bash', ['-c', `${prelude}\n${script}`], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  }).toString();
}
