import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI; KONCLI_TEST_BIN runs the tests against another build (e.g. an older checkout's bin/run.js). */
export const KONCLI_BIN = process.env.KONCLI_TEST_BIN ?? fileURLToPath(new URL('../../bin/run.js', import.meta.url));

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

/** Starts koncli (the built bin/run.js on the current Node) as a child process. */
export function spawnKoncli(args: string[], opts: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, [KONCLI_BIN, ...args], {
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
