import { userInfo } from 'node:os';

let lent = false;

/**
 * oclif takes the login shell from the passwd database when SHELL is unset (@oclif/core's
 * util/os getShell, called while it loads its configuration), and that throws for a user with no
 * passwd entry: a container running as an arbitrary UID, or a root file system without /etc/passwd
 * (test/integration/executable.test.ts). For such a user only, SHELL=/bin/sh is lent to oclif
 * while it loads; restorePasswdEnv() takes it back before a command runs, so `lease run` passes
 * its command the environment koncli was started with.
 */
export function lendPasswdEnv(): void {
  if (process.env.SHELL !== undefined) return;
  try {
    userInfo();
  } catch {
    process.env.SHELL = '/bin/sh';
    lent = true;
  }
}

/** Undoes lendPasswdEnv (KoncliCommand.init, after oclif's configuration is loaded). */
export function restorePasswdEnv(): void {
  if (lent) delete process.env.SHELL;
  lent = false;
}
