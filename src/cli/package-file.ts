import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KoncliError } from '../core/errors.js';

/**
 * koncli's package root: the nearest directory above this module with koncli's package.json.
 * Found by walking up because the module runs from src/ in tests and from a dist/ chunk when built.
 */
export function packageRoot(from = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'koncli') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    if (dirname(dir) === dir) throw new KoncliError('error', `cannot find koncli's package.json above ${from}; reinstall koncli`);
  }
}

/** A file shipped with the package (package.json "files"), e.g. config/crd/konductor.io_leases.yaml. */
export function readPackageFile(relativePath: string): string {
  const path = join(packageRoot(), relativePath);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new KoncliError('error', `cannot read ${path} (${(err as Error).message}); reinstall koncli`);
  }
}
