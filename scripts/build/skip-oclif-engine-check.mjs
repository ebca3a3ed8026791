// esbuild plugin: drop @oclif/core's import-time check of its own `engines` field.
//
// @oclif/core/lib/index.js loads semver (~10 ms of start-up) to compare the Node version with the
// `engines` of the package.json beside its own __dirname. Bundled into ES modules there is no
// __dirname, so the check throws after semver has loaded and swallows the error: only the cost
// is left. Nothing else in @oclif/core uses semver, so without the call it is never evaluated.
import { readFileSync } from 'node:fs';
import { sep } from 'node:path';

const INDEX = /[\\/]@oclif[\\/]core[\\/]lib[\\/]index\.js$/;
const CALL = /^checkNodeVersion\(\);$/m;

export function skipOclifEngineCheck() {
  return {
    name: 'skip-oclif-engine-check',
    setup(build) {
      build.onLoad({ filter: INDEX }, (args) => {
        if (!args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const source = readFileSync(args.path, 'utf8');
        if (!CALL.test(source)) throw new Error(`skip-oclif-engine-check: no "checkNodeVersion();" line in ${args.path}; has @oclif/core changed?`);
        return { contents: source.replace(CALL, '// checkNodeVersion(); dropped by scripts/build/skip-oclif-engine-check.mjs'), loader: 'js' };
      });
    },
  };
}
