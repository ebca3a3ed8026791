import { Flags } from '@oclif/core';
import type { ForceAuthor } from '../core/if-holder.js';
import type { KubeClient } from '../kube/client.js';
import { validateHolder } from './validate.js';

/** The flags every `--force` takes (issue 22): the holder it may break, and why. */
export const forceFlags = {
  'if-holder': Flags.string({
    multiple: true,
    description: 'with --force: break it only while this holder still holds it (guarded by resourceVersion; refused with exit 5 otherwise)',
  }),
  reason: Flags.string({ description: 'with --force: why you break it, recorded in the Event' }),
};

/** --if-holder values, validated (undefined when not given). */
export const ifHoldersFrom = (values: string[] | undefined): string[] | undefined => values?.map((h) => validateHolder(h, 'if-holder'));

/**
 * Who breaks it, for the Event: the Kubernetes user (as `kubectl auth whoami` tells) and the
 * identity koncli acts as ("user alice as oncall"); the identity alone when the API cannot tell.
 */
export async function forceAuthor(client: KubeClient, identity: string, reason: string | undefined): Promise<ForceAuthor> {
  const { whoAmI } = await import('../kube/whoami.js');
  const user = await whoAmI(client);
  return { by: user ? `user ${user} as ${identity}` : identity, reason };
}
