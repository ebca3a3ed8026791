// Where the peer klock (github.com/berquerant/k8s-lease/cmd/klock) is, for the reliability tests
// and the bench. The project never builds it and holds none of its code: bring your own binary,
// named by KONCLI_KLOCK or found as `klock` on PATH. Without one, what needs it is skipped, loudly.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** { path } of an executable klock, or { note } saying why there is none. */
export function findKlock(env = process.env) {
  const executable = (p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (env.KONCLI_KLOCK) {
    return executable(env.KONCLI_KLOCK) ? { path: env.KONCLI_KLOCK } : { note: `KONCLI_KLOCK=${env.KONCLI_KLOCK} is not an executable file` };
  }
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    if (executable(join(dir, 'klock'))) return { path: join(dir, 'klock') };
  }
  return { note: 'no klock binary: set KONCLI_KLOCK to one (built from github.com/berquerant/k8s-lease, cmd/klock) or put klock on PATH' };
}
