// Watch faults (test/integration/watch-faults.ts) for the ConfigMap kinds' waiters: kube-lock semaphores and kubelock annotations.
import { describeWatchFaults, KINDS } from './watch-faults.js';

describeWatchFaults([KINDS.semaphore, KINDS.kubelock], []);
