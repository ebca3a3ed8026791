// Finding `lease run`'s watchdog from outside (tests and bench/): plain JavaScript, so bench/ imports it too.
import { readdirSync, readFileSync } from 'node:fs';

/** The pid of the watchdog koncli `konclipid` started (its child whose argv holds `__watchdog`), if it runs. Linux (/proc) only. */
export function watchdogOf(konclipid) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== konclipid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes('__watchdog')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
