#!/usr/bin/env node
// Development entry: rebuilds dist/ from src/ (esbuild, well under a second), then runs the CLI.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === '__watchdog') await (await import('../dist/watchdog.js')).main(); // `lease run`'s watchdog (dist/ built by the koncli that starts it)
execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url))], { stdio: ['ignore', 'ignore', 'inherit'] });
const { execute } = await import('@oclif/core');
const { kubectlArgv } = await import('../dist/cli/argv.js');
await execute({ args: kubectlArgv(process.argv.slice(2)), development: true, dir: import.meta.url });
process.exit(process.exitCode ?? 0);
