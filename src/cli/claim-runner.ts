import type { Planner } from '../core/claim/engine.js';
import type { Claim, ClaimContext, ClaimKind, RecordObject } from '../core/claim/model.js';
import { isKind } from '../core/errors.js';
import type { KubeClient } from '../kube/client.js';
import { exitCodeOf, SupervisedChild } from '../supervise/child.js';
import { formatDuration } from './duration.js';
import type { Output } from './output.js';
import { startProgress } from './progress.js';
import { forwardingSignals, supervise, type OrphanPolicy, type RunSignals, type Supervised } from './supervision.js';

/** A claim a run got: the object as written, the claim, and when its write was sent (monotonic ms). */
export interface RunClaim {
  object: RecordObject;
  claim: Claim;
  sentAt: number;
  /** KONCLI_FENCING_TOKEN for the command. */
  fencingToken: string;
}

/** One kind's `run`: how it claims, keeps, and gives back (cli/supervision.ts does the rest). */
export interface ClaimRunSpec<S, A> {
  ctx: ClaimContext;
  kind: ClaimKind<S>;
  name: string;
  holder: string;
  ttlSeconds: number;
  /** The claim (blocked while someone else holds it). */
  acquire: Planner<S, A>;
  /** The claim `acquire` got, or undefined when there is nothing to run (e.g. a once already done). */
  claimOf: (acquired: A) => RunClaim | undefined;
  lostIn: (state: S | null) => string | undefined;
  renew: Planner<S, RecordObject>;
  /** The write after the command exited with `commandExit` (step down, record the outcome). */
  release: (commandExit: number) => Planner<S, unknown>;
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
  claim?: RunClaim;
  ended?: Supervised;
  renewals: number;
}

/**
 * `mutex run`, `once run`: the claim (waiting on the watch with --wait, a progress line on a
 * terminal), a ClaimKeeper renewing it every third of the TTL, the command supervised as `lease run`
 * supervises (signals, descendants, loss → stop, exit 4), and the release write with its exit code.
 * Throws `busy` when the claim cannot be had in time (the command never starts).
 */
export function runUnderClaim<S, A>(client: KubeClient, output: Output, spec: ClaimRunSpec<S, A>, flags: ClaimRunFlags): Promise<ClaimRunEnd<A>> {
  return forwardingSignals((signals) => runWith(client, output, spec, flags, signals));
}

/** Step 1: the claim, waiting on the watch with --wait (a progress line on a terminal). */
async function claimForRun<S, A>(output: Output, spec: ClaimRunSpec<S, A>, flags: ClaimRunFlags, interrupted: AbortSignal): Promise<A> {
  const { decide } = await import('../core/claim/engine.js');
  const { ctx, kind, name } = spec;
  const progress = flags.wait.wait ? await startProgress(output, `waiting for ${kind.kind} ${name}`) : undefined;
  try {
    const { result } = await decide(ctx, kind, name, spec.acquire, {
      ...flags.wait,
      signal: interrupted,
      onNotice: (m) => output.warn(m),
      onBlocked: (b, waitedMs) => progress?.update(`${b.message} (waited ${formatDuration(waitedMs)})`),
    });
    await progress?.finish(true, `claimed ${kind.kind} ${name}`);
    return result;
  } catch (err) {
    await progress?.finish(false);
    throw err;
  }
}

async function runWith<S, A>(client: KubeClient, output: Output, spec: ClaimRunSpec<S, A>, flags: ClaimRunFlags, signals: RunSignals): Promise<ClaimRunEnd<A>> {
  const [{ decide }, { ClaimKeeper }, { holderTiming }] = await Promise.all([
    import('../core/claim/engine.js'),
    import('../core/claim/keeper.js'),
    import('../core/timing.js'),
  ]);
  const { ctx, kind, name } = spec;
  const timing = holderTiming(spec.ttlSeconds, client.requestTimeoutMs);
  const acquired = await claimForRun(output, spec, flags, signals.interrupted);
  const claim = spec.claimOf(acquired);
  if (!claim) return { acquired, renewals: 0 };
  const keeper = new ClaimKeeper(
    ctx,
    { kind, name, holder: spec.holder, written: claim.object, sentAt: claim.sentAt, lostIn: spec.lostIn, renew: spec.renew },
    timing,
    (m) => output.warn(m),
  );
  keeper.start();
  const giveBack = async (commandExit: number) => {
    try {
      await decide(ctx, kind, name, spec.release(commandExit), { wait: false });
    } catch (err) {
      const lapse = `it lapses by itself within ${formatDuration(spec.ttlSeconds * 1000)}`;
      if (!isKind(err, 'lost')) output.warn(`could not release ${kind.kind} ${name} (${(err as Error).message}); ${lapse}`);
    }
  };
  const signalled = signals.pending();
  if (signalled) {
    keeper.stop();
    output.error(`${signalled} received before the command started; not running it`);
    const code = exitCodeOf({ code: null, signal: signalled });
    await giveBack(code);
    return { acquired, claim, renewals: 0, ended: { outcome: 'completed', commandExit: code, leftovers: 0, exitCode: code } };
  }
  let child: SupervisedChild;
  try {
    child = new SupervisedChild(flags.command[0], flags.command.slice(1), {
      ...process.env,
      ...spec.env,
      KONCLI_NAMESPACE: client.namespace,
      KONCLI_HOLDER: spec.holder,
      KONCLI_FENCING_TOKEN: claim.fencingToken,
    });
  } catch (err) {
    keeper.stop();
    throw err;
  }
  signals.started(child);
  try {
    const hold = { what: `${kind.kind} ${name}`, lost: keeper.lost, stopKeeping: () => keeper.stop(), release: giveBack };
    const killAfterMs = flags.killAfterMs ?? timing.killAfterMs;
    const ended = await supervise(hold, child, { output, command: flags.command[0], signal: flags.signal, killAfterMs, orphans: flags.orphans });
    return { acquired, claim, ended, renewals: keeper.renewals };
  } finally {
    keeper.stop();
    child.close();
  }
}
