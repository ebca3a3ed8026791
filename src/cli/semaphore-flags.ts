import { Args, Flags } from '@oclif/core';

export const semaphoreNameArg = Args.string({ name: 'NAME', description: 'semaphore name (the ConfigMap holding it)', required: true });

export const semaphoreWaitFlags = {
  wait: Flags.boolean({ description: 'wait (by watching the ConfigMap) until a slot frees; without --timeout waits for ever' }),
  timeout: Flags.string({ description: 'give up waiting after this long (0: try once); implies --wait when not 0' }),
};
