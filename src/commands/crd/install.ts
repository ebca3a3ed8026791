import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION, KoncliCommand } from '../../cli/base-command.js';
import { formatDuration, parseDuration } from '../../cli/duration.js';
// Embedded by the build (esbuild's text loader), so the single executable needs no files beside it.
import leasesCrd from '../../../config/crd/konductor.io_leases.yaml';
import mutexesCrd from '../../../config/crd/konductor.io_mutexes.yaml';
import oncesCrd from '../../../config/crd/konductor.io_onces.yaml';
import rwmutexesCrd from '../../../config/crd/konductor.io_rwmutexes.yaml';
import barriersCrd from '../../../config/crd/konductor.io_barriers.yaml';
import waitgroupsCrd from '../../../config/crd/konductor.io_waitgroups.yaml';
import gatesCrd from '../../../config/crd/konductor.io_gates.yaml';
import semaphoresCrd from '../../../config/crd/konductor.io_semaphores.yaml';
import permitsCrd from '../../../config/crd/konductor.io_permits.yaml';
import { CRD_ESTABLISHED_TIMEOUT_SECONDS } from '../../core/timing.js';
import type { CrdInstallResult, CrdManifest } from '../../kube/crd.js';

/** The CRDs installed, in this order (the Lease first: its result is the document's top level). */
const MANIFESTS = [leasesCrd, mutexesCrd, oncesCrd, rwmutexesCrd, barriersCrd, waitgroupsCrd, gatesCrd, semaphoresCrd, permitsCrd];

export default class CrdInstall extends KoncliCommand {
  static override summary =
    'Install (or update) the konductor.io/v1 Lease, Mutex, Once, RWMutex, Barrier, WaitGroup, Gate, Semaphore and Permit CustomResourceDefinitions';
  static override description = `Creates the CustomResourceDefinitions leases.konductor.io, mutexes.konductor.io, onces.konductor.io, rwmutexes.konductor.io, barriers.konductor.io, waitgroups.konductor.io, gates.konductor.io, semaphores.konductor.io and permits.konductor.io, or updates existing ones (guarded by their resourceVersion), then waits until the API server reports each Established. Needs the right to create and patch customresourcedefinitions (cluster-admin). With --dry-run, prints the manifests and sends nothing. After it, use them with \`koncli lease|mutex|once|rwmutex|barrier|waitgroup|gate|semaphore … --kind konductor\` (see docs/konductor.md). With --json, the Lease's result, and every CRD's in \`items\`.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> crd install',
    '<%= config.bin %> crd install --dry-run > konductor.io.yaml',
    '<%= config.bin %> crd install --timeout 2m --json',
  ];
  static override flags = {
    'dry-run': Flags.boolean({ description: 'print the CustomResourceDefinition on stdout and change nothing' }),
    timeout: Flags.string({
      description: 'how long to wait for the CRD to become Established (0: do not wait)',
      default: `${CRD_ESTABLISHED_TIMEOUT_SECONDS}s`,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(CrdInstall);
    const timeoutMs = parseDuration(flags.timeout, 'timeout');
    const yaml = await import('yaml');
    // The bundle exposes this CommonJS package only as a default export.
    const { parse } = 'parse' in yaml ? yaml : (yaml as { default: typeof yaml }).default;
    const manifests = MANIFESTS.map((text) => ({ text, json: parse(text) as CrdManifest['json'] }));
    if (flags['dry-run']) {
      // With --json, a kubectl List of the CRDs (kubectl apply -f accepts it).
      await this.output.result({ apiVersion: 'v1', kind: 'List', items: manifests.map((m) => m.json) }, () =>
        manifests.map((m) => m.text.trimEnd()).join('\n---\n'),
      );
      return;
    }
    // Named imports only: importing client-node's namespace would keep all of it in every command's bundle.
    const { installCrd, typedCrd } = await import('../../kube/crd.js');
    const client = await this.kube();
    const results: CrdInstallResult[] = [];
    for (const { text, json } of manifests) results.push(await installCrd(client, { typed: typedCrd(text), json }, { timeoutMs }));
    await this.output.result({ ...results[0], items: results }, () => results.map(describe).join('\n'));
  }
}

function describe(result: CrdInstallResult): string {
  const state = result.established ? 'Established' : 'not waited for: check with kubectl get crd ' + result.name;
  return `customresourcedefinition ${result.name} ${result.outcome} (${state}${result.waitedMs >= 1000 ? ` after ${formatDuration(result.waitedMs)}` : ''})`;
}
