import type { WaitProgress } from '../core/lease/acquire.js';
import { formatDuration } from './duration.js';
import { PROGRESS_REFRESH_MS } from '../core/timing.js';
import type { Progress } from './progress.js';

/** One status line while waiting for a lease. */
export function waitingLine(name: string, p: WaitProgress, now: number, since: number): string {
  const waited = p.waitedMs + (now - since);
  const held = p.view.phase === 'Held' ? `held by ${p.view.holder}` : `free (${p.view.phase.toLowerCase()})`;
  const left = p.view.expiresAt !== undefined && p.view.phase === 'Held' ? `, expires within ${formatDuration(p.view.expiresAt - now)}` : '';
  const queue = p.ahead > 0 ? `, ${p.ahead} waiter${p.ahead === 1 ? '' : 's'} ahead` : '';
  return `waiting for lease ${name}: ${held}${left}${queue} (waited ${formatDuration(waited)})`;
}

/**
 * Feeds a progress line from the waiting algorithm's reports, ticking every second in between so
 * "expires within" and "waited" stay current. Returns the callback and a function that stops it.
 */
export function reportWaiting(progress: Progress | undefined, name: string, now: () => number) {
  let last: { p: WaitProgress; at: number } | undefined;
  const render = () => last && progress?.update(waitingLine(name, last.p, now(), last.at));
  const ticker = progress ? setInterval(render, PROGRESS_REFRESH_MS) : undefined;
  ticker?.unref();
  return {
    onProgress: (p: WaitProgress) => {
      last = { p, at: now() };
      render();
    },
    stop: () => clearInterval(ticker),
  };
}
