import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { formatDuration, parseTtlSeconds } from '../../cli/duration.js';
import { holderFlag, holderFrom } from '../../cli/holder.js';
import { PrimitiveCommand, primitiveNameArg, primitiveWaitFlags } from '../../cli/primitive-command.js';
import { waitOptions } from '../../cli/wait-options.js';
import { heldDoc } from '../../core/claim/describe.js';

export default class MutexLock extends PrimitiveCommand {
  static override summary = 'Lock a mutex: one holder at a time (konductor compatible, no operator)';
  static override description = `Takes the mutex NAME (a ConfigMap, created when absent: docs/formats.md) for --holder. Locking again as the holder re-stamps its TTL. A hold lapses --ttl after its last lock (judged on each machine's own clock: docs/clock.md), so a crashed holder does not block for ever. Without --wait or --timeout, tries once and exits 3 when held; with them, watches the mutex and takes it as soon as it is free or lapsed.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> mutex lock db-migration',
    '<%= config.bin %> mutex lock db-migration --holder $HOSTNAME --ttl 10m',
    '<%= config.bin %> mutex lock db-migration --wait --timeout 1m',
  ];
  static override args = { name: primitiveNameArg('mutex') };
  static override flags = {
    holder: holderFlag,
    ttl: Flags.string({ description: "the hold lapses this long after the last lock [default: the mutex's --ttl, else 5m]" }),
    reason: Flags.string({ description: 'why you hold it (shown by status)' }),
    ...primitiveWaitFlags('the mutex is free'),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MutexLock);
    const name = this.nameOf(args.name, 'mutex');
    const holder = holderFrom(flags.holder);
    const ttlSeconds = flags.ttl === undefined ? undefined : parseTtlSeconds(flags.ttl);
    const wait = waitOptions(flags);
    const ctx = await this.primitive('mutex');
    const { mutexKind, planMutexLock } = await import('../../core/primitives/mutex.js');
    const { result, waitedMs } = await this.verb(
      ctx,
      mutexKind,
      name,
      planMutexLock({ name, holder, ttlSeconds, reason: flags.reason }, ctx.clock),
      wait,
      () => `locked mutex ${name}`,
    );
    const ttl = result.claim.ttlSeconds!;
    const doc = {
      ...heldDoc({ kind: 'mutex', namespace: ctx.store.namespace, name, holder }, result, waitedMs, ctx.clock),
      previousHolder: result.previousHolder ?? null,
    };
    await this.output.result(
      doc,
      () => `${result.outcome} mutex ${name} as ${holder} for ${formatDuration(ttl * 1000)} (fencing token ${result.fencingToken})`,
    );
  }
}
