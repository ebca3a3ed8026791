import { Flags } from '@oclif/core';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { EXIT_CODES_SECTION, KoncliCommand } from '../../cli/base-command.js';
import { exitCodeOf, parseSignal, SupervisedChild, type ChildExit } from '../../cli/child.js';
import { formatDuration, parseTimerDuration, parseTtlSeconds } from '../../cli/duration.js';
import { ExitCode } from '../../cli/exit-codes.js';
import { holderFlag, labelsFlag, leaseKindFlag, leaseNameArg, priorityFlag, waitFlags } from '../../cli/lease-flags.js';
import { openLeases, type LeaseKind } from '../../cli/lease-session.js';
import { reportWaiting } from '../../cli/lease-text.js';
import { startProgress } from '../../cli/progress.js';
import { parseLabels, validateHolder, validateObjectName } from '../../cli/validate.js';
import { waitOptions } from '../../cli/wait-options.js';
import { isKind, usageError } from '../../core/errors.js';
import { RUN_DEFAULT_TTL_SECONDS } from '../../core/timing.js';

export const RUN_DEFAULT_TTL = `${RUN_DEFAULT_TTL_SECONDS}s`;

export default class LeaseRun extends KoncliCommand {
  static override summary = 'Run a command while holding a Lease; stop it before the lease could be lost';
  static override description = `Acquires the lease (as \`lease acquire\`), runs the command directly (no shell) with stdio passed through, renews in the background, and releases when the command exits, exiting with its exit code (128+N if it died of signal N). If renewal keeps failing past the renew deadline (2/3 of the TTL) or another holder appears, the command and every process it started get --signal, then SIGKILL after --kill-after, and koncli exits ${ExitCode.LOST} (lost). SIGINT, SIGTERM and SIGHUP sent to koncli are passed on to the command. When the lease cannot be had in time: --conflict-exit-code, and the command never starts. The command sees KONCLI_LEASE, KONCLI_NAMESPACE, KONCLI_HOLDER and KONCLI_FENCING_TOKEN (strictly increasing across holders; see docs/lease-run.md).${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> lease run nightly-report -- ./report.sh --full',
    '<%= config.bin %> lease run db-migration --wait --timeout 10m -- sh -c \'migrate up\'',
  ];
  static override strict = false;
  static override args = { name: leaseNameArg };
  static override flags = {
    holder: Flags.string({ description: 'holder identity [default: host name plus a random suffix, unique per run]' }),
    ttl: Flags.string({ description: `duration of our claim, renewed every third of it [default: ${RUN_DEFAULT_TTL}; a konductor Lease's spec.ttl] (never the duration a previous holder left)` }),
    ...waitFlags,
    'conflict-exit-code': Flags.integer({ description: 'exit code when the lease cannot be had in time', default: ExitCode.BUSY, min: 0, max: 255 }),
    signal: Flags.string({ description: 'signal sent to the command when the lease is lost', default: 'TERM' }),
    'kill-after': Flags.string({ description: 'send SIGKILL this long after --signal [default: a quarter of the TTL]' }),
    delete: Flags.boolean({ description: 'delete the Lease afterwards (only if we still hold it)' }),
    labels: labelsFlag,
    priority: priorityFlag,
    reason: Flags.string({ description: 'why you hold it (shown by status)' }),
    kind: leaseKindFlag,
  };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(LeaseRun);
    const name = validateObjectName(args.name, 'lease');
    // oclif orders its non-strict argv by each token's *first* position in the raw argv, so a command
    // argument that repeats the lease name, a flag value or an earlier argument would move; after
    // `--` the raw argv is the command exactly as given.
    const dash = this.argv.indexOf('--');
    const command = dash >= 0 && this.argv.slice(0, dash).includes(args.name) ? this.argv.slice(dash + 1) : (argv as string[]).slice(1);
    if (command.length === 0) throw usageError('no command given: koncli lease run NAME [flags] -- command [args…]');
    const holder = validateHolder(flags.holder ?? `${hostname()}-${randomBytes(4).toString('hex')}`);
    const durationSeconds = flags.ttl === undefined ? undefined : parseTtlSeconds(flags.ttl);
    const killAfterFlagMs = flags['kill-after'] === undefined ? undefined : parseTimerDuration(flags['kill-after'], 'kill-after');
    let signal: NodeJS.Signals;
    try {
      signal = parseSignal(flags.signal);
    } catch {
      throw usageError(`--signal ${flags.signal} is not a signal name; use e.g. TERM, INT or HUP`);
    }
    const labels = parseLabels(flags.labels);
    const wait = waitOptions(flags);

    const client = await this.kube();
    const ctx = await openLeases(client, flags.kind as LeaseKind);
    const [{ acquireLease }, { LeaseKeeper }, { releaseLease }, { holderTiming }] = await Promise.all([
      import('../../core/lease/acquire.js'),
      import('../../core/lease/keeper.js'),
      import('../../core/lease/release.js'),
      import('../../core/timing.js'),
    ]);

    const interrupted = new AbortController();
    const onSignal = () => interrupted.abort();
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal).once('SIGHUP', onSignal);
    const progress = wait.wait ? await startProgress(this.output, `waiting for lease ${name}`) : undefined;
    const waiting = reportWaiting(progress, name, () => ctx.clock.now());
    let acquired;
    try {
      acquired = await acquireLease(
        ctx,
        { name, namespace: client.namespace, holder, durationSeconds, defaultDurationSeconds: RUN_DEFAULT_TTL_SECONDS, priority: flags.priority, renewable: true, reason: flags.reason, labels },
        { ...wait, signal: interrupted.signal, onProgress: waiting.onProgress, onNotice: (m) => this.output.warn(m), keepWatching: true },
      );
      await progress?.finish(true, `acquired lease ${name}`);
    } catch (err) {
      await progress?.finish(false);
      if (!isKind(err, 'busy')) throw err;
      this.output.error(`${err.message}; not running the command`);
      await this.output.result({ lease: name, holder, outcome: 'busy', ran: false, exitCode: flags['conflict-exit-code'] }, () => '');
      process.exitCode = flags['conflict-exit-code'];
      return;
    } finally {
      waiting.stop();
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal).off('SIGHUP', onSignal);
    }

    // Timing follows the duration our claim has (--ttl, the default, or a konductor Lease's spec.ttl).
    const ttlSeconds = acquired.record.holding.durationSeconds;
    const timing = holderTiming(ttlSeconds, client.requestTimeoutMs);
    const killAfterMs = killAfterFlagMs ?? timing.killAfterMs;
    if (killAfterMs > ttlSeconds * 1000 - timing.renewDeadlineMs) {
      this.output.warn(`--kill-after ${formatDuration(killAfterMs)} is longer than the ${formatDuration(ttlSeconds * 1000 - timing.renewDeadlineMs)} between the renew deadline and the TTL: after a lost lease, another holder may start before this command is killed`);
    }
    const keeper = new LeaseKeeper(ctx, name, holder, acquired.record, acquired.sentAt, timing, (m) => this.output.warn(m), acquired.feed);
    keeper.start();
    let child: SupervisedChild;
    try {
      child = new SupervisedChild(command[0], command.slice(1), {
        ...process.env,
        KONCLI_LEASE: name,
        KONCLI_NAMESPACE: client.namespace,
        KONCLI_HOLDER: holder,
        KONCLI_FENCING_TOKEN: acquired.fencingToken,
      });
    } catch (err) {
      keeper.stop();
      throw err;
    }
    const ended = await Promise.race([
      child.exited.then((exit) => ({ exit }), (error: NodeJS.ErrnoException) => ({ spawnError: error })),
      keeper.lost.then((reason) => ({ lost: reason })),
    ]);

    if ('lost' in ended) {
      this.output.error(`lease lost: ${ended.lost}; stopping the command (${signal}, then SIGKILL after ${formatDuration(killAfterMs)})`);
      const exit = await child.stop(signal, killAfterMs).catch((): ChildExit => ({ code: null, signal: null }));
      await this.output.result({ lease: name, holder, outcome: 'lost', reason: ended.lost, fencingToken: acquired.fencingToken, commandExit: exitCodeOf(exit), exitCode: ExitCode.LOST }, () => '');
      process.exitCode = ExitCode.LOST;
      return;
    }

    keeper.stop();
    const code = 'exit' in ended ? exitCodeOf(ended.exit) : ended.spawnError.code === 'ENOENT' ? 127 : 126;
    if ('spawnError' in ended) this.output.error(`cannot run ${command[0]}: ${ended.spawnError.message}`);
    try {
      // Released from the watched copy, unless waiters are queued: their heartbeats change the lease
      // under us, and a write from a copy that is a moment old would mostly conflict (then read anyway).
      const latest = keeper.latest;
      await releaseLease(ctx, { name, holder, delete: flags.delete, force: false }, latest.extras.queue.waiters.length === 0 ? latest : undefined);
    } catch (err) {
      this.output.warn(`could not release lease ${name} (${(err as Error).message}); it expires by itself within ${formatDuration(ttlSeconds * 1000)}`);
    }
    await this.output.result(
      { lease: name, holder, outcome: 'completed', fencingToken: acquired.fencingToken, renewals: keeper.renewals, exitCode: code },
      () => '',
    );
    process.exitCode = code;
  }
}
