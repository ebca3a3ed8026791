// A process on a terminal of its own: a new pty from util-linux `script`, whose keyboard is a pipe
// the test writes to (Ctrl-C, Ctrl-S, Ctrl-Q reach the line discipline as typed keys) and whose
// screen is collected.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Terminal {
  /** Everything the terminal has shown so far. */
  screen(): string;
  /** Types keys (`\x03` Ctrl-C, `\x13` Ctrl-S: XOFF, `\x11` Ctrl-Q: XON). */
  type(keys: string): void;
  /** The exit code of `argv` (script -e). */
  exited: Promise<number | null>;
  kill(): void;
}

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/** Runs `argv` (exec'd: it is itself the job on the terminal, as when an interactive shell runs it) as the foreground job of a new pty. */
export function onTerminal(argv: string[], env: Record<string, string | undefined> = {}): Terminal {
  const file = join(mkdtempSync(join(tmpdir(), 'koncli-tty-')), 'job.sh');
  writeFileSync(file, `#!/bin/sh\nexec ${argv.map(quote).join(' ')}\n`);
  chmodSync(file, 0o755);
  const pty = spawn('script', ['-qfec', `exec ${file}`, '/dev/null'], {
    env: { ...process.env, SHELL: '/bin/sh', TERM: 'xterm', NO_COLOR: '1', LESS: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  pty.stdout.on('data', (d) => (screen += d));
  const exited = new Promise<number | null>((resolve) => pty.on('close', (code) => resolve(code)));
  return { screen: () => screen, type: (keys) => void pty.stdin.write(keys), exited, kill: () => void pty.kill('SIGKILL') };
}
