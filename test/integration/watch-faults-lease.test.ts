// Watch faults (test/integration/watch-faults.ts) for the Lease kinds' waiters and `lease run`'s holder.
import { describeWatchFaults, KINDS } from './watch-faults.js';

describeWatchFaults([KINDS.native, KINDS.konductor], [KINDS.native, KINDS.konductor]);
