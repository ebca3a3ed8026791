import type { LockProgress } from '../core/semaphore/lock.js';
import { formatDuration } from './duration.js';

/** One status line while waiting for a semaphore slot. */
export function waitingLine(name: string, p: LockProgress): string {
  const who = p.holders.map((h) => h.id).join(', ');
  return `waiting for semaphore ${name}: ${p.holders.length}/${p.max} held by ${who} (waited ${formatDuration(p.waitedMs)})`;
}
