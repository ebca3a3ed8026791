import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { parseTtlSeconds } from '../../cli/duration.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class WaitGroupCreate extends PrimitiveCommand {
  static override summary = 'Create a wait group (a counter at 0)';
  static override description = `Creates the wait group NAME (a labelled ConfigMap: docs/formats.md) with its counter at 0. --ttl is konductor's spec.ttl, kept and shown (neither konductor's operator nor koncli deletes by it). An existing wait group is left as it is (outcome exists); a different --ttl is refused (exit 2).${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> waitgroup create workers --ttl 1h'];
  static override args = { name: primitiveNameArg('waitgroup') };
  static override flags = { ttl: Flags.string({ description: "konductor's cleanup TTL (kept and shown)" }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(WaitGroupCreate);
    const name = this.nameOf(args.name, 'waitgroup');
    const ttlSeconds = flags.ttl === undefined || flags.ttl === '0' ? undefined : parseTtlSeconds(flags.ttl);
    const ctx = await this.primitive('waitgroup');
    const { waitGroupKind, planWaitGroupCreate } = await import('../../core/primitives/waitgroup.js');
    const { result } = await this.verb(ctx, waitGroupKind, name, planWaitGroupCreate(name, ttlSeconds), { wait: false }, () => '');
    const doc = {
      kind: 'waitgroup',
      namespace: ctx.store.namespace,
      name,
      outcome: result.outcome,
      ttlSeconds: ttlSeconds ?? null,
      resourceVersion: result.object.version,
    };
    await this.output.result(doc, () => (result.outcome === 'created' ? `created waitgroup ${name}` : `waitgroup ${name} already exists`));
  }
}
