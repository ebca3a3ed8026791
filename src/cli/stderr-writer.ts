import { writeSync } from 'node:fs';
import { Backlog } from './backlog.js';

/** Bytes held for a reader that is not reading, beyond what its pipe or terminal holds (64 KiB for a Linux pipe). */
export const BACKLOG_BYTES = 64 * 1024;
/** ms between two offers of held output to a reader that was full or paused. */
export const RETRY_MS = 50;
/** ms koncli's exit waits at most for a reader that is not reading; what is left then is dropped. */
export const EXIT_FLUSH_MS = 1000;

/**
 * Where the bytes go: the number taken (possibly fewer than offered), `again` (the reader is full or
 * paused: EAGAIN on a non-blocking descriptor) or `gone` (EPIPE, EIO, EBADF: it never will read).
 */
export type Sink = (bytes: Buffer) => number | 'again' | 'gone';

/** A Sink writing to `fd`; it blocks only if `fd`'s open file description is blocking. */
export function fdSink(fd: number): Sink {
  return (bytes) => {
    try {
      const n = writeSync(fd, bytes);
      return n > 0 ? n : 'again';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR' ? 'again' : 'gone';
    }
  };
}

/** The line that tells the reader what it missed. */
export const droppedNotice = (n: number) => `koncli: … ${n} line${n === 1 ? '' : 's'} of koncli's output dropped: stderr was not being read\n`;

/**
 * Everything koncli writes to stderr, written without ever blocking the event loop (given a Sink
 * that does not block): what the reader does not take at once waits in a bounded Backlog and is
 * offered again every RETRY_MS; what does not fit is dropped and counted (Backlog). Order is kept.
 */
export class StderrWriter {
  readonly backlog: Backlog;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private gone = false;
  /** performance.now() after which exit waits no more; set by flushAtExit. */
  private exitDeadline: number | undefined;

  constructor(
    private readonly sink: Sink,
    limitBytes = BACKLOG_BYTES,
    private readonly retryMs = RETRY_MS,
  ) {
    this.backlog = new Backlog(limitBytes, droppedNotice);
  }

  /** Writes, or queues behind what waits; `transient` (a progress frame) counts no lines if dropped. */
  write(chunk: string | Uint8Array, transient = false): void {
    if (this.gone) return;
    this.backlog.push(Buffer.from(chunk), transient); // a copy: the caller may reuse its buffer
    if (this.exitDeadline !== undefined) this.flushAtExit();
    else if (!this.timer && this.drain() === 'again') this.retryLater();
  }

  /**
   * At exit (a process 'exit' listener): writes what is held, waiting for a reader that is full or
   * paused until EXIT_FLUSH_MS after the first call, then drops the rest. Synchronous: nothing of
   * the event loop runs any more. Writes after it get the rest of the same wait.
   */
  flushAtExit(waitMs = EXIT_FLUSH_MS): void {
    this.exitDeadline ??= performance.now() + waitMs;
    clearTimeout(this.timer);
    this.timer = undefined;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    while (this.drain() === 'again') {
      const left = this.exitDeadline - performance.now();
      if (left <= 0) {
        this.backlog.clear();
        return;
      }
      Atomics.wait(nap, 0, 0, Math.min(10, left));
    }
  }

  /** Writes what waits until the sink takes no more; `done` when nothing is left. */
  private drain(): 'done' | 'again' | 'gone' {
    for (let next = this.backlog.next(); next; next = this.backlog.next()) {
      const taken = this.sink(next);
      if (taken === 'again') return 'again';
      if (taken === 'gone') {
        this.gone = true;
        this.backlog.clear();
        return 'gone';
      }
      this.backlog.consumed(taken);
    }
    return 'done';
  }

  private retryLater(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.drain() === 'again') this.retryLater();
    }, this.retryMs);
    this.timer.unref?.();
  }
}
