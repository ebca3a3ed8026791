import type { WaitProgress } from '../core/lease/acquire.js';
import { formatDuration } from './duration.js';

/** One status line while waiting for a lease. */
export function waitingLine(name: string, p: WaitProgress, now: number): string {
  const held = p.view.phase === 'Held' ? `held by ${p.view.holder}` : `free (${p.view.phase.toLowerCase()})`;
  const left = p.view.expiresAt !== undefined && p.view.phase === 'Held' ? `, expires within ${formatDuration(p.view.expiresAt - now)}` : '';
  const queue = p.ahead > 0 ? `, ${p.ahead} waiter${p.ahead === 1 ? '' : 's'} ahead` : '';
  return `waiting for lease ${name}: ${held}${left}${queue} (waited ${formatDuration(p.waitedMs)})`;
}
