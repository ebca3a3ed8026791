// The single executable's entry (npm run package: esbuild bundles it into one CommonJS file and
// `bun build --compile --bytecode` turns that into dist/bin/koncli; docs/performance.md). It looks
// at argv before anything else is evaluated: everything below is loaded through import(), which the
// bundle evaluates on first use, so a start pays only for the part it runs.
//   dist/bin/koncli __watchdog …   lease run's watchdog: the executable re-running itself
//                                 ('koncli:watchdog', resolved by scripts/package.mjs)
//   dist/bin/koncli …              koncli itself (./koncli.ts), as bin/run.js runs it
import { markStartup } from '../cli/startup-timing.js';
import { WATCHDOG_ARGUMENT } from '../supervise/watchdog-protocol.js';

const args = process.argv.slice(2);
if (args[0] === WATCHDOG_ARGUMENT) {
  void import('koncli:watchdog').then((watchdog) => watchdog.main(), failed);
} else {
  markStartup('main');
  void import('./koncli.js').then(({ start }) => start(args), failed);
}

/** A part of the executable failed to load, or threw outside koncli's own error handling: one line, exit 1 (docs/exit-codes.md: error). */
function failed(err: unknown): never {
  process.stderr.write(`koncli: error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
