import type { Clock } from '../core/clock.js';
import type { KeptClaim } from '../core/claim/keeper.js';
import type { ChangeFeed } from '../core/feed.js';
import { isKind, type KoncliError } from '../core/errors.js';
import type { Versioned } from '../core/store.js';
import type { KubeClient } from '../kube/client.js';
import { exitCodeOf, type SupervisedChild } from '../supervise/child.js';
import { Watchdog } from '../supervise/watchdog-client.js';
import { startWatched, watchdogReady, type DeadlineKeeper } from '../supervise/watched-start.js';
import { formatDuration } from './duration.js';
import type { Output } from './output.js';
import { startProgress, type Progress } from './progress.js';
import { forwardingSignals, supervise, type OrphanPolicy, type RunSignals, type Supervised } from './supervision.js';

/** A claim a run got: the object as written, and when its write was sent (monotonic ms). */
export interface RunClaim<T extends Versioned> {
  object: T;
  sentAt: number;
  /** KONCLI_FENCING_TOKEN for the command. */
  fencingToken: string;
  /** The claim's TTL when the kind learns it only from the object (a konductor Lease's spec.ttl); default: the spec's. */
  ttlSeconds?: number;
  /** The watch that waited for the claim, for the keeper to adopt (one watch, not two); stopped when the run ends before. */
  watching?: ChangeFeed<T>;
}

/** How a run's claim is waited for (the kind's own acquire, or the claim engine's `decide`). */
export interface RunAcquireOptions {
  wait: boolean;
  timeoutMs?: number;
  signal: AbortSignal;
  onNotice: (message: string) => void;
  /** Each time a wait is blocked: who is in the way (for the progress line). */
  onBlocked: (message: string, waitedMs: number) => void;
  /** The progress line itself (a terminal only), for a kind that renders its own (lease run's queue position). */
  progress?: Progress;
}

/** One kind's `run`: how it claims, keeps, and gives back (cli/supervision.ts and the watchdog do the rest). */
export interface ClaimRunSpec<T extends Versioned, A> {
  kind: string;
  name: string;
  /** The namespace of the object holding the claim; null for a cluster-scoped object (a kubelock on a Namespace). */
  namespace: string | null;
  holder: string;
  ttlSeconds: number;
  clock: Clock;
  /** The claim (throws `busy` when it cannot be had in time). */
  acquire: (opts: RunAcquireOptions) => Promise<A>;
  /** The claim `acquire` got, or undefined when there is nothing to run (e.g. a once already done). */
  claimOf: (acquired: A) => RunClaim<T> | undefined;
  /** How the claim is kept (core/claim/keeper.ts): still mine, renew. */
  keep: (claim: RunClaim<T>) => KeptClaim<T>;
  /** Gives the claim back after the command exited with `commandExit` (step down, record the outcome); `latest`: the newest copy known. */
  release: (commandExit: number, latest: T | null) => Promise<unknown>;
  /** Extra environment for the command (KONCLI_* of the kind). */
  env: Record<string, string>;
}

export interface ClaimRunFlags {
  command: string[];
  wait: { wait: boolean; timeoutMs?: number };
  signal: NodeJS.Signals;
  /** undefined: a quarter of the TTL. */
  killAfterMs?: number;
  orphans: OrphanPolicy;
}

/** How a run ended: what the claim step decided, and the supervised command's end when it ran. */
export interface ClaimRunEnd<A> {
  acquired: A;
  fencingToken?: string;
  ended?: Supervised;
  renewals: number;
}

/**
 * `mutex run`, `once run`, `semaphore run`, `kubelock run`: the claim (waiting on the watch with
 * --wait, a progress line on a terminal), a ClaimKeeper renewing it every third of the TTL, the
 * command supervised as `lease run` supervises (signals, descendants, loss → stop, exit 4; the
 * watchdog bounds its life outside koncli's event loop), and the release once nothing it started is
 * left. Throws `busy` when the claim cannot be had in time (the command never starts).
 */
export function runUnderClaim<T extends Versioned, A>(
  client: KubeClient,
  output: Output,
  spec: ClaimRunSpec<T, A>,
  flags: ClaimRunFlags,
): Promise<ClaimRunEnd<A>> {
  return forwardingSignals((signals) => runWith(client, output, spec, flags, signals));
}

/** Step 1: the claim, waiting on the watch with --wait (a progress line on a terminal). */
async function claimForRun<T extends Versioned, A>(output: Output, spec: ClaimRunSpec<T, A>, flags: ClaimRunFlags, interrupted: AbortSignal): Promise<A> {
  const what = `${spec.kind} ${spec.name}`;
  const progress = flags.wait.wait ? await startProgress(output, `waiting for ${what}`) : undefined;
  try {
    const result = await spec.acquire({
      ...flags.wait,
      signal: interrupted,
      onNotice: (m) => output.warn(m),
      onBlocked: (message, waitedMs) => progress?.update(`${message} (waited ${formatDuration(waitedMs)})`),
      progress,
    });
    await progress?.finish(true, `claimed ${what}`);
    return result;
  } catch (err) {
    await progress?.finish(false);
    throw err;
  }
}

async function runWith<T extends Versioned, A>(
  client: KubeClient,
  output: Output,
  spec: ClaimRunSpec<T, A>,
  flags: ClaimRunFlags,
  signals: RunSignals,
): Promise<ClaimRunEnd<A>> {
  const [{ ClaimKeeper }, { watchdogTiming }] = await Promise.all([import('../core/claim/keeper.js'), import('../core/timing.js')]);
  // The dead-man's switch (src/supervise/watchdog.ts), started now: its start-up overlaps the claim.
  const watchdog = new Watchdog((m) => output.warn(m));
  let acquired: A;
  try {
    acquired = await claimForRun(output, spec, flags, signals.interrupted);
  } catch (err) {
    watchdog.done();
    throw err;
  }
  const claim = spec.claimOf(acquired);
  if (!claim) {
    watchdog.done();
    return { acquired, renewals: 0 };
  }
  const { timing, killAfterMs } = await claimTiming(client, output, spec, flags, claim).catch((err: unknown) => {
    watchdog.done();
    throw err;
  });
  const keeper = new ClaimKeeper(spec.clock, spec.keep(claim), timing, (m) => output.warn(m));
  keeper.start();
  const giveBack = (commandExit: number) => releaseAfterRun(output, spec, commandExit, keeper.latest);
  let started: { child: SupervisedChild } | { ended: Supervised };
  try {
    started = await startCommand(output, spec, flags, signals, { watchdog, keeper, giveBack, timing: watchdogTiming(timing, killAfterMs) }, claim);
  } catch (err) {
    keeper.stop();
    throw err;
  }
  if ('ended' in started) return { acquired, fencingToken: claim.fencingToken, renewals: 0, ended: started.ended };
  const { child } = started;
  signals.started(child);
  try {
    const hold = {
      what: `${spec.kind} ${spec.name}`,
      lost: keeper.lost,
      stopKeeping: () => keeper.stop(),
      lapsed: () => (keeper.checkDeadline() ? keeper.lostBecause : undefined),
      release: giveBack,
    };
    const ended = await supervise(hold, child, { output, command: flags.command[0], signal: flags.signal, killAfterMs, orphans: flags.orphans, watchdog });
    watchdog.done(); // only now: a run that ends by an exception leaves the watchdog to stop what is left
    return { acquired, fencingToken: claim.fencingToken, ended, renewals: keeper.renewals };
  } finally {
    keeper.stop();
    child.close();
  }
}

/**
 * The holder's timing for the TTL the claim has (core/timing.ts). A TTL no holder can keep (a
 * konductor Lease's spec.ttl of 0s) gives the claim back and runs nothing. Warns when --kill-after
 * outlasts the time between the renew deadline and the TTL (another holder could start first).
 */
async function claimTiming<T extends Versioned, A>(client: KubeClient, output: Output, spec: ClaimRunSpec<T, A>, flags: ClaimRunFlags, claim: RunClaim<T>) {
  const { holderTiming } = await import('../core/timing.js');
  const ttlMs = (claim.ttlSeconds ?? spec.ttlSeconds) * 1000;
  let timing: ReturnType<typeof holderTiming>;
  try {
    timing = holderTiming(ttlMs / 1000, client.requestTimeoutMs);
  } catch (err) {
    claim.watching?.stop();
    await spec.release(0, claim.object).catch(() => {});
    throw err;
  }
  const killAfterMs = flags.killAfterMs ?? timing.killAfterMs;
  if (killAfterMs > ttlMs - timing.renewDeadlineMs) {
    output.warn(
      `--kill-after ${formatDuration(killAfterMs)} is longer than the ${formatDuration(ttlMs - timing.renewDeadlineMs)} between the renew deadline and the TTL: after a lost ${spec.kind}, another holder may start before this command is killed`,
    );
  }
  return { timing, killAfterMs };
}

/** What starting the command needs: the watchdog, the keeper (its deadline arms the watchdog), the release, the watchdog's timing. */
interface Starter {
  watchdog: Watchdog;
  keeper: DeadlineKeeper & { stop(): void };
  giveBack: (commandExit: number) => Promise<void>;
  timing: { slackMs: number; graceMs: number };
}

/** Step 2: the command started under the watchdog — or, signalled before it started, given back and never run. */
async function startCommand<T extends Versioned, A>(
  output: Output,
  spec: ClaimRunSpec<T, A>,
  flags: ClaimRunFlags,
  signals: RunSignals,
  { watchdog, keeper, giveBack, timing }: Starter,
  claim: RunClaim<T>,
): Promise<{ child: SupervisedChild } | { ended: Supervised }> {
  await watchdogReady(watchdog, async () => (keeper.stop(), giveBack(0)));
  const signalled = signals.pending();
  if (signalled) {
    watchdog.done();
    keeper.stop();
    output.error(`${signalled} received before the command started; not running it`);
    const code = exitCodeOf({ code: null, signal: signalled });
    await giveBack(code);
    return { ended: { outcome: 'completed', commandExit: code, leftovers: 0, exitCode: code } };
  }
  const child = startWatched(watchdog, keeper, {
    claim: `${spec.kind} ${spec.namespace === null ? '' : `${spec.namespace}/`}${spec.name}`,
    what: `${spec.kind} ${spec.name}`,
    now: () => spec.clock.now(),
    command: flags.command,
    env: {
      ...process.env,
      ...spec.env,
      ...(spec.namespace !== null && { KONCLI_NAMESPACE: spec.namespace }),
      KONCLI_HOLDER: spec.holder,
      KONCLI_FENCING_TOKEN: claim.fencingToken,
    },
    signal: flags.signal,
    ...timing,
  });
  return { child };
}

/** The release after the run (best effort: the claim lapses by itself within its TTL otherwise). */
async function releaseAfterRun<T extends Versioned, A>(output: Output, spec: ClaimRunSpec<T, A>, commandExit: number, latest: T | null): Promise<void> {
  try {
    await spec.release(commandExit, latest);
  } catch (err) {
    const lapse = `it lapses by itself within ${formatDuration(spec.ttlSeconds * 1000)}`;
    if (!isKind(err, 'lost')) output.warn(`could not release ${spec.kind} ${spec.name} (${(err as Error).message}); ${lapse}`);
  }
}

/**
 * A `run` verb from parse to print: runs under the claim, prints `report`'s document after the
 * common keys (kind, namespace, name, holder) and exits with its `exitCode`; when the claim cannot
 * be had in time, the `busy` outcome with `conflictExitCode`, and the command never starts.
 */
export async function runAndReport<T extends Versioned, A>(
  client: KubeClient,
  output: Output,
  spec: ClaimRunSpec<T, A>,
  flags: ClaimRunFlags & { conflictExitCode: number },
  report: (run: ClaimRunEnd<A>) => { exitCode: number } & Record<string, unknown>,
  onBusy: (err: KoncliError) => Record<string, unknown> = (err) => (output.error(`${err.message}; not running the command`), {}),
): Promise<void> {
  const base = { kind: spec.kind, namespace: spec.namespace, name: spec.name, holder: spec.holder };
  try {
    const doc = report(await runUnderClaim(client, output, spec, flags));
    await output.result({ ...base, ...doc }, () => '');
    process.exitCode = doc.exitCode;
  } catch (err) {
    if (!isKind(err, 'busy')) throw err;
    const said = onBusy(err);
    await output.result({ ...base, outcome: 'busy', ran: false, exitCode: flags.conflictExitCode, ...said }, () => '');
    process.exitCode = flags.conflictExitCode;
  }
}

/** A run's reported end: the supervised command's, the fencing token and the renewals. */
export const runReport = <A>(run: ClaimRunEnd<A>) => ({ ...run.ended!, fencingToken: run.fencingToken, renewals: run.renewals });
