// Generates .oclif.manifest.json (oclif reads it instead of loading every command to list them).
// oclif writes the dotfile itself because package.json "files" lists it.
// --check: fails (and leaves the committed file alone) when the committed manifest is stale.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const file = `${root}.oclif.manifest.json`;
const check = process.argv.includes('--check');
const read = () => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

const before = read();
execFileSync(process.execPath, [`${root}node_modules/oclif/bin/run.js`, 'manifest'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
// oclif lists commands in file-system order, which differs between machines: sort them.
const canonical = (text) => {
  const manifest = JSON.parse(text);
  manifest.commands = Object.fromEntries(Object.entries(manifest.commands).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify(manifest, null, 2) + '\n';
};
const fresh = canonical(read());

if (check) {
  writeFileSync(file, before);
  if (before !== fresh) {
    console.error('.oclif.manifest.json is stale: run `npm run build && npm run manifest` and commit it');
    process.exit(1);
  }
  console.error('.oclif.manifest.json is up to date');
} else {
  writeFileSync(file, fresh);
  console.error(`wrote .oclif.manifest.json (${Object.keys(JSON.parse(fresh).commands).length} commands)`);
}
