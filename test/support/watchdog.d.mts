/** The pid of the watchdog koncli `konclipid` started (its child whose argv holds `__watchdog`), if it runs. Linux (/proc) only. */
export function watchdogOf(konclipid: number): number | undefined;
