import { sleepFor } from './timer.js';

/** Local time source; injectable so core algorithms can be tested deterministically. */
export interface Clock {
  /** Milliseconds since the epoch on this machine. */
  now(): number;
  /** Resolves `ms` from now however long that is (never early: see timer.ts), or when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, signal),
};
