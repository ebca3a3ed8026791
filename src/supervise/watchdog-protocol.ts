// The line protocol between koncli (watchdog-client.ts) and its watchdog (watchdog.ts), and how
// koncli re-executes itself as the watchdog. No imports but types: entry.ts loads this at every start.
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
  /** The claim as messages name it ("lease NAMESPACE/NAME", "semaphore NAMESPACE/NAME"), for the watchdog's one line on stderr. */
  claim: string;
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
