// Runs a koncli package directory the way bin/run.js did before the start-up work (compile cache
// in Node's default place, every argument through oclif), for bench/suites/startup-steps.mjs.
// Usage: node step-run.mjs PACKAGE_DIR [koncli arguments…]
import { existsSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

enableCompileCache?.();
const [pkg, ...args] = process.argv.slice(2);
const bundled = join(pkg, 'dist', 'oclif.js');
const { execute } = await import(existsSync(bundled) ? pathToFileURL(bundled).href : '@oclif/core');
await execute({ args, dir: pathToFileURL(join(pkg, 'bin', 'run.js')).href });
process.exit(process.exitCode ?? 0);
