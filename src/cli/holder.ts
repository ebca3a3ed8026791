import { Flags } from '@oclif/core';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { validateHolder } from './validate.js';

/** KONCLI_HOLDER, else the host name, which inside a Pod is the Pod's name. */
export const defaultHolder = () => process.env.KONCLI_HOLDER || hostname();

/** --holder, else KONCLI_HOLDER, else the host name; validated. */
export const holderFrom = (flag: string | undefined): string => validateHolder(flag ?? defaultHolder());

/** `lease run`'s holder: --holder, else KONCLI_HOLDER, else the host name plus a random suffix (unique per run). */
export const runHolderFrom = (flag: string | undefined): string =>
  validateHolder(flag ?? (process.env.KONCLI_HOLDER || `${hostname()}-${randomBytes(4).toString('hex')}`));

/** --holder of the lease and semaphore commands. */
export const holderFlag = Flags.string({
  description: 'holder identity (env KONCLI_HOLDER; default: the host name, i.e. the Pod name inside a Pod)',
});
