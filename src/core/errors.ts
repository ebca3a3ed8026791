/**
 * Failures the domain logic distinguishes. Adapters translate API errors into these;
 * the CLI maps each kind to a documented exit code.
 */
export type FailureKind =
  | 'usage' // bad input from the caller; nothing was sent
  | 'busy' // held by someone else, or the wait timed out
  | 'lost' // the caller is not (or no longer) the holder
  | 'not-held' // release/unlock of something the caller does not hold
  | 'not-found' // the object (or resource type) does not exist
  | 'forbidden' // RBAC said no
  | 'rejected' // the API server refused the request for another reason: admission (webhook, quota, namespace terminating) or validation (400/422)
  | 'unreachable' // no usable connection or credentials
  | 'corrupt' // data on the cluster koncli refuses to interpret or overwrite
  | 'conflict' // optimistic-concurrency conflict (409) or already exists
  | 'error'; // anything else

export class KoncliError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'KoncliError';
  }
}

export const usageError = (message: string) => new KoncliError('usage', message);

export class ConflictError extends KoncliError {
  constructor(message = 'the object changed since it was read', details: Record<string, unknown> = {}) {
    super('conflict', message, details);
  }
}

export const isKind = (err: unknown, kind: FailureKind): err is KoncliError => err instanceof KoncliError && err.kind === kind;
