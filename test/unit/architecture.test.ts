// docs/architecture.md is the map of src/: its first code block is a tree in which every file
// under src/ is named (a line per file, indented under its folder). This test keeps the map true
// in both directions: no file missing from it, no entry for a file that is gone.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [relative(root, join(dir, e.name))]));
}

/** Paths named by the tree: a `name/` opens a folder for the deeper-indented lines below it. */
export function pathsInTree(doc: string): string[] {
  const block = /```[^\n]*\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  const stack: { indent: number; dir: string }[] = [];
  const paths: string[] = [];
  for (const line of block.split('\n')) {
    const m = /^(\s*)(\S+)/.exec(line);
    if (!m) continue;
    const indent = m[1].length;
    const token = m[2];
    while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
    const parent = stack.length ? stack[stack.length - 1].dir : '';
    if (token.endsWith('/')) stack.push({ indent, dir: parent + token });
    else if (/\.(ts|mts|js|mjs)$/.test(token) && parent) paths.push(parent + token);
  }
  return paths;
}

describe('docs/architecture.md', () => {
  const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
  const named = new Set(pathsInTree(doc));
  const actual = filesUnder(join(root, 'src')).sort();

  test('names every file under src/', () => {
    expect(actual.filter((f) => !named.has(f))).toEqual([]);
  });

  test('names no file that does not exist', () => {
    expect([...named].filter((f) => !actual.includes(f)).sort()).toEqual([]);
  });

  test('the tree parser follows indentation', () => {
    const tree = '```\nsrc/core/   x\n  a.ts   y\n  lease/   z\n    b.ts\n  c.ts\nsrc/kube/\n  d.ts\n```\n';
    expect(pathsInTree(tree)).toEqual(['src/core/a.ts', 'src/core/lease/b.ts', 'src/core/c.ts', 'src/kube/d.ts']);
  });
});
