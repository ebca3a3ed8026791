// esbuild plugin: the named modules are evaluated when one of their exports is first read, not
// when they are imported. For the single executable's start-up snapshot (scripts/package.mjs):
// a V8 snapshot cannot hold what Node's http, https, tls and http2 modules create when they load
// (the build fails with "CheckGlobalAndEternalHandles failed"), so those, and the packages that
// load them at import (undici; proxy agents that extend http.Agent), must load after the heap is
// deserialised. The stand-in has the module's own export names (read here, from the same Node and
// package) as getters that load the real module: same objects, same behaviour, later.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const NAMESPACE = 'load-on-use';

export function loadOnUse(names) {
  const filter = new RegExp(`^(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
  return {
    name: 'load-on-use',
    setup(build) {
      build.onResolve({ filter }, (args) => {
        if (args.namespace === NAMESPACE) return undefined; // the stand-in's own require: the real module
        return { path: args.path, namespace: NAMESPACE, pluginData: { resolveDir: args.resolveDir } };
      });
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
        const { resolveDir } = args.pluginData;
        const real = createRequire(join(resolveDir, 'x.js'))(args.path);
        const getters = Object.keys(real)
          .filter((k) => k !== '__esModule')
          .map((k) => `  ${JSON.stringify(k)}: { enumerable: true, get: () => load()[${JSON.stringify(k)}] },`);
        return {
          resolveDir,
          loader: 'js',
          contents: [
            `let real;`,
            `const load = () => (real ??= require(${JSON.stringify(args.path)}));`,
            `module.exports = Object.defineProperties({}, {`,
            ...getters,
            `});`,
          ].join('\n'),
        };
      });
    },
  };
}
