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
