import type { AcquireResult } from '../core/lease/acquire.js';
import type { ClaimKeeper } from '../core/claim/keeper.js';
import type { LeaseRecord } from '../core/lease/model.js';
import type { KubeClient } from '../kube/client.js';
import { isKind } from '../core/errors.js';
import { exitCodeOf, type SupervisedChild } from '../supervise/child.js';
import { startWatched, watchdogReady } from '../supervise/watched-start.js';
import { Watchdog } from '../supervise/watchdog-client.js';
import { breakArgs, commandLine, sayBusy } from './break-commands.js';
import { formatDuration } from './duration.js';
import { openLeases, type LeaseKind } from './lease-session.js';
import { reportWaiting } from './lease-text.js';
import type { Output } from './output.js';
import { startProgress } from './progress.js';
import { forwardingSignals, supervise, type Hold, type OrphanPolicy } from './supervision.js';

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
  | { lease: string; holder: string; outcome: 'busy'; ran: false; exitCode: number; heldBy: unknown; breakCommand: string | null; rule: unknown }
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
 * `lease run`: acquires the lease, runs the command under it while the claim keeper renews it, and
 * releases it only once nothing the command started is left (docs/lease-run.md). Never throws
 * `busy`: that is the `busy` outcome.
 */
export async function runUnderLease(client: KubeClient, output: Output, req: LeaseRunRequest): Promise<LeaseRunResult> {
  const ctx = await openLeases(client, req.kind);
  return forwardingSignals((signals) => runWith(client, output, req, ctx, signals.interrupted, signals.pending, signals.started));
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
  // The dead-man's switch (src/supervise/watchdog.ts), started now: its start-up overlaps the acquisition.
  const watchdog = new Watchdog((m) => output.warn(m));
  const got = await acquireForRun(client, output, req, ctx, interrupted);
  if ('busy' in got) {
    watchdog.done();
    return got.busy;
  }
  const run = await keepLease(client, output, req, ctx, got.acquired);
  let child: SupervisedChild;
  try {
    await watchdogReady(watchdog, () => giveBack(run));
    const signalled = pendingSignal();
    if (signalled) {
      watchdog.done();
      return await neverStarted(run, signalled);
    }
    child = startCommand(client, run, watchdog);
  } catch (err) {
    run.keeper.stop();
    throw err;
  }
  started(child);
  try {
    const result = await superviseUnderLease(run, child, watchdog);
    watchdog.done(); // only now: a run that ends by an exception leaves the watchdog to stop what is left
    return result;
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
    const details = err.details ?? {};
    const heldBy = typeof details.holder === 'string' && details.holder ? details.holder : undefined;
    const breakCommand = heldBy && commandLine(breakArgs.lease(name, client.namespace, req.kind === 'konductor', [heldBy]));
    const said = sayBusy(output, 'not running the command', err.message, details, breakCommand);
    return { busy: { lease: name, holder, outcome: 'busy', ran: false, exitCode: req.conflictExitCode, ...said } };
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
  keeper: ClaimKeeper<LeaseRecord>;
  /** When the watchdog signals and kills, after the renew deadline (core/timing.ts, watchdogTiming). */
  watchdogTiming: { slackMs: number; graceMs: number };
  ttlMs: number;
  killAfterMs: number;
}

/** Step 2: a claim keeper renewing the lease, timed by the duration our claim has (--ttl, the default, or a konductor Lease's spec.ttl). */
async function keepLease(client: KubeClient, output: Output, req: LeaseRunRequest, ctx: LeaseRunContext, acquired: AcquireResult): Promise<HeldLease> {
  const [{ leaseKeeper }, { releaseLease }, { holderTiming, watchdogTiming }] = await Promise.all([
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
  const keeper = leaseKeeper(ctx, req.name, req.holder, acquired.record, acquired.sentAt, timing, (m) => output.warn(m), acquired.feed);
  keeper.start();
  return { output, req, ctx, acquired, keeper, watchdogTiming: watchdogTiming(timing, killAfterMs), ttlMs, killAfterMs };
}

/** Gives the lease back before the command ever ran (best effort: it expires by itself otherwise). */
async function giveBack(run: HeldLease): Promise<void> {
  run.keeper.stop();
  const { releaseLease } = await import('../core/lease/release.js');
  await releaseLease(run.ctx, { name: run.req.name, holder: run.req.holder, delete: run.req.delete, force: false }, run.keeper.latest ?? undefined).catch(
    () => {},
  );
}

/** Step 3: the command started under the watchdog armed with the lease's renew deadline (supervise/watched-start.ts). */
function startCommand(client: KubeClient, run: HeldLease, watchdog: Watchdog): SupervisedChild {
  const { req, keeper, ctx } = run;
  return startWatched(watchdog, keeper, {
    claim: `lease ${client.namespace}/${req.name}`,
    what: `lease ${req.name}`,
    now: () => ctx.clock.now(),
    command: req.command,
    env: {
      ...process.env,
      KONCLI_LEASE: req.name,
      KONCLI_NAMESPACE: client.namespace,
      KONCLI_HOLDER: req.holder,
      KONCLI_FENCING_TOKEN: run.acquired.fencingToken,
    },
    signal: req.signal,
    ...run.watchdogTiming,
  });
}

/** Signalled after the lease was had, before the command started: it never starts. */
async function neverStarted(run: HeldLease, signalled: NodeJS.Signals): Promise<LeaseRunResult> {
  const { name, holder } = run.req;
  run.output.error(`${signalled} received before the command started; not running it`);
  await giveBack(run);
  const code = exitCodeOf({ code: null, signal: signalled });
  return { lease: name, holder, outcome: 'completed', fencingToken: run.acquired.fencingToken, renewals: 0, commandExit: code, leftovers: 0, exitCode: code };
}

/**
 * Step 4: the command runs under the lease (cli/supervision.ts, shared by every `run`), its life also
 * bounded by the watchdog; released once nothing it started is left.
 */
async function superviseUnderLease(run: HeldLease, child: SupervisedChild, watchdog: Watchdog): Promise<LeaseRunResult> {
  const { req, keeper, ctx, output } = run;
  const hold: Hold = {
    what: `lease ${req.name}`,
    lost: keeper.lost,
    stopKeeping: () => keeper.stop(),
    lapsed: () => (keeper.checkDeadline() ? keeper.lostBecause : undefined),
    release: async () => {
      const { releaseLease } = await import('../core/lease/release.js');
      try {
        // Released from the watched copy, unless waiters are queued: their heartbeats change the lease
        // under us, and a write from a copy that is a moment old would mostly conflict (then read anyway).
        const latest = keeper.latest;
        await releaseLease(
          ctx,
          { name: req.name, holder: req.holder, delete: req.delete, force: false },
          latest && latest.extras.queue.waiters.length === 0 ? latest : undefined,
        );
      } catch (err) {
        output.warn(`could not release lease ${req.name} (${(err as Error).message}); it expires by itself within ${formatDuration(run.ttlMs)}`);
      }
    },
  };
  const opts = { output, command: req.command[0], signal: req.signal, killAfterMs: run.killAfterMs, orphans: req.orphans, watchdog };
  const { outcome, reason, commandExit, leftovers, exitCode } = await supervise(hold, child, opts);
  return {
    lease: req.name,
    holder: req.holder,
    outcome,
    ...(outcome === 'lost' ? { reason } : {}),
    fencingToken: run.acquired.fencingToken,
    renewals: keeper.renewals,
    commandExit,
    leftovers,
    exitCode,
  };
}
