// koncli's side of the watchdog (watchdog.ts), and the line protocol both sides share. Nothing here
// is imported at start-up but types: entry.ts only sets how koncli re-executes itself.
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/** The first argument that makes koncli run the watchdog instead of a command (bin/run.js, entry.ts, every executable). */
export const WATCHDOG_ARGUMENT = '__watchdog';

let reexec: string[] | undefined;

/** How this koncli starts its watchdog: an argv ending in WATCHDOG_ARGUMENT (entry.ts's Host.watchdog). */
export function setWatchdogCommand(argv: string[]): void {
  reexec = argv;
}

/** The argv that starts the watchdog: the Host's, else this script again (`node bin/dev.js`), else this executable. */
export function watchdogCommand(): string[] {
  if (reexec) return reexec;
  const script = process.argv[1];
  return script && /\.[cm]?[jt]s$/.test(script) ? [process.execPath, script, WATCHDOG_ARGUMENT] : [process.execPath, WATCHDOG_ARGUMENT];
}

/**
 * What arms the watchdog, sent as `arm <JSON>` just before the command starts. Times are ms from
 * the moment the watchdog receives it (watchdog-deadline.ts).
 */
export interface WatchdogArm {
  /** The `KONCLI_RUN_ID=…` entry the command's processes carry (descendants.ts). */
  marker: string;
  signal: NodeJS.Signals;
  /** ms between the signal and SIGKILL. */
  graceMs: number;
  /** ms until the signal is due, unless extended. */
  deadlineMs: number;
  /** NAMESPACE/NAME, for the watchdog's one line on stderr. */
  lease: string;
  /** koncli's pid, for the same line. */
  koncli: number;
}

/** Calls `onLine` with each line of `stream` (without its newline), then `onEnd` once at its end or on an error. */
export function readLines(stream: Readable, onLine: (line: string) => void, onEnd: () => void): void {
  let buffer = '';
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      onEnd();
    }
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      onLine(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
  });
  stream.on('end', end);
  stream.on('error', end);
}

/** How long koncli waits for its watchdog to say it is up before it gives up on the run. */
const READY_TIMEOUT_MS = 30_000;

/**
 * The watchdog of one `lease run`, from koncli: started early (its start-up overlaps the
 * acquisition), armed just before the command starts, extended after each renewal, told `done`
 * when the run ended as it should. Writes never block koncli (a pipe written asynchronously) and
 * never fail it (a watchdog already gone has nothing to be told).
 */
export class Watchdog {
  /** Resolves once the watchdog runs; rejects when it cannot be started. */
  readonly ready: Promise<void>;
  /** Resolves with the watchdog's reason when it stopped the command itself (koncli stopped, blocked or starved). */
  readonly fired: Promise<string>;
  private child: ChildProcess | undefined;
  private finished = false;

  constructor(onNotice: (message: string) => void) {
    let fire!: (reason: string) => void;
    this.fired = new Promise((resolve) => (fire = resolve));
    this.ready = this.spawn(fire, onNotice);
    this.ready.catch(() => {});
  }

  private async spawn(fire: (reason: string) => void, onNotice: (message: string) => void): Promise<void> {
    const { spawn } = await import('node:child_process');
    const [command, ...args] = watchdogCommand();
    // Its own session: a Ctrl-C or a signal to koncli's process group does not reach it.
    const child = spawn(command, args, { detached: true, cwd: '/', stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    child.stdin.on('error', () => {});
    child.unref();
    if (this.finished) child.stdin.end(); // the run ended before the watchdog was even started
    let timer: NodeJS.Timeout | undefined;
    return new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no word from it within ${READY_TIMEOUT_MS / 1000}s`)), READY_TIMEOUT_MS);
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        reject(new Error(`it exited (${signal ?? code}) before it was ready`));
        if (signal && !this.finished)
          onNotice(`the watchdog of this run (pid ${child.pid}) was killed (${signal}); the command's life now rests on koncli alone`);
      });
      readLines(
        child.stdout,
        (line) => {
          if (line === 'ready') resolve();
          else if (line.startsWith('fired ')) fire(line.slice('fired '.length));
        },
        () => {},
      );
    }).finally(() => clearTimeout(timer));
  }

  arm(arm: WatchdogArm): void {
    this.send(`arm ${JSON.stringify(arm)}`);
  }

  /** The signal is now due `ms` from now (after a renewal). */
  extend(ms: number): void {
    this.send(`deadline ${Math.floor(ms)}`);
  }

  /** The command's pid, once it runs. */
  adopt(pid: number): void {
    this.send(`pid ${pid}`);
  }

  /** koncli is stopping the command itself (a lost lease): the watchdog only makes sure SIGKILL lands in time. */
  stopping(): void {
    this.send('stopping');
  }

  /** The run ended as it should (nothing of the command is left, or it never started): the watchdog exits. */
  done(): void {
    this.finished = true;
    this.send('done');
    this.child?.stdin?.end();
  }

  private send(line: string): void {
    const stdin = this.child?.stdin;
    if (stdin && !stdin.destroyed && stdin.writable) stdin.write(`${line}\n`);
  }
}
