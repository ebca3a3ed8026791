// The tools under test and how to call them against the bench's plane and namespace.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findKlock } from '../../test/support/klock.mjs';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const KONCLI_BIN = `${REPO}bin/run.js`;
/** The single executable (npm run package): what the targets are about. */
export const KONCLI_EXE = `${REPO}dist/bin/koncli`;

/** `args` with `flags` added before a `--` (what follows it is the command to run). */
const withFlags = (args, flags) => {
  const end = args.indexOf('--');
  return end < 0 ? [...args, ...flags] : [...args.slice(0, end), ...flags, ...args.slice(end)];
};

/**
 * argv builders for one namespace: `koncli` is the single executable, `koncliNpm` the npm build
 * (node bin/run.js). `klock` is null when it could not be had (then `klockNote`
 * says why, and klock rows are skipped with that note).
 */
export async function toolsFor({ state, namespace, log, requireExecutable = true }) {
  const kubeconfig = state.kubeconfig.admin;
  const env = { KUBECONFIG: kubeconfig, NO_COLOR: '1' };
  const kubectlBin = state.bin?.kubectl;
  if (!kubectlBin || !existsSync(kubectlBin)) throw new Error(`kubectl not found in the plane's binaries (${kubectlBin})`);
  if (requireExecutable && !existsSync(KONCLI_EXE)) throw new Error(`${KONCLI_EXE} not found: run npm run package (npm run bench does)`);
  const found = findKlock(); // KONCLI_KLOCK or PATH; the project never builds it
  const klockBin = found.path ?? null;
  const klockNote = found.note ? `klock rows SKIPPED: ${found.note}` : null;
  if (klockNote) log(klockNote);
  return {
    env,
    kubeconfig,
    namespace,
    koncli: (...args) => [KONCLI_EXE, ...withFlags(args, ['-n', namespace])],
    koncliBare: (...args) => [KONCLI_EXE, ...args],
    koncliNpm: (...args) => [process.execPath, KONCLI_BIN, ...withFlags(args, ['-n', namespace])],
    koncliNpmBare: (...args) => [process.execPath, KONCLI_BIN, ...args],
    kubectl: (...args) => [kubectlBin, ...withFlags(args, ['-n', namespace])],
    klock: klockBin ? (...args) => [klockBin, '--kubeconfig', kubeconfig, '-n', namespace, ...args] : null,
    klockNote,
    klockBin,
    kubectlBin,
  };
}
