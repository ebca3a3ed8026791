import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { parseTtlSeconds } from '../../cli/duration.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class OnceCreate extends PrimitiveCommand {
  static override summary = 'Create a once (a labelled ConfigMap; `once run` also creates it)';
  static override description = `Creates the once NAME, not yet executed. With --ttl (konductor's cleanup TTL), a completed run counts for that long after it finished; then \`once check\` says not executed and \`once run\` runs again. An existing once with the same settings is left as it is; a different --ttl is refused (exit 2).${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> once create app-init', '<%= config.bin %> once create app-init --ttl 1h'];
  static override args = { name: primitiveNameArg('once') };
  static override flags = {
    ttl: Flags.string({ description: 'a completed run counts this long after it finished [default: for ever]' }),
    timeout: Flags.string({ description: "accepted for konductor's CLI; koncli bounds each request by --request-timeout", hidden: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(OnceCreate);
    const name = this.nameOf(args.name, 'once');
    const ttlSeconds = flags.ttl === undefined ? undefined : parseTtlSeconds(flags.ttl);
    const ctx = await this.primitive('once');
    const { onceKind, planOnceCreate } = await import('../../core/primitives/once.js');
    const { result } = await this.verb(ctx, onceKind, name, planOnceCreate(name, ttlSeconds), { wait: false }, () => '');
    const doc = {
      kind: 'once',
      namespace: ctx.store.namespace,
      name,
      outcome: result.outcome,
      ttlSeconds: ttlSeconds ?? null,
      resourceVersion: result.object.version,
    };
    await this.output.result(doc, () => (result.outcome === 'created' ? `created once ${name}` : `once ${name} already exists`));
  }
}
