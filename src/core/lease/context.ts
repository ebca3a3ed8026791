import type { Clock } from '../clock.js';
import { ExpiryTracker, type ExpiryOptions } from '../expiry.js';
import type { ServerClock } from '../server-clock.js';
import type { LeaseStore } from './model.js';

export interface LeaseContext {
  store: LeaseStore;
  clock: Clock;
  tracker: ExpiryTracker;
  /**
   * Runs `fn` with every request it makes bounded by `timeoutMs` (instead of --request-timeout),
   * where the store supports it; a holder's renewal attempts use it (core/timing.ts).
   */
  withRequestTimeout?: <T>(timeoutMs: number, fn: () => Promise<T>) => Promise<T>;
}

export interface LeaseContextOptions extends ExpiryOptions {
  withRequestTimeout?: LeaseContext['withRequestTimeout'];
}

export const leaseContext = (store: LeaseStore, clock: Clock, serverClock: ServerClock, opts: LeaseContextOptions = {}): LeaseContext => ({
  store,
  clock,
  tracker: new ExpiryTracker(clock, serverClock, opts),
  withRequestTimeout: opts.withRequestTimeout,
});
