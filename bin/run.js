#!/usr/bin/env node
// koncli installed as a package (also bin/kubectl-koncli.js). Scripts call koncli in loops, so
// start-up time counts (docs/performance.md): Node's compile cache, then the entry every way of
// starting koncli shares (src/cli/entry.ts, built into dist/entry.js). Everything imported
// statically here exists in every Node.js that can parse this file: a Node older than `engines`
// gets one line saying so, not a SyntaxError.
import { readFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { homedir, platform } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// `lease run`'s watchdog (src/supervise/watchdog.ts): a small process that must load nothing else.
if (process.argv[2] === '__watchdog') await (await import('../dist/watchdog.js')).main();

const root = fileURLToPath(new URL('..', import.meta.url));
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

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
 * Node keeps the compiled code of dist/ between runs. Per user, beside oclif's own cache dir
 * (the shared default under /tmp may belong to another user); NODE_COMPILE_CACHE overrides it,
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off, and an unwritable directory just means no cache.
 */
function compileCacheDir() {
  let home;
  try {
    home = homedir();
  } catch {
    return undefined; // Node's default
  }
  const base = platform() === 'darwin' ? join(home, 'Library', 'Caches') : process.env.XDG_CACHE_HOME || join(home, '.cache');
  return join(base, pjson.oclif?.dirname ?? pjson.name, 'compile-cache');
}

requireSupportedNode();
if (!process.env.NODE_COMPILE_CACHE) nodeModule.enableCompileCache?.(compileCacheDir());
const { run, installedHost } = await import('../dist/entry.js');
await run(process.argv.slice(2), installedHost(root, pjson));
