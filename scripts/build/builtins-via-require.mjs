// esbuild plugin: bundled ES modules get Node's built-in modules through require(), not import.
//
// `import { STATUS_CODES } from 'node:http'` makes Node build the ESM facade of node:http, which
// reads every export, getters included; http's WebSocket/CloseEvent/MessageEvent getters load
// Node's internal undici (~40 ms). The same import from a CommonJS shim costs nothing extra:
// esbuild turns the named import into a property read at the place of use, so a getter runs only
// if the code uses it. Values are the same objects either way (the facade's exports are module.exports).
import { builtinModules } from 'node:module';

const names = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

export function builtinsViaRequire() {
  return {
    name: 'builtins-via-require',
    setup(build) {
      build.onResolve({ filter: /^(node:)?[a-z_/0-9]+$/ }, (args) => {
        if (!names.has(args.path) || args.kind !== 'import-statement') return undefined;
        return { path: args.path, namespace: 'builtin-via-require' };
      });
      build.onLoad({ filter: /.*/, namespace: 'builtin-via-require' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}
