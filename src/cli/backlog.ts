/** One write waiting for the reader: its bytes, how many of them are out already, what dropping it costs. */
interface Entry {
  bytes: Buffer;
  /** Bytes of it already written: a partly written entry is never dropped (half a line or half an escape sequence). */
  sent: number;
  /** The lines the reader misses if it is dropped: its newlines, the count a drop notice carries, 0 for a transient write. */
  lines: number;
  /** Set on a drop notice: dropping it carries its count over to the next notice. */
  notice?: boolean;
}

/**
 * What koncli has written to stderr and the reader has not taken yet, bounded: when a new write
 * would take it past `limitBytes`, the oldest whole writes go (never one partly written, never the
 * newest), and their lines are counted. Before the next write that goes out after a drop, the
 * reader gets one line saying how many it missed (`notice(n)`). Newest wins because the last
 * messages (a lost lease, the final error) matter most. Pure bookkeeping: the caller writes.
 */
export class Backlog {
  private readonly entries: Entry[] = [];
  private size = 0;
  /** Lines dropped and not yet reported. */
  private missed = 0;

  /**
   * @param limitBytes the bound on bytes held (a single write larger than it is held alone)
   * @param notice the line (with its newline) that reports `n` dropped lines
   */
  constructor(
    readonly limitBytes: number,
    private readonly notice: (n: number) => string,
  ) {}

  /** Bytes held. */
  get bytes(): number {
    return this.size;
  }

  /** Lines dropped and not reported yet. */
  get dropped(): number {
    return this.missed;
  }

  get empty(): boolean {
    return this.entries.length === 0 && this.missed === 0;
  }

  /** Queues a write; `transient` (a progress frame, redrawn anyway) counts no lines when dropped. */
  push(bytes: Buffer, transient = false): void {
    if (bytes.length === 0) return;
    this.entries.push({ bytes, sent: 0, lines: transient ? 0 : newlines(bytes) });
    this.size += bytes.length;
    while (this.size > this.limitBytes && this.dropOldest()) {
      // dropped one; go on while over the bound
    }
  }

  /** The bytes to write next (the rest of the oldest write, or the drop notice before it), or undefined when nothing waits. */
  next(): Buffer | undefined {
    if (this.missed > 0 && (this.entries[0]?.sent ?? 0) === 0) {
      const bytes = Buffer.from(this.notice(this.missed));
      this.entries.unshift({ bytes, sent: 0, lines: this.missed, notice: true });
      this.size += bytes.length;
      this.missed = 0;
    }
    const head = this.entries[0];
    return head && head.bytes.subarray(head.sent);
  }

  /** Records that `n` bytes of what `next()` returned were written. */
  consumed(n: number): void {
    const head = this.entries[0];
    if (!head || n <= 0) return;
    head.sent += n;
    this.size -= n;
    if (head.sent >= head.bytes.length) this.entries.shift();
  }

  /** Forgets everything held (the reader is gone for good); returns the lines lost. */
  clear(): number {
    const lost = this.missed + this.entries.reduce((sum, e) => sum + e.lines, 0);
    this.entries.length = 0;
    this.size = 0;
    this.missed = 0;
    return lost;
  }

  private dropOldest(): boolean {
    const index = this.entries[0]?.sent ? 1 : 0;
    if (index >= this.entries.length - 1) return false; // keep the newest write and a partly written one
    const [gone] = this.entries.splice(index, 1);
    this.size -= gone.bytes.length;
    this.missed += gone.lines;
    return true;
  }
}

function newlines(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}
