import { Args, Flags } from '@oclif/core';
import type { LeaseKind } from './lease-session.js';

export const leaseNameArg = Args.string({ name: 'NAME', description: 'Lease name', required: true });

export const leaseKindFlag = Flags.option({
  description: 'which Lease API: native coordination.k8s.io/v1, or konductor.io/v1 (env KONCLI_LEASE_KIND)',
  options: ['native', 'konductor'] as const satisfies readonly LeaseKind[],
  env: 'KONCLI_LEASE_KIND',
  default: 'native' as const,
  helpGroup: 'CLUSTER',
})();

export const waitFlags = {
  wait: Flags.boolean({ description: 'wait (by watching the lease) until it can be had; without --timeout waits for ever' }),
  timeout: Flags.string({ description: 'give up waiting after this long (0: try once); implies --wait when not 0' }),
};

export const priorityFlag = Flags.integer({ description: 'waiters with a higher priority get the lease first', default: 0, min: -1000000, max: 1000000 });
export const labelsFlag = Flags.string({ description: 'labels for a Lease koncli creates, k=v,k2=v2' });
