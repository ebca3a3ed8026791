// Jest globalTeardown: stop the control plane only if globalSetup started it and the
// user did not ask to keep it (KONCLI_KEEP_CLUSTER=1 keeps it for the next run).
import { down } from '../cluster/plane.mjs';

export default async function globalTeardown() {
  if (!globalThis.__koncliStartedCluster) return;
  globalThis.__koncliStartedCluster = false;
  if (process.env.KONCLI_KEEP_CLUSTER) {
    process.stderr.write('[cluster] KONCLI_KEEP_CLUSTER set: leaving the control plane running\n');
    return;
  }
  await down();
  process.stderr.write('[cluster] control plane stopped\n');
}
