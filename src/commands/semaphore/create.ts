import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { SemaphoreCommand } from '../../cli/semaphore-command.js';
import { parseTtlSeconds } from '../../cli/duration.js';
import { semaphoreNameArg } from '../../cli/semaphore-flags.js';
import { openSemaphores } from '../../cli/semaphore-session.js';
import { validateObjectName } from '../../cli/validate.js';

export default class SemaphoreCreate extends SemaphoreCommand {
  static override summary = "Create a semaphore with N permits (konductor's `semaphore create`, as a kube-lock semaphore)";
  static override description = `Creates the ConfigMap NAME with a kube-lock annotation of max --permits (alias --max) and no holders (an existing ConfigMap without the annotation gets it). --ttl is the default TTL of its permits for \`semaphore acquire\`. An existing semaphore with the same settings is left as it is (outcome exists); other settings are refused (exit 2), nothing changed.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> semaphore create api-limit --permits 3', '<%= config.bin %> semaphore create api-limit --permits 3 --ttl 5m'];
  static override args = { name: semaphoreNameArg };
  static override flags = {
    permits: Flags.integer({ description: 'number of permits (kube-lock max)', default: 1, min: 1, max: 1_000_000, aliases: ['max'] }),
    ttl: Flags.string({ description: 'default TTL of a permit taken by `semaphore acquire` [default: 10m there]' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SemaphoreCreate);
    const name = validateObjectName(args.name, 'semaphore');
    const ttlSeconds = flags.ttl === undefined ? undefined : parseTtlSeconds(flags.ttl);
    if (this.onKonductor) return this.konductorCreate(name, flags.permits, ttlSeconds);
    const client = await this.kube();
    const ctx = await openSemaphores(client);
    const { createSemaphore } = await import('../../core/semaphore/create.js');
    const req = { name, namespace: client.namespace, max: flags.permits, ttlSeconds };
    const result = await createSemaphore(ctx, req);
    const doc = {
      kind: 'semaphore',
      namespace: client.namespace,
      name,
      outcome: result.outcome,
      max: flags.permits,
      ttlSeconds: ttlSeconds ?? null,
      resourceVersion: result.object.version,
    };
    await this.output.result(doc, () =>
      result.outcome === 'created' ? `created semaphore ${name} with ${flags.permits} permits` : `semaphore ${name} already exists`,
    );
  }
}
