// The start of a command under a held claim with its dead-man's switch: shared by every `run`
// (lease run, mutex run, once run, semaphore run, kubelock run; docs/lease-run.md, "The watchdog").
import { KoncliError } from '../core/errors.js';
import { newRunMarker, SupervisedChild } from './child.js';
import type { Watchdog } from './watchdog-client.js';

/** What the start needs of a claim's keeper (ClaimKeeper). */
export interface DeadlineKeeper {
  /** Monotonic ms by which a renewal must succeed. */
  readonly deadline: number;
  onRenewal(listener: () => void): void;
  /** Declares the claim lost when its renew deadline has passed; true when lost. */
  checkDeadline(): boolean;
  readonly lostBecause: string | undefined;
}

/**
 * Waits for the watchdog to run. Without it the command is not started — its life would rest on
 * koncli's event loop alone — and the claim is given back (`giveBack`, best effort).
 */
export async function watchdogReady(watchdog: Watchdog, giveBack: () => Promise<void>): Promise<void> {
  try {
    await watchdog.ready;
  } catch (err) {
    await giveBack().catch(() => {});
    throw new Error(`cannot start the watchdog that bounds the command's life (${(err as Error).message}); not running the command`, { cause: err });
  }
}

export interface WatchedStart {
  /** "lease NAMESPACE/NAME": how the watchdog's line names the claim. */
  claim: string;
  /** "lease NAME": how koncli's refusal names it. */
  what: string;
  now: () => number;
  command: string[];
  env: NodeJS.ProcessEnv;
  signal: NodeJS.Signals;
  /** watchdogTiming (core/timing.ts): the signal is due `slackMs` after the renew deadline, SIGKILL `graceMs` later. */
  slackMs: number;
  graceMs: number;
}

/**
 * The watchdog armed with the renew deadline (extended after each renewal), then the command
 * started and handed to it — in one synchronous step, after the deadline was checked: a claim that
 * lapsed while koncli was paused runs nothing. Throws `lost` in that case.
 */
export function startWatched(watchdog: Watchdog, keeper: DeadlineKeeper, start: WatchedStart): SupervisedChild {
  if (keeper.checkDeadline()) throw new KoncliError('lost', `${start.what} was lost before the command started (${keeper.lostBecause}); not running it`);
  const untilSignal = () => keeper.deadline + start.slackMs - start.now();
  const marker = newRunMarker();
  watchdog.arm({ marker, signal: start.signal, graceMs: start.graceMs, deadlineMs: untilSignal(), claim: start.claim, koncli: process.pid });
  keeper.onRenewal(() => watchdog.extend(untilSignal()));
  const child = new SupervisedChild(start.command[0], start.command.slice(1), start.env, marker);
  if (child.pid !== undefined) watchdog.adopt(child.pid);
  return child;
}
