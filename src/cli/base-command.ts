import { Command, Flags, type Interfaces } from '@oclif/core';
import type { Clock } from '../core/clock.js';
import { KoncliError, usageError } from '../core/errors.js';
import { DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_REQUEST_TIMEOUT_MS } from '../core/timing.js';
import type { KubeClient } from '../kube/client.js';
import { parseTimerDuration } from './duration.js';
import { restorePasswdEnv } from './passwd-env.js';
import { markStartup } from './startup-timing.js';
import { EXIT_CODES_HELP, ExitCode, exitCodeFor } from './exit-codes.js';
import { Output, type OutputFormat } from './output.js';
import { startProgress, type Progress } from './progress.js';
import { validateNamespace } from './validate.js';
import { sayBusy, sayRule, withBreak } from './break-commands.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof KoncliCommand)['baseFlags'] & T['flags']>;
/** The cluster and output flags every command takes, as parsed. */
type ClusterFlags = Partial<Interfaces.InferredFlags<(typeof KoncliCommand)['baseFlags']>>;

export const EXIT_CODES_SECTION = `\nEXIT CODES\n${EXIT_CODES_HELP}`;

/** What a waiting call gets from `KoncliCommand.waiting`: its abort signal, the progress line (undefined when not waiting), where notices go. */
export interface Waiting {
  signal: AbortSignal;
  progress: Progress | undefined;
  onNotice: (message: string) => void;
}

/**
 * Shared cluster flags, output and error handling. Subclasses parse, call core, print: every
 * failure ends here as one line on stderr, a JSON error document with --json, and a documented
 * exit code.
 */
export abstract class KoncliCommand extends Command {
  static override baseFlags = {
    kubeconfig: Flags.string({ description: 'path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster)', helpGroup: 'CLUSTER' }),
    context: Flags.string({ description: 'kubeconfig context to use', helpGroup: 'CLUSTER' }),
    namespace: Flags.string({ char: 'n', description: "namespace (default: the context's, or the Pod's)", helpGroup: 'CLUSTER' }),
    'request-timeout': Flags.string({
      description: 'bound on each API request (a holder bounds its renewals tighter: docs/clock.md)',
      default: `${DEFAULT_REQUEST_TIMEOUT_MS / 1000}s`,
      helpGroup: 'CLUSTER',
    }),
    'max-clock-skew': Flags.string({
      description: "how far apart two machines' clocks may be, when a claim's own timestamp is compared with another clock (docs/clock.md)",
      env: 'KONCLI_MAX_CLOCK_SKEW',
      default: `${DEFAULT_MAX_CLOCK_SKEW_MS / 1000}s`,
      helpGroup: 'CLUSTER',
    }),
    json: Flags.boolean({ description: 'print one JSON document on stdout and nothing else', helpGroup: 'OUTPUT' }),
    output: Flags.string({ char: 'o', description: 'output format', options: ['text', 'json', 'yaml'], helpGroup: 'OUTPUT' }),
    verbose: Flags.boolean({
      char: 'v',
      description: "log each API request (method and path), watch, new connection and credential refresh on stderr (kubectl's -v=6 or higher means the same)",
      helpGroup: 'OUTPUT',
    }),
  };

  protected output = new Output('text');
  /**
   * Set by a command that can be busy: the command line that would break what blocks it, from the
   * busy error's details (its holder or holders), appended to the error (issue 23: what to do, first).
   */
  protected busyBreak?: (details: Record<string, unknown>) => string | undefined;
  private baseFlagValues: ClusterFlags = {};
  private kubeClient: KubeClient | undefined;

  override async init(): Promise<void> {
    markStartup('oclifLoaded');
    restorePasswdEnv();
    await super.init();
    const argv = this.argv;
    // Decide the output format before parsing, so even a parse error honours --json.
    const jsonish =
      argv.includes('--json') ||
      argv.some((a, i) => (a === '-o' || a === '--output') && argv[i + 1] === 'json') ||
      argv.includes('--output=json') ||
      argv.includes('-ojson');
    this.output = new Output(jsonish ? 'json' : 'text');
    const { flags } = await this.parse(this.ctor as typeof KoncliCommand);
    this.baseFlagValues = flags;
    if (flags.json && flags.output !== undefined && flags.output !== 'json') {
      throw usageError(`--json and -o ${flags.output} ask for two output formats; pass one of them`);
    }
    // A command may take more -o values (status: wide, name, jsonpath=…); those print text.
    const format: OutputFormat = flags.json ? 'json' : flags.output === 'json' || flags.output === 'yaml' ? flags.output : 'text';
    this.output = new Output(format);
    this.output.verbose = !!flags.verbose;
  }

  /** The namespace given with -n, validated; undefined means "from the kubeconfig". */
  protected get namespaceFlag(): string | undefined {
    const ns = this.baseFlagValues.namespace;
    return ns === undefined ? undefined : validateNamespace(ns);
  }

  /** A client for the selected cluster, created on first use (client-node loads lazily). */
  protected async kube(): Promise<KubeClient> {
    if (this.kubeClient) return this.kubeClient;
    const { KubeClient } = await import('../kube/client.js');
    const f = this.baseFlagValues;
    const requestTimeoutMs = parseTimerDuration(f['request-timeout'] ?? `${DEFAULT_REQUEST_TIMEOUT_MS / 1000}s`, 'request-timeout');
    if (requestTimeoutMs <= 0) throw new KoncliError('usage', '--request-timeout must be positive, e.g. 10s');
    const maxClockSkewMs = parseTimerDuration(f['max-clock-skew'] ?? `${DEFAULT_MAX_CLOCK_SKEW_MS / 1000}s`, 'max-clock-skew');
    this.kubeClient = KubeClient.connect({
      kubeconfig: f.kubeconfig,
      context: f.context,
      namespace: this.namespaceFlag,
      requestTimeoutMs,
      maxClockSkewMs,
      trace: f.verbose ? (line) => this.output.trace(line) : undefined,
    });
    markStartup('kubeconfig');
    return this.kubeClient;
  }

  /**
   * Runs the reads of a one-shot command (status) under the retry policy: transient failures (429,
   * 5xx, a dropped connection) are retried for ONE_SHOT_RETRY_MS, saying so once (src/core/retry.ts).
   */
  protected async oneShot<T>(clock: Clock, read: () => Promise<T>): Promise<T> {
    const { retryOnConflict } = await import('../core/retry.js');
    return retryOnConflict({ clock, onNotice: (m) => this.output.warn(m) }, read);
  }

  /**
   * Runs a call that may wait (--wait): SIGINT and SIGTERM abort it through `signal`; with `wait`
   * a progress line shows on a terminal, ending with `done(result)` or as failed; notices go to
   * stderr as warnings.
   */
  protected async waiting<R>(opts: { wait: boolean; title: string; done: (result: R) => string }, call: (w: Waiting) => Promise<R>): Promise<R> {
    const progress = opts.wait ? await startProgress(this.output, opts.title) : undefined;
    const interrupt = new AbortController();
    const onSignal = () => interrupt.abort();
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    try {
      const result = await call({ signal: interrupt.signal, progress, onNotice: (m) => this.output.warn(m) });
      await progress?.finish(true, opts.done(result));
      return result;
    } catch (err) {
      await progress?.finish(false);
      throw err;
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
  }

  private withBreakCommand(f: Failure): Failure {
    const command = f.kind === 'busy' ? this.busyBreak?.(f.details ?? {}) : undefined;
    return command ? { ...f, message: withBreak(f.message, command), details: { ...f.details, breakCommand: command } } : f;
  }

  /**
   * A busy outcome that is a result, not a failure (a run whose command never started): said in
   * one line with the break command, the rule at -v; returns what the result document adds.
   */
  protected sayBusy(err: KoncliError, notDone: string) {
    const details = err.details ?? {};
    return sayBusy(this.output, notDone, oneLine(err.message), details, this.busyBreak?.(details));
  }

  protected override async catch(err: Error & { oclif?: { exit?: number }; code?: string }): Promise<void> {
    if (err.oclif?.exit === 0 || err.code === 'EEXIT') throw err; // oclif's own exits (help, version)
    // The arguments were parsed, and refused: reported here, in one line. (oclif would otherwise warn
    // "did not parse its arguments" whenever NODE_ENV is development or test.)
    this.parsed = true;
    const { code, kind, message, details } = this.withBreakCommand(describeFailure(err));
    if (this.output.machine) {
      await this.output.result({ error: { kind, message, exitCode: code, ...details, ...holdersOf(details) } }, () => '');
    }
    this.output.error(message);
    sayRule(this.output, details);
    process.exitCode = code;
  }
}

type Failure = ReturnType<typeof describeFailure>;

/**
 * The one error document's `holders` (docs/json.md): whoever the error names as holding the claim,
 * whatever the kind called it (`holders`, `holder`, kubelock's `owner`); nothing when it names none.
 */
function holdersOf(details: Record<string, unknown> = {}): { holders?: string[] } {
  if (Array.isArray(details.holders)) return {};
  const who = typeof details.holder === 'string' ? details.holder : typeof details.owner === 'string' ? details.owner : undefined;
  if (who !== undefined) return { holders: who ? [who] : [] };
  return details.holder === null ? { holders: [] } : {};
}

function describeFailure(err: Error & { oclif?: { exit?: number } }) {
  if (err instanceof KoncliError) {
    return { code: exitCodeFor(err.kind), kind: err.kind, message: oneLine(err.message), details: err.details };
  }
  if (err.oclif?.exit !== undefined || /flag|argument/i.test(err.message)) {
    return { code: ExitCode.USAGE, kind: 'usage', message: `${oneLine(err.message)} (see --help)`, details: {} };
  }
  return { code: ExitCode.ERROR, kind: 'error', message: oneLine(err.message || String(err)), details: {} };
}

const oneLine = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l && !/^See more help/.test(l))
    .join(' ');
