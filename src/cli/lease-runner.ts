import type { AcquireResult } from '../core/lease/acquire.js';
import type { LeaseKeeper } from '../core/lease/keeper.js';
import type { KubeClient } from '../kube/client.js';
import { isKind } from '../core/errors.js';
import { exitCodeOf, FORWARDED, SupervisedChild, type ChildExit } from './child.js';
import { formatDuration } from './duration.js';
import { ExitCode } from './exit-codes.js';
import { openLeases, type LeaseKind } from './lease-session.js';
import { reportWaiting } from './lease-text.js';
import type { Output } from './output.js';
import { startProgress } from './progress.js';

/** What to do with processes the command started that still run when it exits (docs/lease-run.md). */
export type OrphanPolicy = 'stop' | 'wait';
export const ORPHAN_POLICIES: OrphanPolicy[] = ['stop', 'wait'];

export interface LeaseRunRequest {
  name: string;
  holder: string;
  /** The command and its arguments, run without a shell. */
  command: string[];
  /** --ttl in seconds; undefined: the lease's current duration, else defaultDurationSeconds. */
  durationSeconds?: number;
  defaultDurationSeconds: number;
  wait: { wait: boolean; timeoutMs?: number };
  conflictExitCode: number;
  /** Sent to the command's processes before SIGKILL. */
  signal: NodeJS.Signals;
  /** ms between `signal` and SIGKILL; undefined: a quarter of the TTL. Any length (core/timer.ts). */
  killAfterMs?: number;
  orphans: OrphanPolicy;
  delete: boolean;
  labels: Record<string, string>;
  priority: number;
  reason?: string;
  kind: LeaseKind;
}

export type LeaseRunResult =
  | { lease: string; holder: string; outcome: 'busy'; ran: false; exitCode: number }
  | {
      lease: string;
      holder: string;
      outcome: 'completed' | 'lost';
      reason?: string;
      fencingToken: string;
      renewals: number;
      /** The command's own exit code (128+N: signal N). */
      commandExit: number;
      /** Processes the command started that were still running when it exited. */
      leftovers: number;
      exitCode: number;
    };

/**
 * `lease run`: acquires the lease, runs the command under it while a LeaseKeeper renews it, and
 * releases it only once nothing the command started is left (docs/lease-run.md). Never throws
 * `busy`: that is the `busy` outcome.
 */
export async function runUnderLease(client: KubeClient, output: Output, req: LeaseRunRequest): Promise<LeaseRunResult> {
  const ctx = await openLeases(client, req.kind);
  // One listener for the whole run: while waiting, a signal gives up the wait; once the command
  // runs, it is delivered to everything the command started. (Between the two, a signal would
  // otherwise find no listener and kill koncli with the command left running.)
  const interrupted = new AbortController();
  let child: SupervisedChild | undefined;
  let pendingSignal: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (child) child.deliver(signal);
    else {
      pendingSignal ??= signal;
      interrupted.abort();
    }
  };
  for (const s of FORWARDED) process.on(s, onSignal);
  try {
    return await runWith(
      client,
      output,
      req,
      ctx,
      interrupted.signal,
      () => pendingSignal,
      (c) => (child = c),
    );
  } finally {
    for (const s of FORWARDED) process.off(s, onSignal);
  }
}

async function runWith(
  client: KubeClient,
  output: Output,
  req: LeaseRunRequest,
  ctx: Awaited<ReturnType<typeof openLeases>>,
  interrupted: AbortSignal,
  pendingSignal: () => NodeJS.Signals | undefined,
  started: (child: SupervisedChild) => void,
): Promise<LeaseRunResult> {
  const got = await acquireForRun(client, output, req, ctx, interrupted);
  if ('busy' in got) return got.busy;
  const run = await keepLease(client, output, req, ctx, got.acquired);
  let child: SupervisedChild;
  try {
    const signalled = pendingSignal();
    if (signalled) return await neverStarted(run, signalled);
    child = new SupervisedChild(req.command[0], req.command.slice(1), {
      ...process.env,
      KONCLI_LEASE: req.name,
      KONCLI_NAMESPACE: client.namespace,
      KONCLI_HOLDER: req.holder,
      KONCLI_FENCING_TOKEN: run.acquired.fencingToken,
    });
  } catch (err) {
    run.keeper.stop();
    throw err;
  }
  started(child);
  try {
    return await new Supervision(run, child).result();
  } finally {
    run.keeper.stop();
    child.close();
  }
}

/** Step 1: the lease, as `lease acquire` takes it (with --wait, a progress line); busy is an outcome, not an error. */
async function acquireForRun(
  client: KubeClient,
  output: Output,
  req: LeaseRunRequest,
  ctx: LeaseRunContext,
  interrupted: AbortSignal,
): Promise<{ acquired: AcquireResult } | { busy: LeaseRunResult }> {
  const { name, holder } = req;
  const { acquireLease } = await import('../core/lease/acquire.js');
  const progress = req.wait.wait ? await startProgress(output, `waiting for lease ${name}`) : undefined;
  const waiting = reportWaiting(progress, name, () => ctx.clock.now());
  try {
    const acquired = await acquireLease(
      ctx,
      {
        name,
        namespace: client.namespace,
        holder,
        durationSeconds: req.durationSeconds,
        defaultDurationSeconds: req.defaultDurationSeconds,
        priority: req.priority,
        renewable: true,
        reason: req.reason,
        labels: req.labels,
      },
      { ...req.wait, signal: interrupted, onProgress: waiting.onProgress, onNotice: (m) => output.warn(m), keepWatching: true },
    );
    await progress?.finish(true, `acquired lease ${name}`);
    return { acquired };
  } catch (err) {
    await progress?.finish(false);
    if (!isKind(err, 'busy')) throw err;
    output.error(`${err.message}; not running the command`);
    return { busy: { lease: name, holder, outcome: 'busy', ran: false, exitCode: req.conflictExitCode } };
  } finally {
    waiting.stop();
  }
}

type LeaseRunContext = Awaited<ReturnType<typeof openLeases>>;

/** A held lease and what keeps it: the keeper renewing it, and the timing of our claim. */
interface HeldLease {
  output: Output;
  req: LeaseRunRequest;
  ctx: LeaseRunContext;
  acquired: AcquireResult;
  keeper: LeaseKeeper;
  ttlMs: number;
  killAfterMs: number;
}

/** Step 2: a LeaseKeeper renewing the lease, timed by the duration our claim has (--ttl, the default, or a konductor Lease's spec.ttl). */
async function keepLease(client: KubeClient, output: Output, req: LeaseRunRequest, ctx: LeaseRunContext, acquired: AcquireResult): Promise<HeldLease> {
  const [{ LeaseKeeper }, { releaseLease }, { holderTiming }] = await Promise.all([
    import('../core/lease/keeper.js'),
    import('../core/lease/release.js'),
    import('../core/timing.js'),
  ]);
  const ttlMs = acquired.record.holding.durationSeconds * 1000;
  let timing: ReturnType<typeof holderTiming>;
  try {
    timing = holderTiming(acquired.record.holding.durationSeconds, client.requestTimeoutMs);
  } catch (err) {
    // A duration no holder can keep (a konductor spec.ttl of 0s): give the lease back, run nothing.
    acquired.feed?.stop();
    await releaseLease(ctx, { name: req.name, holder: req.holder, delete: false, force: false }).catch(() => {});
    throw err;
  }
  const killAfterMs = req.killAfterMs ?? timing.killAfterMs;
  if (killAfterMs > ttlMs - timing.renewDeadlineMs) {
    output.warn(
      `--kill-after ${formatDuration(killAfterMs)} is longer than the ${formatDuration(ttlMs - timing.renewDeadlineMs)} between the renew deadline and the TTL: after a lost lease, another holder may start before this command is killed`,
    );
  }
  const keeper = new LeaseKeeper(ctx, req.name, req.holder, acquired.record, acquired.sentAt, timing, (m) => output.warn(m), acquired.feed);
  keeper.start();
  return { output, req, ctx, acquired, keeper, ttlMs, killAfterMs };
}

/** Signalled after the lease was had, before the command started: it never starts. */
async function neverStarted(run: HeldLease, signalled: NodeJS.Signals): Promise<LeaseRunResult> {
  const { name, holder } = run.req;
  run.keeper.stop();
  run.output.error(`${signalled} received before the command started; not running it`);
  const { releaseLease } = await import('../core/lease/release.js');
  await releaseLease(run.ctx, { name, holder, delete: run.req.delete, force: false }, run.keeper.latest).catch(() => {});
  const code = exitCodeOf({ code: null, signal: signalled });
  return { lease: name, holder, outcome: 'completed', fencingToken: run.acquired.fencingToken, renewals: 0, commandExit: code, leftovers: 0, exitCode: code };
}

/**
 * Step 3: the command runs under the lease. It ends when the command and everything it started
 * are done (then the lease is released), or when the lease is lost (then all of them are stopped).
 */
class Supervision {
  private lostReason: string | undefined;
  private readonly lost: Promise<{ lost: string }>;
  private readonly stopping: string;

  constructor(
    private readonly run: HeldLease,
    private readonly child: SupervisedChild,
  ) {
    this.lost = run.keeper.lost.then((reason) => {
      this.lostReason = reason;
      return { lost: reason };
    });
    this.stopping = `${run.req.signal}, then SIGKILL after ${formatDuration(run.killAfterMs)}`;
  }

  async result(): Promise<LeaseRunResult> {
    const { output, req } = this.run;
    const ended = await Promise.race([
      this.child.exited.then(
        (exit) => ({ exit }),
        (error: NodeJS.ErrnoException) => ({ spawnError: error }),
      ),
      this.lost,
    ]);
    if ('lost' in ended) {
      await this.stopAll(ended.lost);
      const exit = await this.child.exited.catch((): ChildExit => ({ code: null, signal: null }));
      return this.outcome('lost', exit, 0, ExitCode.LOST);
    }
    if ('spawnError' in ended) output.error(`cannot run ${req.command[0]}: ${ended.spawnError.message}`);
    const code = 'exit' in ended ? exitCodeOf(ended.exit) : ended.spawnError.code === 'ENOENT' ? 127 : 126;
    // The command is done; what it started may not be. The lease stays held (and renewed) until
    // none of it is left.
    const leftovers = await this.child.remaining();
    if (leftovers.length > 0) {
      const lostMeanwhile = await this.outlive(
        leftovers.map((p) => p.pid),
        code,
      );
      if (lostMeanwhile) return this.outcome('lost', code, leftovers.length, ExitCode.LOST);
    }
    await this.release();
    return this.outcome('completed', code, leftovers.length, code);
  }

  /** Waits for (--orphans wait) or stops the processes left behind; true when the lease was lost meanwhile. */
  private async outlive(pids: number[], code: number): Promise<boolean> {
    const { output, req } = this.run;
    const n = pids.length;
    const what = `the command exited (${code}) but ${n} process${n > 1 ? 'es' : ''} it started still run${n > 1 ? '' : 's'} (pid ${pids.join(', ')})`;
    if (req.orphans === 'wait') {
      output.warn(`${what}; holding lease ${req.name} until ${n > 1 ? 'they exit' : 'it exits'} (--orphans wait)`);
      const settled = await Promise.race([this.child.whenAllExited().then(() => ({ gone: true as const })), this.lost]);
      if (!('lost' in settled)) return false;
      await this.stopAll(settled.lost);
      return true;
    }
    output.warn(`${what}; stopping ${n > 1 ? 'them' : 'it'} (${this.stopping}) before releasing lease ${req.name}`);
    await this.child.stop(req.signal, this.run.killAfterMs, this.onStuck);
    if (this.lostReason === undefined) return false;
    output.error(`lease lost while the command's processes were being stopped: ${this.lostReason}`);
    return true;
  }

  private readonly onStuck = (pids: number[]) =>
    this.run.output.warn(
      `cannot signal process${pids.length > 1 ? 'es' : ''} ${pids.join(', ')} (not permitted: another user's); holding lease ${this.run.req.name} until ${pids.length > 1 ? 'they exit' : 'it exits'}`,
    );

  private async stopAll(why: string): Promise<void> {
    this.run.output.error(`lease lost: ${why}; stopping the command and every process it started (${this.stopping})`);
    await this.child.stop(this.run.req.signal, this.run.killAfterMs, this.onStuck);
  }

  private async release(): Promise<void> {
    const { ctx, keeper, req, output } = this.run;
    keeper.stop();
    const { releaseLease } = await import('../core/lease/release.js');
    try {
      // Released from the watched copy, unless an older koncli's waiters are queued in the legacy
      // annotation: their heartbeats change the lease under us, and a write from a copy that is a
      // moment old would mostly conflict (then read anyway). Candidates never touch the lease.
      const latest = keeper.latest;
      await releaseLease(
        ctx,
        { name: req.name, holder: req.holder, delete: req.delete, force: false },
        latest.extras.queue.waiters.length === 0 ? latest : undefined,
      );
    } catch (err) {
      output.warn(`could not release lease ${req.name} (${(err as Error).message}); it expires by itself within ${formatDuration(this.run.ttlMs)}`);
    }
  }

  private outcome(outcome: 'completed' | 'lost', exit: ChildExit | number, leftovers: number, exitCode: number): LeaseRunResult {
    return {
      lease: this.run.req.name,
      holder: this.run.req.holder,
      outcome,
      ...(outcome === 'lost' ? { reason: this.lostReason } : {}),
      fencingToken: this.run.acquired.fencingToken,
      renewals: this.run.keeper.renewals,
      commandExit: typeof exit === 'number' ? exit : exitCodeOf(exit),
      leftovers,
      exitCode,
    };
  }
}
