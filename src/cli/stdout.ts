import { stderr } from './stderr.js';

// koncli's writes to stdout, and how a failed one ends the process. Node writes files and pipes
// synchronously on Linux; Bun (the single executable) writes them asynchronously, and its write
// callback (then the stream's 'error') can come after the command is done: run() waits for every
// write here before it exits, so ENOSPC is reported and nothing written is lost at exit.

/** The exit code a shell shows for a process killed by SIGPIPE (128 + 13). */
const SIGPIPE_EXIT = 141;

let pending: Promise<void> = Promise.resolve();

/** Writes `text` to stdout; a failure ends the process as stdoutFailed says. */
export function writeStdout(text: string): void {
  const written = new Promise<void>((resolve) => process.stdout.write(text, (err) => (err ? stdoutFailed(err) : resolve())));
  pending = pending.then(() => written);
}

/** Resolves when everything writeStdout was given is written (or never: a failure exits first). */
export function stdoutWritten(): Promise<void> {
  return pending;
}

/**
 * stdout failed. EPIPE — the reader is gone (`koncli … | head -1`): exit 141 without a word, what a
 * shell shows for kubectl (Go dies of SIGPIPE) and every Unix tool; Node ignores SIGPIPE, so the
 * write fails instead, and without this handler Node printed a stack trace (the npm build: exit 13).
 * Any other error (ENOSPC on a full disk, EIO): one line on stderr, exit 1. What the command changed
 * on the cluster stays changed either way; only its report is lost (docs/exit-codes.md).
 */
export function stdoutFailed(err: NodeJS.ErrnoException): never {
  if (err.code === 'EPIPE') process.exit(SIGPIPE_EXIT);
  stderr().write(`koncli: error: cannot write to stdout (${err.message}); the command ran, only its output is lost\n`);
  process.exit(1);
}
