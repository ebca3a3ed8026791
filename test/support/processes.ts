import { readdirSync, readFileSync } from 'node:fs';

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
