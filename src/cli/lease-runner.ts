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
    return await runWith(client, output, req, ctx, interrupted.signal, () => pendingSignal, (c) => (child = c));
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
  const { name, holder } = req;
  const [{ acquireLease }, { LeaseKeeper }, { releaseLease }, { holderTiming }] = await Promise.all([
    import('../core/lease/acquire.js'),
    import('../core/lease/keeper.js'),
    import('../core/lease/release.js'),
    import('../core/timing.js'),
  ]);
  const progress = req.wait.wait ? await startProgress(output, `waiting for lease ${name}`) : undefined;
  const waiting = reportWaiting(progress, name, () => ctx.clock.now());
  let acquired;
  try {
    acquired = await acquireLease(
      ctx,
      { name, namespace: client.namespace, holder, durationSeconds: req.durationSeconds, defaultDurationSeconds: req.defaultDurationSeconds, priority: req.priority, renewable: true, reason: req.reason, labels: req.labels },
      { ...req.wait, signal: interrupted, onProgress: waiting.onProgress, onNotice: (m) => output.warn(m), keepWatching: true },
    );
    await progress?.finish(true, `acquired lease ${name}`);
  } catch (err) {
    await progress?.finish(false);
    if (!isKind(err, 'busy')) throw err;
    output.error(`${err.message}; not running the command`);
    return { lease: name, holder, outcome: 'busy', ran: false, exitCode: req.conflictExitCode };
  } finally {
    waiting.stop();
  }

  // Timing follows the duration our claim has (--ttl, the default, or a konductor Lease's spec.ttl).
  const ttlMs = acquired.record.holding.durationSeconds * 1000;
  let timing: ReturnType<typeof holderTiming>;
  try {
    timing = holderTiming(acquired.record.holding.durationSeconds, client.requestTimeoutMs);
  } catch (err) {
    // A duration no holder can keep (a konductor spec.ttl of 0s): give the lease back, run nothing.
    acquired.feed?.stop();
    await releaseLease(ctx, { name, holder, delete: false, force: false }).catch(() => {});
    throw err;
  }
  const killAfterMs = req.killAfterMs ?? timing.killAfterMs;
  if (killAfterMs > ttlMs - timing.renewDeadlineMs) {
    output.warn(`--kill-after ${formatDuration(killAfterMs)} is longer than the ${formatDuration(ttlMs - timing.renewDeadlineMs)} between the renew deadline and the TTL: after a lost lease, another holder may start before this command is killed`);
  }
  const keeper = new LeaseKeeper(ctx, name, holder, acquired.record, acquired.sentAt, timing, (m) => output.warn(m), acquired.feed);
  keeper.start();
  let child: SupervisedChild;
  try {
    const signalled = pendingSignal();
    if (signalled) {
      // Signalled after the lease was had, before the command started: it never starts.
      keeper.stop();
      output.error(`${signalled} received before the command started; not running it`);
      await releaseLease(ctx, { name, holder, delete: req.delete, force: false }, keeper.latest).catch(() => {});
      const code = exitCodeOf({ code: null, signal: signalled });
      return { lease: name, holder, outcome: 'completed', fencingToken: acquired.fencingToken, renewals: 0, commandExit: code, leftovers: 0, exitCode: code };
    }
    child = new SupervisedChild(req.command[0], req.command.slice(1), {
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
  started(child);
  const stopping = `${req.signal}, then SIGKILL after ${formatDuration(killAfterMs)}`;
  const onStuck = (pids: number[]) =>
    output.warn(`cannot signal process${pids.length > 1 ? 'es' : ''} ${pids.join(', ')} (not permitted: another user's); holding lease ${name} until ${pids.length > 1 ? 'they exit' : 'it exits'}`);
  let lostReason: string | undefined;
  const lost = keeper.lost.then((reason) => {
    lostReason = reason;
    return { lost: reason };
  });
  const stopAll = async (why: string) => {
    output.error(`lease lost: ${why}; stopping the command and every process it started (${stopping})`);
    await child.stop(req.signal, killAfterMs, onStuck);
  };

  try {
    const ended = await Promise.race([child.exited.then((exit) => ({ exit }), (error: NodeJS.ErrnoException) => ({ spawnError: error })), lost]);
    const result = (outcome: 'completed' | 'lost', exit: ChildExit | number, leftovers: number, exitCode: number): LeaseRunResult => ({
      lease: name,
      holder,
      outcome,
      ...(outcome === 'lost' ? { reason: lostReason } : {}),
      fencingToken: acquired.fencingToken,
      renewals: keeper.renewals,
      commandExit: typeof exit === 'number' ? exit : exitCodeOf(exit),
      leftovers,
      exitCode,
    });

    if ('lost' in ended) {
      await stopAll(ended.lost);
      const exit = await child.exited.catch((): ChildExit => ({ code: null, signal: null }));
      return result('lost', exit, 0, ExitCode.LOST);
    }
    if ('spawnError' in ended) output.error(`cannot run ${req.command[0]}: ${ended.spawnError.message}`);
    const code = 'exit' in ended ? exitCodeOf(ended.exit) : ended.spawnError.code === 'ENOENT' ? 127 : 126;

    // The command is done; what it started may not be. The lease stays held (and renewed) until
    // none of it is left.
    const leftovers = await child.remaining();
    if (leftovers.length > 0) {
      const pids = leftovers.map((p) => p.pid).join(', ');
      const what = `the command exited (${code}) but ${leftovers.length} process${leftovers.length > 1 ? 'es' : ''} it started still run${leftovers.length > 1 ? '' : 's'} (pid ${pids})`;
      if (req.orphans === 'wait') {
        output.warn(`${what}; holding lease ${name} until ${leftovers.length > 1 ? 'they exit' : 'it exits'} (--orphans wait)`);
        const settled = await Promise.race([child.whenAllExited().then(() => ({ gone: true as const })), lost]);
        if ('lost' in settled) {
          await stopAll(settled.lost);
          return result('lost', code, leftovers.length, ExitCode.LOST);
        }
      } else {
        output.warn(`${what}; stopping ${leftovers.length > 1 ? 'them' : 'it'} (${stopping}) before releasing lease ${name}`);
        await child.stop(req.signal, killAfterMs, onStuck);
        if (lostReason !== undefined) {
          output.error(`lease lost while the command's processes were being stopped: ${lostReason}`);
          return result('lost', code, leftovers.length, ExitCode.LOST);
        }
      }
    }

    keeper.stop();
    try {
      // Released from the watched copy, unless waiters are queued: their heartbeats change the lease
      // under us, and a write from a copy that is a moment old would mostly conflict (then read anyway).
      const latest = keeper.latest;
      await releaseLease(ctx, { name, holder, delete: req.delete, force: false }, latest.extras.queue.waiters.length === 0 ? latest : undefined);
    } catch (err) {
      output.warn(`could not release lease ${name} (${(err as Error).message}); it expires by itself within ${formatDuration(ttlMs)}`);
    }
    return result('completed', code, leftovers.length, code);
  } finally {
    keeper.stop();
    child.close();
  }
}
