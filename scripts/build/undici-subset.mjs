// esbuild plugin: give client-node the three parts of undici it imports, not the whole package.
//
// client-node imports { fetch, Agent, ProxyAgent } from 'undici'. undici's index requires all of
// its 1.5 MB (mock agents, cache stores, WebSocket, EventSource, cookies, SQLite cache, ...) and
// CommonJS cannot be tree-shaken, so every command evaluated it all at start-up. This module
// exports the same three from the files that define them (their own dependencies come along);
// `fetch` is undici's implementation without the index's stack-trace decoration.
export function undiciSubset() {
  return {
    name: 'undici-subset',
    setup(build) {
      build.onResolve({ filter: /^undici$/ }, (args) => ({ path: 'undici', namespace: 'undici-subset', pluginData: { resolveDir: args.resolveDir } }));
      build.onLoad({ filter: /.*/, namespace: 'undici-subset' }, (args) => ({
        resolveDir: args.pluginData.resolveDir,
        loader: 'js',
        // An ES module: an import of any other name from 'undici' fails the build ("No matching export").
        contents: [
          "import fetchModule from 'undici/lib/web/fetch/index.js';",
          "export const fetch = (input, init) => fetchModule.fetch(input, init);",
          "export { default as Agent } from 'undici/lib/dispatcher/agent.js';",
          "export { default as ProxyAgent } from 'undici/lib/dispatcher/proxy-agent.js';",
        ].join('\n'),
      }));
    },
  };
}
