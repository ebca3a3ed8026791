#!/usr/bin/env node
// koncli's entry point (also bin/kubectl-koncli.js). Scripts call koncli in loops, so start-up time
// counts (docs/performance.md). Everything imported statically here exists in every Node.js that
// can parse this file: a Node older than `engines` gets one line saying so, not a SyntaxError.
import { existsSync, readFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { homedir, platform, release } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** Exits 1 with one line when this Node is older than package.json's `engines.node` (">=X.Y.Z"). */
function requireSupportedNode() {
  const need = /^>=\s*v?(\d+)\.(\d+)\.(\d+)$/.exec(pjson.engines?.node?.trim() ?? '');
  if (!need) return;
  const have = process.versions.node.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if (have[i] > Number(need[i + 1])) return;
    if (have[i] < Number(need[i + 1])) {
      process.stderr.write(`koncli: error: koncli needs Node.js ${pjson.engines.node}, but this is Node.js ${process.version} (${process.execPath}); install a newer Node.js or the single executable (see README)\n`);
      process.exit(1);
    }
  }
}

/**
 * `koncli --version` without loading oclif: the line oclif prints (its config.userAgent), when
 * nothing could make oclif print anything else: no init/finally hooks, no debug output, and a
 * platform that is not possibly WSL (which oclif reports as "wsl").
 */
function fastVersion(argv) {
  if (argv[0] !== '--version') return false;
  if (process.env.DEBUG || process.env.KONCLI_DEBUG || pjson.oclif?.hooks?.init || pjson.oclif?.hooks?.finally) return false;
  if (platform() === 'linux') {
    if (/microsoft/i.test(release()) || existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL')) return false;
    try {
      if (/microsoft/i.test(readFileSync('/proc/version', 'utf8'))) return false;
    } catch {}
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

/**
 * Node keeps the compiled code of dist/ between runs. Per user, beside oclif's own cache dir
 * (the shared default under /tmp may belong to another user); NODE_COMPILE_CACHE overrides it,
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off, and an unwritable directory just means no cache.
 */
function compileCacheDir() {
  const xdg = process.env.XDG_CACHE_HOME;
  let home;
  try {
    home = homedir();
  } catch {
    return undefined; // Node's default
  }
  const base = platform() === 'darwin' ? join(home, 'Library', 'Caches') : xdg || join(home, '.cache');
  return join(base, pjson.oclif?.dirname ?? pjson.name, 'compile-cache');
}

/**
 * oclif reads the package.json and manifest of every core plugin (help, autocomplete, not-found)
 * before it looks at argv. Only `help`, `autocomplete`, a help flag or an unknown command needs
 * them (none of them has an init hook), so a command from koncli's own manifest loads without them.
 */
function loadOptionsFor(argv) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  let ids;
  try {
    ids = new Set(Object.keys(JSON.parse(readFileSync(join(root, '.oclif.manifest.json'), 'utf8')).commands));
  } catch {
    return undefined;
  }
  const end = argv.indexOf('--');
  if (argv.slice(0, end < 0 ? undefined : end).includes('--help')) return undefined;
  const words = [];
  for (const arg of argv) {
    if (arg.startsWith('-')) break;
    words.push(arg);
    if (ids.has(words.join(':'))) return { root, pjson: { ...pjson, oclif: { ...pjson.oclif, plugins: [] } } };
  }
  return undefined;
}

requireSupportedNode();
const { kubectlArgv } = await import('../dist/cli/argv.js');
const argv = kubectlArgv(process.argv.slice(2));
if (!fastVersion(argv)) {
  if (!process.env.NODE_COMPILE_CACHE) nodeModule.enableCompileCache?.(compileCacheDir());
  // dist/oclif.js is @oclif/core bundled with the commands (scripts/build.mjs); a build made
  // with --no-bundle-oclif uses the installed package instead.
  const oclif = existsSync(new URL('../dist/oclif.js', import.meta.url)) ? '../dist/oclif.js' : '@oclif/core';
  const { execute } = await import(oclif);
  await execute({ args: argv, dir: import.meta.url, loadOptions: loadOptionsFor(argv) });
  // Exit as soon as the command is done: idle keep-alive sockets must not hold the process open.
  process.exit(process.exitCode ?? 0);
}
