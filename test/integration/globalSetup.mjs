// Jest globalSetup for the integration and reliability projects: start the local control
// plane (or reuse a running one) and hand its kubeconfigs to the tests through env vars.
import { up } from '../cluster/plane.mjs';

const CLUSTER_PROJECTS = ['integration', 'reliability'];

export default async function globalSetup(globalConfig) {
  if (process.env.KONCLI_NO_CLUSTER) return;
  const selected = globalConfig?.selectProjects;
  if (selected?.length && !selected.some((p) => CLUSTER_PROJECTS.includes(p))) return;

  const log = (m) => process.stderr.write(`[cluster] ${m}\n`);
  const { state, reused, seconds } = await up({ log });
  log(reused ? `reusing control plane at ${state.server}` : `control plane ${state.version} ready at ${state.server} in ${seconds.toFixed(1)} s`);
  // Read back by globalTeardown (same process) so it only stops what we started.
  globalThis.__koncliStartedCluster = !reused;
  process.env.KONCLI_TEST_KUBECONFIG = state.kubeconfig.admin;
  process.env.KONCLI_TEST_RESTRICTED_KUBECONFIG = state.kubeconfig.restricted;
  process.env.KONCLI_TEST_RESTRICTED_NAMESPACE = state.restrictedNamespace;
}
