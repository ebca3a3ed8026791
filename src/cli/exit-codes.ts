import type { FailureKind } from '../core/errors.js';

/** koncli's exit codes. Stable: scripts depend on them (documented in README and `--help`). */
export const ExitCode = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  BUSY: 3,
  LOST: 4,
  NOT_HELD: 5,
  NOT_FOUND: 6,
  FORBIDDEN: 7,
  UNREACHABLE: 8,
  CORRUPT: 9,
  REJECTED: 10,
} as const;

export const EXIT_CODE_TABLE: { code: number; name: string; meaning: string }[] = [
  { code: 0, name: 'ok', meaning: 'success (for `lease run`: the command exited 0)' },
  { code: 1, name: 'error', meaning: 'unexpected failure (API error, too many conflicts)' },
  { code: 2, name: 'usage', meaning: 'bad input: flags, names, durations, labels; nothing was changed' },
  { code: 3, name: 'busy', meaning: 'held by someone else, or --timeout reached while waiting' },
  {
    code: 4,
    name: 'lost',
    meaning: 'you are not (or no longer) the holder: renew refused, the claim lost during a `run` (expired, broken by a force, its entry removed)',
  },
  {
    code: 5,
    name: 'not-held',
    meaning: 'release/unlock of something someone else holds; a `--force` that found nobody holding it ("Absent things" in docs/exit-codes.md)',
  },
  { code: 6, name: 'not-found', meaning: 'the object, namespace or resource type does not exist' },
  { code: 7, name: 'forbidden', meaning: 'RBAC denied a request; the message names the verb and resource' },
  {
    code: 8,
    name: 'unreachable',
    meaning:
      'no usable cluster: kubeconfig/context problem, bad credentials, server unreachable or timed out; also a claim whose answer came too late to count (docs/clock.md)',
  },
  {
    code: 9,
    name: 'corrupt',
    meaning: "data on the cluster koncli will not interpret or overwrite (corrupt or foreign annotation, or JSON its writer's Go decoder would read otherwise)",
  },
  {
    code: 10,
    name: 'rejected',
    meaning:
      "the API server refused a request for a reason other than RBAC: admission (a webhook's denial, a quota, a namespace being terminated) or validation (HTTP 400/422); the message quotes the server. Also: the lock object itself is being deleted (deletionTimestamp set), so koncli writes no claim into it",
  },
];

export const EXIT_CODES_HELP = EXIT_CODE_TABLE.map((e) => `  ${String(e.code).padStart(2)}  ${e.name.padEnd(11)} ${e.meaning}`).join('\n');

const BY_KIND: Record<FailureKind, number> = {
  usage: ExitCode.USAGE,
  busy: ExitCode.BUSY,
  lost: ExitCode.LOST,
  'not-held': ExitCode.NOT_HELD,
  'not-found': ExitCode.NOT_FOUND,
  forbidden: ExitCode.FORBIDDEN,
  unreachable: ExitCode.UNREACHABLE,
  corrupt: ExitCode.CORRUPT,
  rejected: ExitCode.REJECTED,
  conflict: ExitCode.ERROR,
  error: ExitCode.ERROR,
};

export const exitCodeFor = (kind: FailureKind): number => BY_KIND[kind];
