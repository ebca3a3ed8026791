import type { ChalkInstance } from 'chalk';
import { colorFor } from './color.js';
import { markStartup } from './startup-timing.js';
import { stderr } from './stderr.js';
import { writeStdout } from './stdout.js';

export type OutputFormat = 'text' | 'json' | 'yaml';

/**
 * Where everything goes: the result (and only the result) on stdout; messages, warnings and
 * progress on stderr, through the writer that never blocks (cli/stderr.ts).
 */
export class Output {
  readonly err: ChalkInstance;
  readonly out: ChalkInstance;

  constructor(readonly format: OutputFormat) {
    this.err = colorFor(stderr());
    this.out = colorFor(process.stdout);
  }

  /** -v: `detail` lines are shown. */
  verbose = false;

  get machine(): boolean {
    return this.format !== 'text';
  }

  /** Prints the command's result: the document as JSON/YAML, or the text for people. */
  async result(doc: unknown, text: () => string): Promise<void> {
    markStartup('output');
    if (this.format === 'json') writeStdout(JSON.stringify(doc, null, 2) + '\n');
    else if (this.format === 'yaml') {
      const mod = await import('yaml');
      const yaml = (mod as unknown as { default?: typeof mod }).default ?? mod; // CommonJS inside the bundle
      writeStdout(yaml.stringify(doc));
    } else {
      const line = text();
      if (line !== '') writeStdout(line + '\n'); // some commands (lease run) print nothing of their own
    }
  }

  info(message: string): void {
    stderr().write(`${this.err.dim('koncli:')} ${message}\n`);
  }

  warn(message: string): void {
    stderr().write(`${this.err.yellow('koncli: warning:')} ${message}\n`);
  }

  error(message: string): void {
    stderr().write(`${this.err.red('koncli: error:')} ${message}\n`);
  }

  /** Shown only at -v: the reasoning behind a verdict (a busy error's expiry rule). */
  detail(message: string): void {
    if (this.verbose) this.info(message);
  }

  /** A -v line (`koncli: api: …`). */
  trace(line: string): void {
    stderr().write(`koncli: api: ${line}\n`);
  }
}
