import { Args, Flags } from '@oclif/core';

export const semaphoreNameArg = Args.string({ name: 'NAME', description: 'semaphore name (the ConfigMap holding it)', required: true });

export const semaphoreWaitFlags = {
  wait: Flags.boolean({ description: 'wait (by watching the ConfigMap) until a slot frees; without --timeout waits for ever' }),
  timeout: Flags.string({ description: 'give up waiting after this long (0: try once); implies --wait when not 0' }),
};

/** --max and --set-max of the verbs that take a slot: the stored max is authoritative (docs/semaphore.md). */
export const semaphoreMaxFlags = {
  max: Flags.integer({
    description: 'number of slots: for a new semaphore [default: 1]; for an existing one it must match, unless --set-max',
    min: 1,
    max: 1_000_000,
    aliases: ['permits'], // konductor's word
  }),
  'set-max': Flags.boolean({ description: "change the semaphore's stored max to --max (lowering it evicts nobody)", dependsOn: ['max'] }),
};
