// koncli's side of the watchdog (watchdog.ts); the protocol is in watchdog-protocol.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { readLines, watchdogCommand, type WatchdogArm } from './watchdog-protocol.js';

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

  private spawn(fire: (reason: string) => void, onNotice: (message: string) => void): Promise<void> {
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
