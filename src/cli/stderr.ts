// koncli's stderr: one writer for everything koncli (and the libraries it loads) writes there, which
// never blocks the event loop, so a reader that stops reading (a stalled log collector, `2>&1 | less`,
// a terminal paused with Ctrl-S) never stops renewals or the stop of a lost lease's command.
// Node and Bun write to pipes and terminals synchronously: one write to a full pipe or a paused
// terminal stops everything (docs/lease-run.md, "Output").
import { constants, fstatSync, openSync } from 'node:fs';
import { Writable } from 'node:stream';
import { isatty } from 'node:tty';
import { format } from 'node:util';
import { BACKLOG_BYTES, fdSink, StderrWriter } from './stderr-writer.js';

/**
 * The descriptor koncli writes stderr through. A pipe or a terminal is opened again through
 * /proc/self/fd/2 with O_NONBLOCK: that is a new open file description (the flag belongs to it), so
 * fd 2 itself — which the command `lease run` starts inherits — stays blocking, as the command
 * expects. A regular file or another device is written through fd 2 itself: a file shares its
 * offset with the command's writes, and neither waits for a reader. Fd 2 stays the fallback where
 * no second description can be had: a socket (systemd's journal: ENXIO), a pipe whose reader is
 * gone (ENXIO; writes fail with EPIPE, they do not block), no /proc.
 */
export function openStderr(): number {
  try {
    if (!fstatSync(2).isFIFO() && !isatty(2)) return 2;
    // Node and Bun open with O_CLOEXEC: the command never inherits this descriptor.
    return openSync('/proc/self/fd/2', constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return 2;
  }
}

/**
 * A Writable over the writer, with what code expects of process.stderr (isTTY, columns, rows,
 * colour depth: asked of the runtime's own stream of fd 2, which is never written to).
 */
export class StderrStream extends Writable {
  readonly fd = 2;

  constructor(
    private readonly writer: StderrWriter,
    readonly isTTY: boolean,
    private readonly terminal: () => NodeJS.WriteStream | undefined,
    /** Progress frames: redrawn anyway, so dropping them is not counted. */
    private readonly transient = false,
  ) {
    super({ decodeStrings: true });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.writer.write(chunk, this.transient);
    done();
  }

  /** The same writer, for progress frames (listr2's renderer). */
  frames(): StderrStream {
    return new StderrStream(this.writer, this.isTTY, this.terminal, true);
  }

  /** The terminal's width; undefined when it is unknown (a pty nobody sized, e.g. util-linux `script`'s, says 0). */
  get columns(): number | undefined {
    return this.terminal()?.columns || undefined;
  }

  /** The terminal's height, as `columns`: 0 would make listr2's renderer draw nothing at all. */
  get rows(): number | undefined {
    return this.terminal()?.rows || undefined;
  }

  getColorDepth(env?: object): number {
    return this.terminal()?.getColorDepth?.(env) ?? 1;
  }

  hasColors(count?: number): boolean {
    return this.terminal()?.hasColors?.(count) ?? false;
  }

  getWindowSize(): [number, number] {
    return this.terminal()?.getWindowSize?.() ?? [80, 24];
  }
}

/** KONCLI_STDERR_BUFFER: the bytes held for a reader that is not reading (a positive integer; default BACKLOG_BYTES). */
function backlogBytes(): number {
  const n = Number(process.env.KONCLI_STDERR_BUFFER);
  return Number.isSafeInteger(n) && n > 0 ? n : BACKLOG_BYTES;
}

let installed: StderrStream | undefined;

/**
 * koncli's stderr (installed on first use). Installing makes it process.stderr, and console.error
 * and console.warn write to it, so what libraries write (oclif's warnings, listr2's cursor,
 * the runtime's warnings) goes through the same writer; at exit what is held is flushed, waiting at
 * most EXIT_FLUSH_MS.
 */
export function stderr(): StderrStream {
  if (installed) return installed;
  const writer = new StderrWriter(fdSink(openStderr()), backlogBytes());
  const own = Object.getOwnPropertyDescriptor(process, 'stderr');
  let terminal: NodeJS.WriteStream | undefined;
  const runtimeStream = () => (terminal ??= (own?.get ? own.get.call(process) : own?.value) as NodeJS.WriteStream | undefined);
  const tty = isatty(2);
  const stream = new StderrStream(writer, tty, () => (tty ? runtimeStream() : undefined));
  installed = stream;
  try {
    Object.defineProperty(process, 'stderr', { configurable: true, enumerable: own?.enumerable ?? true, get: () => stream });
  } catch {
    // a runtime that keeps its own: libraries write there, koncli's code still writes here
  }
  console.error = console.warn = (...args: unknown[]) => void stream.write(`${format(...args)}\n`);
  process.on('exit', () => writer.flushAtExit());
  return stream;
}
