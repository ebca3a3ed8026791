import { Args, Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { holderFlag, holderFrom } from '../../cli/holder.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';
import { usageError } from '../../core/errors.js';
import { requiredOf } from '../../core/primitives/barrier.js';

export default class BarrierArrive extends PrimitiveCommand {
  static override summary = 'Signal arrival at a barrier (once per holder)';
  static override description = `Records the arrival of HOLDER (the second argument, else --holder, else KONCLI_HOLDER, else the host name: the Pod's name in a Pod) at the barrier NAME, guarded by its resourceVersion. Arriving again as the same holder changes nothing (outcome already-arrived). The arrival that reaches the quorum opens the barrier in the same write (opened: true, exactly one arrival gets it). Exit 6 when the barrier does not exist, 3 when it has failed (its --timeout passed).${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> barrier arrive extract-complete', '<%= config.bin %> barrier arrive extract-complete worker-3'];
  static override args = { name: primitiveNameArg('barrier'), holder: Args.string({ name: 'HOLDER', description: 'who arrives (konductor: [holder])' }) };
  static override flags = {
    holder: holderFlag,
    'wait-for-update': Flags.boolean({ description: "accepted for konductor's CLI: koncli's arrival is the update", hidden: true }),
    'update-timeout': Flags.string({ description: "accepted for konductor's CLI", hidden: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(BarrierArrive);
    const name = this.nameOf(args.name, 'barrier');
    if (args.holder !== undefined && flags.holder !== undefined && args.holder !== flags.holder)
      throw usageError(`two holders given: ${args.holder} (argument) and ${flags.holder} (--holder); give one`);
    const holder = holderFrom(args.holder ?? flags.holder);
    const ctx = await this.primitive('barrier');
    const { barrierKind, planBarrierArrive } = await import('../../core/primitives/barrier.js');
    const { result } = await this.verb(ctx, barrierKind, name, planBarrierArrive(name, ctx.store.namespace, holder, ctx.clock), { wait: false }, () => '');
    const s = result.state;
    const doc = {
      kind: 'barrier',
      namespace: ctx.store.namespace,
      name,
      holder,
      outcome: result.outcome,
      opened: result.opened,
      state: s.openedAt ? 'open' : 'waiting',
      arrived: s.arrivals.length,
      expected: s.expected,
      quorum: s.quorum ?? null,
      openedAt: s.openedAt,
      resourceVersion: result.object?.version ?? null,
    };
    const count = `${s.arrivals.length}/${requiredOf(s)}`;
    await this.output.result(doc, () =>
      result.outcome === 'already-arrived'
        ? `${holder} had already arrived at barrier ${name} (${count})`
        : `arrived at barrier ${name} as ${holder} (${count})${result.opened ? '; barrier opened' : ''}`,
    );
  }
}
