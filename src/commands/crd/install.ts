import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION, KoncliCommand } from '../../cli/base-command.js';
import { formatDuration, parseDuration } from '../../cli/duration.js';
// Embedded by the build (esbuild's text loader), so the single executable needs no files beside it.
import crdManifest from '../../../config/crd/konductor.io_leases.yaml';
import { CRD_ESTABLISHED_TIMEOUT_SECONDS } from '../../core/timing.js';
import type { CrdManifest } from '../../kube/crd.js';

export default class CrdInstall extends KoncliCommand {
  static override summary = 'Install (or update) the konductor.io/v1 Lease CustomResourceDefinition';
  static override description = `Creates the CustomResourceDefinition leases.konductor.io, or updates an existing one (guarded by its resourceVersion), then waits until the API server reports it Established. Needs the right to create and patch customresourcedefinitions (cluster-admin). With --dry-run, prints the manifest and sends nothing. After it, use the Leases with \`koncli lease … --kind konductor\` (see docs/konductor.md).${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> crd install',
    '<%= config.bin %> crd install --dry-run > konductor.io_leases.yaml',
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
    const text = crdManifest;
    const yaml = await import('yaml');
    // The bundle exposes this CommonJS package only as a default export.
    const { parse } = 'parse' in yaml ? yaml : (yaml as { default: typeof yaml }).default;
    const json = parse(text) as CrdManifest['json'];
    if (flags['dry-run']) {
      await this.output.result(json, () => text.trimEnd());
      return;
    }
    // Named imports only: importing client-node's namespace would keep all of it in every command's bundle.
    const { installCrd, typedCrd } = await import('../../kube/crd.js');
    const result = await installCrd(await this.kube(), { typed: typedCrd(text), json }, { timeoutMs });
    await this.output.result(result, () => {
      const state = result.established ? 'Established' : 'not waited for: check with kubectl get crd ' + result.name;
      return `customresourcedefinition ${result.name} ${result.outcome} (${state}${result.waitedMs >= 1000 ? ` after ${formatDuration(result.waitedMs)}` : ''})`;
    });
  }
}
