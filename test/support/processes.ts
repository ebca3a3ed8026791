import { readdirSync, readFileSync } from 'node:fs';
import { sleep } from './poll.js';

/**
 * Live (not zombie) processes whose initial environment says they run for `holder`
 * (KONCLI_HOLDER, which `lease run` gives its command): the command's processes, wherever they
 * went — own sessions and daemons included. Linux (/proc) only.
 */
export function processesOf(holder: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`KONCLI_HOLDER=${holder}`)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Live processes per holder, for each of `holders`, in one pass over /proc. */
export function countByHolder(holders: string[]): Map<string, number> {
  const wanted = new Set(holders.map((h) => `KONCLI_HOLDER=${h}`));
  const counts = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const match = readFileSync(`/proc/${entry}/environ`, 'latin1')
        .split('\0')
        .find((v) => wanted.has(v));
      if (!match) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      const holder = match.slice('KONCLI_HOLDER='.length);
      counts.set(holder, (counts.get(holder) ?? 0) + 1);
    } catch {
      // gone meanwhile
    }
  }
  return counts;
}

export interface GuardReport {
  /** Samples taken while a process of the holder ran. */
  samples: number;
  /** Of those, samples in which the lease named someone else (or no one) as holder. */
  violations: number;
  /** Date.now() by which none of the holder's processes was left (the end of the first scan that found none after one that found some); undefined while some run. */
  goneAt: number | undefined;
}

/**
 * Samples, until stopped, whether a process of `holder` ran while the lease (`leaseHolder()` reads
 * its holderIdentity) named someone else or no one — the invariant of `lease run` — and when the
 * last of its processes was gone.
 */
export function guard(holder: string, leaseHolder: () => Promise<string>): { stop: () => Promise<GuardReport> } {
  let running = true;
  const report: GuardReport = { samples: 0, violations: 0, goneAt: undefined };
  let seen = false;
  const count = () => {
    const n = processesOf(holder).length;
    if (n > 0) {
      seen = true;
      report.goneAt = undefined;
    } else if (seen) report.goneAt ??= Date.now();
    return n;
  };
  const loop = (async () => {
    while (running) {
      const before = count();
      const current = await leaseHolder().catch(() => '?');
      const after = count();
      if (before > 0 && after > 0) {
        report.samples++;
        if (current !== holder) report.violations++;
      }
      await sleep(20);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return report;
    },
  };
}

/** Whether `pid` is a live process (not gone, not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2)[0]);
  } catch {
    return false;
  }
}
