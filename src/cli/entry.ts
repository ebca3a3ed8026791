// koncli's entry: the one function both ways of starting koncli call. bin/run.js (the npm install)
// and the single executable (src/sea/main.ts, docs/performance.md) differ only in their Host: where
// oclif finds the package and its commands. Whatever must happen on every start (argument
// handling, checks) belongs in run(), so both get it.
import type { Interfaces } from '@oclif/core';
import { existsSync, readFileSync } from 'node:fs';
import { platform, release } from 'node:os';
import { join } from 'node:path';
import { kubectlArgv } from './argv.js';
import { lendPasswdEnv } from './passwd-env.js';
import { markStartup } from './startup-timing.js';
import { stderr } from './stderr.js';

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
}

/** Runs koncli with `args` (process.argv without node and the script), then exits with its code. */
export async function run(args: string[], host: Host): Promise<never> {
  stderr(); // before anything writes there: every write to stderr goes through the one writer that never blocks
  markStartup('entry');
  process.stdout.on('error', stdoutFailed);
  const argv = kubectlArgv(args); // kubectl's habits: global flags before the command, -v=N
  if (!printVersion(argv, host.pjson)) {
    lendPasswdEnv();
    const loadOptions = host.loadOptions(argv);
    if (!(await host.notFound?.(argv, loadOptions))) {
      const oclif = await import('@oclif/core');
      // A CommonJS package: in the npm build's ES modules its exports are the default export.
      const { execute } = 'execute' in oclif ? oclif : (oclif as { default: typeof oclif }).default;
      await execute({ args: argv, loadOptions });
    }
  }
  // Exit as soon as the command is done: idle keep-alive sockets must not hold the process open.
  process.exit(process.exitCode ?? 0);
}

/** The exit code a shell shows for a process killed by SIGPIPE (128 + 13). */
const SIGPIPE_EXIT = 141;

/**
 * stdout failed. EPIPE — the reader is gone (`koncli … | head -1`): exit 141 without a word, what a
 * shell shows for kubectl (Go dies of SIGPIPE) and every Unix tool; Node ignores SIGPIPE, so the
 * write fails instead, and without this handler Node printed a stack trace (the npm build: exit 13).
 * Any other error (ENOSPC on a full disk, EIO): one line on stderr, exit 1. What the command changed
 * on the cluster stays changed either way; only its report is lost (docs/exit-codes.md).
 */
function stdoutFailed(err: NodeJS.ErrnoException): never {
  if (err.code === 'EPIPE') process.exit(SIGPIPE_EXIT);
  stderr().write(`koncli: error: cannot write to stdout (${err.message}); the command ran, only its output is lost\n`);
  process.exit(1);
}

/**
 * koncli installed as a package at `root` (bin/run.js). oclif reads the package.json and manifest
 * of every core plugin (help, autocomplete, not-found) before it looks at argv; none has an init
 * hook and only `help`, `autocomplete`, `--help` or an unknown command needs them, so a command of
 * koncli's own manifest loads without them.
 */
export function installedHost(root: string, pjson: Interfaces.PJSON): Host {
  let ids: Set<string> | undefined;
  try {
    const manifest = JSON.parse(readFileSync(join(root, '.oclif.manifest.json'), 'utf8')) as { commands: object };
    ids = new Set(Object.keys(manifest.commands));
  } catch {
    // no readable manifest: oclif loads every plugin, as it would anyway
  }
  return {
    pjson,
    loadOptions: (argv) => (ids && !asksHelp(argv) && commandIn(argv, ids) ? { root, pjson: { ...pjson, oclif: { ...pjson.oclif, plugins: [] } } } : { root }),
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
  process.stdout.write(`${pjson.name}/${pjson.version || '0.0.0'} ${platform()}-${arch} node-${process.version}\n`);
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
