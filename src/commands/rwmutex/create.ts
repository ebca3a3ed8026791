import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { parseTtlSeconds } from '../../cli/duration.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class RWMutexCreate extends PrimitiveCommand {
  static override summary = 'Create an rwmutex (a labelled ConfigMap; `rwmutex rlock`/`lock` also create it)';
  static override description = `Creates the rwmutex NAME, free, with an optional default TTL for its locks (konductor's spec.ttl). An existing rwmutex with the same settings is left as it is (outcome exists); a different --ttl is refused (exit 2). A ConfigMap of that name that is not a koncli rwmutex is refused (exit 9).${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> rwmutex create cache-lock', '<%= config.bin %> rwmutex create cache-lock --ttl 5m'];
  static override args = { name: primitiveNameArg('rwmutex') };
  static override flags = { ttl: Flags.string({ description: 'default TTL of a lock (rlock/lock --ttl override it) [default: 5m]' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RWMutexCreate);
    const name = this.nameOf(args.name, 'rwmutex');
    const ttlSeconds = flags.ttl === undefined ? undefined : parseTtlSeconds(flags.ttl);
    const ctx = await this.primitive('rwmutex');
    const { rwmutexKind, planRWCreate } = await import('../../core/primitives/rwmutex.js');
    const { result } = await this.verb(ctx, rwmutexKind, name, planRWCreate(name, ttlSeconds), { wait: false }, () => '');
    const doc = {
      kind: 'rwmutex',
      namespace: ctx.store.namespace,
      name,
      outcome: result.outcome,
      ttlSeconds: ttlSeconds ?? null,
      resourceVersion: result.object.version,
    };
    await this.output.result(doc, () => (result.outcome === 'created' ? `created rwmutex ${name}` : `rwmutex ${name} already exists`));
  }
}
