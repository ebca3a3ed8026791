// koncli's entry: the one function both ways of starting koncli call. bin/run.js (the npm install)
// and the single executable (src/exe/koncli.ts, docs/performance.md) differ only in their Host: where
// oclif finds the package and its commands. Whatever must happen on every start (argument
// handling, checks) belongs in run(), so both get it.
import type { Interfaces } from '@oclif/core';
import { existsSync, readFileSync } from 'node:fs';
import { platform, release } from 'node:os';
import { join } from 'node:path';
import { kubectlArgv } from './argv.js';
import { EXIT_CODES_HELP } from './exit-codes.js';
import { commandPrefix, completionArgs } from './invocation.js';
import { arglessIdsOf, commandIdsOf, unknownCommand, unknownCommandMessage, type CommandShape } from './unknown-command.js';
import { lendPasswdEnv } from './passwd-env.js';
import { markStartup } from './startup-timing.js';
import { setWatchdogCommand, WATCHDOG_ARGUMENT } from '../supervise/watchdog-protocol.js';
import { stderr } from './stderr.js';
import { stdoutFailed, stdoutWritten, writeStdout } from './stdout.js';

/** What one way of starting koncli provides. */
export interface Host {
  /** koncli's package.json (name, version, the "oclif" section). */
  pjson: Interfaces.PJSON;
  /** oclif's load options for this argv: where the package and its commands are. */
  loadOptions(argv: string[]): Interfaces.Options;
  /**
   * Runs oclif's command_not_found hook when argv names no command, topic or help, and says
   * whether it did. Only the executable needs it: it has no files to load oclif's hooks from.
   */
  notFound?(argv: string[], loadOptions: Interfaces.Options): Promise<boolean>;
  /** The argv that starts this koncli again as `lease run`'s watchdog (its last word: WATCHDOG_ARGUMENT). */
  watchdog: string[];
  /** koncli's command ids ("lease:acquire"), when known without loading oclif. */
  commandIds?(): Set<string> | undefined;
  /** Those of them that take no argument (cli/unknown-command.ts). */
  arglessIds?(): Set<string> | undefined;
}

const EXIT_CODES_SECTION = `EXIT CODES\n${EXIT_CODES_HELP}`;

/** Runs koncli with `args` (process.argv without node and the script), then exits with its code. */
export async function run(args: string[], host: Host): Promise<never> {
  if (args[0] === WATCHDOG_ARGUMENT) {
    // `lease run`'s watchdog: nothing else is loaded (src/supervise/watchdog.ts).
    const { main } = await import('../supervise/watchdog.js');
    return main();
  }
  stderr(); // before anything writes there: every write to stderr goes through the one writer that never blocks
  markStartup('entry');
  setWatchdogCommand(host.watchdog);
  process.stdout.on('error', stdoutFailed);
  const argv = helpFlag(kubectlArgv(completionArgs(args))); // kubectl's habits: global flags before the command, -v=N, -h
  const ids = host.commandIds?.();
  if (ids && refuseUnknown(argv, ids, host.arglessIds?.())) process.exitCode = 2;
  else if (!printVersion(argv, host.pjson)) {
    lendPasswdEnv();
    const loadOptions = host.loadOptions(argv);
    if (!(await host.notFound?.(argv, loadOptions))) {
      const oclif = await import('@oclif/core');
      // A CommonJS package: in the npm build's ES modules its exports are the default export.
      const { execute } = 'execute' in oclif ? oclif : (oclif as { default: typeof oclif }).default;
      await execute({ args: argv, loadOptions });
      // A command's help ends with the exit codes (its description); root and topic help get them here.
      if (ids && (argv.length === 0 || asksHelp(argv)) && !commandIn(argv, ids)) writeStdout(`\n${EXIT_CODES_SECTION}\n`);
    }
  }
  // Exit as soon as the command is done and its output written: idle keep-alive sockets must not hold the process open.
  await stdoutWritten();
  process.exit(process.exitCode ?? 0);
}

/** `-h` means `--help`, as in kubectl (before a `--`; no koncli flag is -h). */
const helpFlag = (argv: string[]) => {
  const end = argv.indexOf('--');
  return argv.map((a, i) => (a === '-h' && (end < 0 || i < end) ? '--help' : a));
};

/** An unknown command: one line (and the JSON error document under --json), no prompt; true when refused. */
function refuseUnknown(argv: string[], ids: Set<string>, argless: Set<string> | undefined): boolean {
  if (asksHelp(argv)) return false;
  const unknown = unknownCommand(argv, ids, argless);
  if (!unknown) return false;
  const message = unknownCommandMessage(unknown, commandPrefix());
  if (
    argv.includes('--json') ||
    argv.includes('-ojson') ||
    argv.includes('--output=json') ||
    argv.some((a, i) => (a === '-o' || a === '--output') && argv[i + 1] === 'json')
  ) {
    writeStdout(JSON.stringify({ error: { kind: 'usage', message, exitCode: 2, ...unknown } }, null, 2) + '\n');
  }
  stderr().write(`koncli: error: ${message}\n`);
  return true;
}

/**
 * koncli installed as a package at `root` (bin/run.js). oclif reads the package.json and manifest
 * of every core plugin (help, autocomplete, not-found) before it looks at argv; none has an init
 * hook and only `help`, `autocomplete`, `--help` or an unknown command needs them, so a command of
 * koncli's own manifest loads without them.
 */
export function installedHost(root: string, pjson: Interfaces.PJSON): Host {
  let ids: Set<string> | undefined;
  let argless: Set<string> | undefined;
  try {
    const manifest = JSON.parse(readFileSync(join(root, '.oclif.manifest.json'), 'utf8')) as { commands: Record<string, CommandShape> };
    ids = commandIdsOf(manifest.commands);
    argless = arglessIdsOf(manifest.commands);
  } catch {
    // no readable manifest: oclif loads every plugin, as it would anyway
  }
  // As a kubectl plugin, help and examples say `kubectl koncli`.
  const bin = commandPrefix();
  const own = bin === pjson.oclif?.bin ? pjson : { ...pjson, oclif: { ...pjson.oclif, bin } };
  return {
    pjson,
    watchdog: [process.execPath, join(root, 'bin', 'run.js'), WATCHDOG_ARGUMENT],
    commandIds: () => ids,
    arglessIds: () => argless,
    loadOptions: (argv) =>
      ids && !asksHelp(argv) && commandIn(argv, ids)
        ? { root, pjson: { ...own, oclif: { ...own.oclif, plugins: [] } } }
        : own === pjson
          ? { root }
          : { root, pjson: own },
  };
}

/**
 * `koncli --version` without loading oclif: the line oclif prints (its config.userAgent), when
 * nothing could make oclif print anything else: no init/finally hooks, no debug output, and a
 * platform that is not possibly WSL (which oclif reports as "wsl").
 */
function printVersion(argv: string[], pjson: Interfaces.PJSON): boolean {
  if (argv[0] !== '--version') return false;
  if (process.env.DEBUG || process.env.KONCLI_DEBUG || pjson.oclif?.hooks?.init || pjson.oclif?.hooks?.finally) return false;
  if (platform() === 'linux') {
    if (/microsoft/i.test(release()) || existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL')) return false;
    try {
      if (/microsoft/i.test(readFileSync('/proc/version', 'utf8'))) return false;
    } catch {
      // no /proc/version: not WSL
    }
  }
  try {
    process.cwd(); // oclif fails on a deleted working directory; let it say so
  } catch {
    return false;
  }
  const arch = process.arch === 'ia32' ? 'x86' : process.arch;
  writeStdout(`${pjson.name}/${pjson.version || '0.0.0'} ${platform()}-${arch} node-${process.version}\n`);
  return true;
}

/** The command id (oclif's "topic:command") argv starts with, if it is one of `ids`: leading words up to the first flag. */
export function commandIn(argv: string[], ids: Set<string>): string | undefined {
  const words: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith('-')) break;
    words.push(arg);
    if (ids.has(words.join(':'))) return words.join(':');
  }
  return undefined;
}

/** Whether argv asks for help (oclif's help flag) before its `--`. */
export function asksHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return argv.slice(0, end < 0 ? undefined : end).includes('--help');
}
