// esbuild plugin: bundle only the part of @kubernetes/client-node that koncli calls.
//
// client-node's index re-exports every generated API class (all of Kubernetes: ~15 MB of JS), and
// each command would parse and compile all of it at start-up. Two steps keep only what is used:
//  1. Its modules are declared free of side effects (they are: classes and constant tables; only
//     polyfill.js patches a global), so esbuild drops every module none of whose exports we use.
//  2. The generated API classes (gen/apis/*.js and the gen/types/*API.js wrappers) keep only the
//     methods whose names appear in src/ (`readNamespacedLease` keeps `readNamespacedLease` and
//     `readNamespacedLeaseWithHttpInfo` at every layer). Each remaining method is untouched.
// Behaviour is unchanged: the same methods run the same code with the same model tables.
import ts from 'typescript';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';

const PACKAGE_DIR = `${sep}node_modules${sep}@kubernetes${sep}client-node${sep}`;
const GENERATED_API = /[\\/]gen[\\/](apis[\\/]\w+Api|types[\\/]\w+API)\.js$/;

/** Every identifier in the TypeScript sources under `dir`: a superset of the API methods they call. */
export function identifiersIn(dir) {
  const names = new Set();
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/[A-Za-z_$][\w$]*/g)) names.add(m[0]);
    }
  };
  walk(dir);
  return names;
}

/** The source of a generated API module with every method not in `keep` removed. */
export function keepMethods(source, fileName, keep) {
  const file = ts.createSourceFile(fileName, source, { languageVersion: ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode.ParseNone }, false, ts.ScriptKind.JS);
  const cuts = [];
  let methods = 0;
  for (const statement of file.statements) {
    if (!ts.isClassDeclaration(statement)) continue;
    for (const member of statement.members) {
      if (!ts.isMethodDeclaration(member) || !member.name || !ts.isIdentifier(member.name)) continue;
      methods++;
      const name = member.name.text.replace(/WithHttpInfo$/, '');
      if (!keep.has(name)) cuts.push([member.getFullStart(), member.end]);
    }
  }
  if (methods === 0) throw new Error(`slim-client-node: no methods found in ${fileName}; has client-node's generated code changed shape?`);
  let out = '';
  let at = 0;
  for (const [from, to] of cuts) {
    out += source.slice(at, from);
    at = to;
  }
  return out + source.slice(at);
}

/** keepMethods, remembered in `cacheDir` by content (parsing the 7 MB ObservableAPI.js takes seconds). */
function cachedKeepMethods(path, keep, cacheDir) {
  const source = readFileSync(path, 'utf8');
  const key = createHash('sha256').update(source).update('\0').update([...keep].sort().join(',')).digest('hex').slice(0, 32);
  const file = join(cacheDir, `${key}.js`);
  try {
    return readFileSync(file, 'utf8');
  } catch {}
  const slim = keepMethods(source, path, keep);
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(`${file}.${process.pid}`, slim);
    renameSync(`${file}.${process.pid}`, file);
  } catch {} // a read-only cache only costs time
  return slim;
}

export function slimClientNode({ srcDir, cacheDir }) {
  return {
    name: 'slim-client-node',
    setup(build) {
      const keep = identifiersIn(srcDir);
      // Only relative imports can be client-node's own modules (the filter runs in esbuild, not here).
      // Its ESM imports name files exactly, so they resolve without a round trip to esbuild.
      build.onResolve({ filter: /^(\.|@kubernetes\/client-node$)/ }, async (args) => {
        if (args.pluginData?.slimClientNode) return undefined;
        let path;
        if (args.path === '@kubernetes/client-node') {
          const resolved = await build.resolve(args.path, { importer: args.importer, kind: args.kind, resolveDir: args.resolveDir, pluginData: { slimClientNode: true } });
          if (resolved.errors.length > 0) return resolved;
          path = resolved.path;
        } else if (args.importer.includes(PACKAGE_DIR) && existsSync(join(args.resolveDir, args.path))) {
          path = join(args.resolveDir, args.path);
        } else {
          return undefined;
        }
        return { path, sideEffects: path.endsWith(`${sep}polyfill.js`) };
      });
      build.onLoad({ filter: GENERATED_API }, (args) => {
        if (!args.path.includes(PACKAGE_DIR)) return undefined;
        return { contents: cachedKeepMethods(args.path, keep, cacheDir), loader: 'js' };
      });
    },
  };
}
