import type { Clock } from '../clock.js';
import { ExpiryTracker } from '../expiry.js';
import type { ServerClock } from '../server-clock.js';
import type { LeaseStore } from './model.js';

export interface LeaseContext {
  store: LeaseStore;
  clock: Clock;
  tracker: ExpiryTracker;
}

export const leaseContext = (store: LeaseStore, clock: Clock, serverClock: ServerClock): LeaseContext => ({
  store,
  clock,
  tracker: new ExpiryTracker(clock, serverClock),
});

/** Retries a read-decide-write step while optimistic-concurrency conflicts last. */
export const MAX_CONFLICT_RETRIES = 50;
