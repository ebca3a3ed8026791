#!/usr/bin/env node
// koncli installed as a package. Scripts call koncli in loops, so start-up time counts
// (docs/performance.md): Node's compile cache, then the entry every way of starting koncli shares
// (src/cli/entry.ts, built into dist/entry.js).
import { readFileSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { homedir, platform } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

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

if (!process.env.NODE_COMPILE_CACHE) enableCompileCache?.(compileCacheDir());
const { run, installedHost } = await import('../dist/entry.js');
await run(process.argv.slice(2), installedHost(root, pjson));
