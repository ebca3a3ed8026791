import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { parseTtlSeconds } from '../../cli/duration.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class MutexCreate extends PrimitiveCommand {
  static override summary = 'Create a mutex (a labelled ConfigMap; `mutex lock` also creates it)';
  static override description = `Creates the mutex NAME, free, with an optional default TTL for its holds (konductor's spec.ttl). An existing mutex with the same settings is left as it is (outcome exists); a different --ttl is refused (exit 2). A ConfigMap of that name that is not a koncli mutex is refused (exit 9).${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> mutex create db-migration', '<%= config.bin %> mutex create db-migration --ttl 10m'];
  static override args = { name: primitiveNameArg('mutex') };
  static override flags = { ttl: Flags.string({ description: 'default TTL of a hold (lock --ttl overrides it) [default: 5m]' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MutexCreate);
    const name = this.nameOf(args.name, 'mutex');
    const ttlSeconds = flags.ttl === undefined ? undefined : parseTtlSeconds(flags.ttl);
    const ctx = await this.primitive('mutex');
    const { mutexKind, planMutexCreate } = await import('../../core/primitives/mutex.js');
    const { result } = await this.verb(ctx, mutexKind, name, planMutexCreate(name, ttlSeconds), { wait: false }, () => '');
    const doc = {
      kind: 'mutex',
      namespace: ctx.store.namespace,
      name,
      outcome: result.outcome,
      ttlSeconds: ttlSeconds ?? null,
      resourceVersion: result.object.version,
    };
    await this.output.result(doc, () => (result.outcome === 'created' ? `created mutex ${name}` : `mutex ${name} already exists`));
  }
}
