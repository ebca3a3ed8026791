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
